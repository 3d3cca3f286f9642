//! The end-to-end harness: a Lambda Runtime API emulator, the release
//! binaries run under it, API Gateway events, and a real SQS-compatible
//! server (moto, started by the Makefile) to read the queue back.
//!
//! A fault-injecting proxy goes between a function and SQS where a test
//! needs SQS to fail, and the load run drives every provider's function at once.
//!
//! Environment: `HOOKGATE_TEST_SQS_ENDPOINT` (the local SQS server, set by
//! `make test`) and optionally `HOOKGATE_BIN_DIR` (default
//! `target/release`).

pub mod apigw;
pub mod fronts;
pub mod function;
pub mod load;
pub mod providers;
pub mod proxy;
pub mod runtime;
pub mod sqs;
