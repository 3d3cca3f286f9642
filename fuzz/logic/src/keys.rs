//! Keys and gates the targets share, built once per process.
//!
//! Two sets of credentials:
//! - *known* ones (the repository's local secrets and TEST-ONLY Panjaya
//!   key, the same that signed `events/`), with which the targets sign the
//!   fuzzer's bodies to reach the code behind verification;
//! - *unknown* ones for the pipeline targets, which no input can satisfy:
//!   any 2xx there is an unauthenticated request let in.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use hookgate::providers::{Namirial, Panjaya, Redner, Syncso};
use hookgate::{Config, Gate, MemorySink};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey, signature::Signer as _};

/// The repository's TEST-ONLY Panjaya key pair (it signed `events/panjaya`).
pub const TEST_PUBLIC_KEY: &str =
    include_str!("../../../shared/tests/fixtures/panjaya/TEST-ONLY-public-key.pem");
const TEST_PRIVATE_KEY: &str =
    include_str!("../../../shared/tests/fixtures/panjaya/TEST-ONLY-private-key.pem");

/// The local secrets of `env.json`, which signed `events/`.
pub const REDNER_SECRET: &str = "local-redner-secret";
/// sync.so's local secret.
pub const SYNCSO_SECRET: &str = "whsec_local_syncso_secret";
/// Namirial's local token.
pub const NAMIRIAL_TOKEN: &str = "local-namirial-token-0123456789";

/// The time the `events/` were signed at, and every known gate's clock.
pub const NOW: i64 = 1_763_901_296;
/// sync.so's freshness window.
pub const TOLERANCE: i64 = 300;

/// The fixed clock time.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(NOW, 0).expect("a valid time")
}

/// The TEST-ONLY signing key.
pub fn signing_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let (label, der) = pem_rfc7468::decode_vec(TEST_PRIVATE_KEY.as_bytes()).expect("PEM");
        assert_eq!(label, "PRIVATE KEY");
        // A PKCS#8 P-256 key without parameters: the 32-byte scalar sits
        // after a fixed 36-byte prefix (checked against the public key below).
        let key = SigningKey::from_slice(&der[36..68]).expect("a P-256 scalar");
        let (_, spki) = pem_rfc7468::decode_vec(TEST_PUBLIC_KEY.as_bytes()).expect("PEM");
        let point = key.verifying_key().to_encoded_point(false);
        assert!(
            spki.ends_with(point.as_bytes()),
            "the test key pair matches"
        );
        key
    })
}

/// The TEST-ONLY public key.
pub fn verifying_key() -> &'static VerifyingKey {
    signing_key().verifying_key()
}

/// An ES256 signature over `body` with the test key, deterministic
/// (RFC 6979), as DER or as 64-byte `r||s`.
pub fn es256_sign(body: &[u8], der: bool) -> Vec<u8> {
    let sig: Signature = signing_key().sign(body);
    if der {
        sig.to_der().as_bytes().to_vec()
    } else {
        sig.to_bytes().to_vec()
    }
}

/// The four gates of one credential set.
#[derive(Debug)]
pub struct Gates {
    /// Panjaya.
    pub panjaya: Gate<Panjaya, MemorySink>,
    /// sync.so.
    pub syncso: Gate<Syncso, MemorySink>,
    /// Namirial.
    pub namirial: Gate<Namirial, MemorySink>,
    /// Redner.
    pub redner: Gate<Redner, MemorySink>,
}

fn gates(vars: &[(&'static str, &'static str)]) -> Gates {
    let mut src: HashMap<&str, &str> = vars.iter().copied().collect();
    src.insert(
        "QUEUE_URL",
        "https://sqs.us-east-1.amazonaws.com/123456789012/fuzz",
    );
    let clock: hookgate::Clock = Arc::new(now);
    macro_rules! gate {
        () => {
            Gate::new(
                Config::from_source(&src).expect("fuzz configuration"),
                MemorySink::default(),
            )
            .with_clock(Arc::clone(&clock))
        };
    }
    Gates {
        panjaya: gate!(),
        syncso: gate!(),
        namirial: gate!(),
        redner: gate!(),
    }
}

/// Gates holding the known credentials.
pub fn known() -> &'static Gates {
    static GATES: OnceLock<Gates> = OnceLock::new();
    GATES.get_or_init(|| {
        gates(&[
            ("PANJAYA_PUBLIC_KEYS", TEST_PUBLIC_KEY),
            ("REDNER_WEBHOOK_SECRETS", REDNER_SECRET),
            ("SYNCSO_WEBHOOK_SECRETS", SYNCSO_SECRET),
            // The payload target also signs with X-Signature-Primary.
            ("SYNCSO_ACCEPT_UNTIMED", "true"),
            ("NAMIRIAL_TOKENS", NAMIRIAL_TOKEN),
        ])
    })
}

/// Gates whose credentials appear nowhere but here, so no input carries
/// them. Panjaya's is its published key, whose private half nobody here has.
pub fn unknown() -> &'static Gates {
    static GATES: OnceLock<Gates> = OnceLock::new();
    GATES.get_or_init(|| {
        gates(&[
            (
                "REDNER_WEBHOOK_SECRETS",
                "fuzz-unknown-9f1c2e7a4b6d8f03a5c7e9b1d3f5a7c9",
            ),
            (
                "SYNCSO_WEBHOOK_SECRETS",
                "whsec_fuzz_unknown_4e8a1c6f2b9d7e3a5c1f8b6d4a2e9c7f",
            ),
            (
                "NAMIRIAL_TOKENS",
                "fuzz-unknown-token-7d2b9f4e1a8c6e3b5f9d2a7c4e1b8f6d",
            ),
            ("NAMIRIAL_ALLOWED_CIDRS", "0.0.0.0/0,::/0"),
            // A huge window: staleness must not be what refuses the fuzzer.
            ("SYNCSO_TOLERANCE_SECONDS", "9000000000"),
        ])
    })
}

/// Runs a future that never waits on anything external (the gates send to
/// memory) to completion.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    thread_local! {
        static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a tokio runtime");
    }
    RT.with(|rt| rt.block_on(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier as _;

    #[test]
    fn test_key_signs_what_it_verifies() {
        let sig = Signature::from_der(&es256_sign(b"{}", true)).unwrap();
        assert!(verifying_key().verify(b"{}", &sig).is_ok());
        let _ = known();
        let _ = unknown();
    }
}
