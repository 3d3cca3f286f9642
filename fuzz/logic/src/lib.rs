//! The properties hookgate's fuzz targets check, one `pub fn` per target.
//!
//! Each function takes the fuzzer's bytes and panics (with `assert!`) when a
//! property is violated. `fuzz/fuzz_targets/<name>.rs` calls `<name>` under
//! libFuzzer (nightly, `cargo fuzz run <name>`), and `tests/corpus.rs` replays
//! every file of `fuzz/corpus/<name>/` through the same function on stable,
//! so the corpus the fuzzers grew is a regression suite in `cargo test`.
//!
//! Inputs are mostly text, so the corpus seeds are readable and can be
//! written by hand: a flags byte, then lines, then a body (see [`input`]).
//! A `*` in a credential line stands for the valid credential for the
//! input's body, so the fuzzer explores the parsers around a signature it
//! could never forge, and the seeds stay valid when the body mutates.

// Panicking on a violated property is this crate's whole purpose: the
// workspace's no-panic lints are for code that serves requests.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

pub mod headers;
pub mod input;
pub mod keys;
pub mod payload;
pub mod pipeline;

pub use headers::{es256_header, hmac_header, namirial_token, timestamped_header};
pub use payload::{json_strict, payload};
pub use pipeline::{lambda_event, pipeline};

/// A target's checks: panics when a property is violated.
pub type Target = fn(&[u8]);

/// Every target, by name: the corpus directory and the fuzz target share it.
pub const TARGETS: &[(&str, Target)] = &[
    ("es256_header", es256_header),
    ("hmac_header", hmac_header),
    ("timestamped_header", timestamped_header),
    ("namirial_token", namirial_token),
    ("json_strict", json_strict),
    ("payload", payload),
    ("pipeline", pipeline),
    ("lambda_event", lambda_event),
];
