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
use hookgate::providers::{Credential, CredentialKind, REGISTRY, Registered};
use hookgate::verify::Secret;
use hookgate::verify::es256::test_key;
use hookgate::{AnyGate, MemorySink};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey, signature::Signer as _};

/// The repository's TEST-ONLY Panjaya key pair (it signed `events/panjaya`).
pub const TEST_PUBLIC_KEY: &str = test_key::PUBLIC_PEM;

/// The time the `events/` were signed at, and every known gate's clock.
pub const NOW: i64 = 1_763_901_296;
/// sync.so's freshness window.
pub const TOLERANCE: i64 = 300;

/// The fixed clock time.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(NOW, 0).expect("a valid time")
}

/// Each function's local settings in env.json, by the variable that holds
/// its credentials.
fn local_settings() -> &'static HashMap<String, HashMap<String, String>> {
    static SETTINGS: OnceLock<HashMap<String, HashMap<String, String>>> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let functions: HashMap<String, HashMap<String, String>> =
            serde_json::from_str(include_str!("../../../env.json")).expect("env.json");
        REGISTRY
            .iter()
            .map(|r| {
                let vars = functions
                    .values()
                    .find(|vars| vars.contains_key(r.credential_var()))
                    .unwrap_or_else(|| panic!("env.json configures {}", r.slug));
                (r.slug.to_owned(), vars.clone())
            })
            .collect()
    })
}

/// The shared secret or token of `slug`'s local function (env.json's, the
/// one that signed `events/`).
pub fn secret(slug: &str) -> &'static str {
    let r = hookgate::providers::registered(slug).expect("a registered provider");
    local_settings()[slug][r.credential_var()]
        .split(',')
        .next()
        .expect("a credential")
}

/// The credential that signs as `r`'s sender with the local settings.
pub fn credential(r: &Registered) -> Credential {
    match r.sender.credential {
        CredentialKind::PrivateKey => Credential::PrivateKey(test_key::signing_key()),
        CredentialKind::Secret | CredentialKind::Token => {
            Credential::Shared(Secret::new(secret(r.slug).as_bytes()))
        }
    }
}

/// The TEST-ONLY signing key, for the independent ES256 implementation.
pub fn signing_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let (label, der) = pem_rfc7468::decode_vec(test_key::PRIVATE_PEM.as_bytes()).expect("PEM");
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

/// One registered provider's gate, with the memory it sends to.
pub struct Gate {
    /// The provider.
    pub provider: &'static Registered,
    /// Its gate.
    pub gate: AnyGate,
    /// What the gate sent.
    pub sink: MemorySink,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("provider", &self.provider.slug)
            .finish_non_exhaustive()
    }
}

/// A gate per registered provider, each configured by `vars(provider)`.
fn gates(vars: impl Fn(&Registered) -> HashMap<String, String>) -> Vec<Gate> {
    let clock: hookgate::Clock = Arc::new(now);
    REGISTRY
        .iter()
        .map(|provider| {
            let mut src = vars(provider);
            src.insert(
                "QUEUE_URL".into(),
                "https://sqs.us-east-1.amazonaws.com/123456789012/fuzz".into(),
            );
            let sink = MemorySink::default();
            let gate = (provider.gate)(&src, sink.clone(), Arc::clone(&clock))
                .expect("fuzz configuration");
            Gate {
                provider,
                gate,
                sink,
            }
        })
        .collect()
}

/// Gates holding the known credentials: env.json's local settings, with
/// every signing style the provider has accepted.
pub fn known() -> &'static [Gate] {
    static GATES: OnceLock<Vec<Gate>> = OnceLock::new();
    GATES.get_or_init(|| {
        gates(|r| {
            let mut vars = local_settings()[r.slug].clone();
            vars.retain(|k, _| !k.ends_with("QUEUE_URL") && !k.starts_with("AWS_"));
            for (var, value) in r.sender.styles.iter().filter_map(|s| s.requires) {
                vars.insert(var.into(), value.into());
            }
            vars
        })
    })
}

/// Gates whose credentials appear nowhere but here, so no input carries
/// them. A private-key provider keeps its default, the provider's
/// published key, whose private half nobody here has. Every style is
/// accepted, so every credential parser is reached.
pub fn unknown() -> &'static [Gate] {
    static GATES: OnceLock<Vec<Gate>> = OnceLock::new();
    GATES.get_or_init(|| {
        gates(|r| {
            let mut vars: HashMap<String, String> = r
                .sender
                .styles
                .iter()
                .filter_map(|s| s.requires)
                .map(|(var, value)| (var.into(), value.into()))
                .collect();
            if r.sender.credential != CredentialKind::PrivateKey {
                vars.insert(
                    r.credential_var().into(),
                    format!("fuzz-unknown-{}-9f1c2e7a4b6d8f03a5c7e9b1d3f5a7c9", r.slug),
                );
            }
            vars
        })
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
        assert_eq!(known().len(), REGISTRY.len());
        assert_eq!(unknown().len(), REGISTRY.len());
        for (k, r) in known().iter().zip(REGISTRY.iter()) {
            assert_eq!(k.gate.slug(), r.slug);
        }
        assert_eq!(secret("redner"), "local-redner-secret");
    }
}
