//! Signing a payload exactly as each provider does, so a delivery made here
//! goes through the same checks as the provider's own.
//!
//! The MACs are the library's own functions (`hmac::sign`,
//! `TimestampedScheme::header_value`): the CLI cannot drift from what the
//! functions verify. Panjaya's ES256 signature needs the private half of a
//! key pair, which only Panjaya holds for its published key; locally the
//! function is configured with a test key pair instead.

use std::fmt;
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use clap::ValueEnum;
use hookgate::verify::TimestampedScheme;
use hookgate::verify::hmac::sign;

use crate::CliError;

/// The providers hookgate receives from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Provider {
    /// Redner: HMAC-SHA256 in `X-Redner-Signature`.
    Redner,
    /// sync.so: `Sync-Signature` (timestamped) or `X-Signature-Primary`.
    Syncso,
    /// Panjaya: ES256 in `X-Signature`.
    Panjaya,
    /// Namirial: a shared token in the query string or `X-Webhook-Token`.
    Namirial,
}

impl Provider {
    /// The slug: binary name, path segment, envelope `source`.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Redner => "redner",
            Self::Syncso => "syncso",
            Self::Panjaya => "panjaya",
            Self::Namirial => "namirial",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Redner => "Redner",
            Self::Syncso => "sync.so",
            Self::Panjaya => "Panjaya",
            Self::Namirial => "Namirial",
        }
    }
}

/// The signing options as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--secret` (Redner, sync.so).
    pub secret: Option<String>,
    /// `--key` (Panjaya): a private key PEM file.
    pub key: Option<PathBuf>,
    /// `--token` (Namirial).
    pub token: Option<String>,
    /// `--plain` (sync.so): `X-Signature-Primary` instead of `Sync-Signature`.
    pub plain: bool,
    /// `--token-header` (Namirial): `X-Webhook-Token` instead of `?token=`.
    pub token_header: bool,
    /// `--timestamp` (sync.so): the signed `t`, Unix seconds.
    pub timestamp: Option<i64>,
    /// `--unsigned`: no credential at all.
    pub unsigned: bool,
}

/// A secret string whose `Debug` never shows it.
#[derive(Clone)]
pub struct Hidden(String);

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How one delivery is signed, with its credential loaded.
pub enum Signer {
    /// `X-Redner-Signature: sha256=<hex>`.
    Redner(Hidden),
    /// `Sync-Signature: t=<t>,v1=<hex>`.
    SyncsoTimestamped(Hidden, i64),
    /// `X-Signature-Primary: <hex>`.
    SyncsoPlain(Hidden),
    /// `X-Signature: <hex DER>` and `X-Signature-Algorithm: ES256`.
    Panjaya(Box<EcdsaKeyPair>),
    /// `?token=<token>`.
    NamirialQuery(Hidden),
    /// `X-Webhook-Token: <token>`.
    NamirialHeader(Hidden),
    /// No credential.
    Unsigned,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Redner(_) => "Redner",
            Self::SyncsoTimestamped(..) => "SyncsoTimestamped",
            Self::SyncsoPlain(_) => "SyncsoPlain",
            Self::Panjaya(_) => "Panjaya",
            Self::NamirialQuery(_) => "NamirialQuery",
            Self::NamirialHeader(_) => "NamirialHeader",
            Self::Unsigned => "Unsigned",
        };
        f.write_str(name)
    }
}

/// What signing adds to a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signature {
    /// Headers, names in lower case.
    pub headers: Vec<(&'static str, String)>,
    /// A query parameter to add to the URL, value not yet encoded.
    pub query: Option<(&'static str, String)>,
}

impl Signer {
    /// Loads the credential for `provider` from `opts`, else from the
    /// provider's environment variable (read through `env`), refusing
    /// options that do not apply to the provider.
    pub fn new(
        provider: Provider,
        opts: &Options,
        now: i64,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, CliError> {
        let allowed: &[&str] = match provider {
            Provider::Redner => &["--secret"],
            Provider::Syncso => &["--secret", "--plain", "--timestamp"],
            Provider::Panjaya => &["--key"],
            Provider::Namirial => &["--token", "--token-header"],
        };
        let given = [
            ("--secret", opts.secret.is_some()),
            ("--key", opts.key.is_some()),
            ("--token", opts.token.is_some()),
            ("--plain", opts.plain),
            ("--token-header", opts.token_header),
            ("--timestamp", opts.timestamp.is_some()),
        ];
        if let Some((flag, _)) = given
            .iter()
            .find(|(flag, set)| *set && !allowed.contains(flag))
        {
            return Err(CliError::new(format!(
                "{flag} does not apply to {}; it takes {}",
                provider.slug(),
                allowed.join(", ")
            )));
        }
        if opts.unsigned {
            return Ok(Self::Unsigned);
        }
        Ok(match provider {
            Provider::Redner => Self::Redner(secret(
                provider,
                opts.secret.as_deref(),
                "REDNER_WEBHOOK_SECRETS",
                env,
            )?),
            Provider::Syncso => {
                let s = secret(
                    provider,
                    opts.secret.as_deref(),
                    "SYNCSO_WEBHOOK_SECRETS",
                    env,
                )?;
                if opts.plain {
                    Self::SyncsoPlain(s)
                } else {
                    Self::SyncsoTimestamped(s, opts.timestamp.unwrap_or(now))
                }
            }
            Provider::Panjaya => {
                let path = match &opts.key {
                    Some(p) => p.clone(),
                    None => env("PANJAYA_PRIVATE_KEY")
                        .filter(|p| !p.trim().is_empty())
                        .map(PathBuf::from)
                        .ok_or_else(|| {
                            CliError::new(
                                "no Panjaya private key: pass --key <PEM file> or set PANJAYA_PRIVATE_KEY to its path",
                            )
                        })?,
                };
                Self::Panjaya(Box::new(load_key(&path)?))
            }
            Provider::Namirial => {
                let t = secret(provider, opts.token.as_deref(), "NAMIRIAL_TOKENS", env)?;
                if opts.token_header {
                    Self::NamirialHeader(t)
                } else {
                    Self::NamirialQuery(t)
                }
            }
        })
    }

    /// The signed `t` for sync.so's timestamped header.
    pub fn signed_at(&self) -> Option<i64> {
        match self {
            Self::SyncsoTimestamped(_, t) => Some(*t),
            _ => None,
        }
    }

    /// Signs `body`.
    pub fn sign(&self, body: &[u8]) -> Result<Signature, CliError> {
        let header = |name: &'static str, value: String| Signature {
            headers: vec![(name, value)],
            query: None,
        };
        Ok(match self {
            Self::Redner(s) => header(
                "x-redner-signature",
                format!("sha256={}", hex::encode(sign(s.0.as_bytes(), &[body]))),
            ),
            Self::SyncsoTimestamped(s, t) => header(
                "sync-signature",
                TimestampedScheme::header_value(s.0.as_bytes(), *t, body),
            ),
            Self::SyncsoPlain(s) => header(
                "x-signature-primary",
                hex::encode(sign(s.0.as_bytes(), &[body])),
            ),
            Self::Panjaya(key) => {
                let sig = key
                    .sign(&SystemRandom::new(), body)
                    .map_err(|_| CliError::new("ES256 signing failed"))?;
                Signature {
                    headers: vec![
                        ("x-signature", hex::encode(sig.as_ref())),
                        ("x-signature-algorithm", "ES256".to_owned()),
                    ],
                    query: None,
                }
            }
            Self::NamirialQuery(t) => Signature {
                headers: Vec::new(),
                query: Some(("token", t.0.clone())),
            },
            Self::NamirialHeader(t) => header("x-webhook-token", t.0.clone()),
            Self::Unsigned => Signature::default(),
        })
    }
}

/// The flag's value, else the first entry of the provider's list variable
/// (the one the function reads, so one exported list serves both).
fn secret(
    provider: Provider,
    flag: Option<&str>,
    var: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Hidden, CliError> {
    let (what, flag_name) = if provider == Provider::Namirial {
        ("token", "--token")
    } else {
        ("secret", "--secret")
    };
    let value = match flag {
        Some(v) => v.to_owned(),
        None => env(var)
            .and_then(|list| list.split(',').next().map(|s| s.trim().to_owned()))
            .unwrap_or_default(),
    };
    if value.is_empty() {
        return Err(CliError::new(format!(
            "no {} {what}: pass {flag_name} or set {var}",
            provider.name()
        )));
    }
    Ok(Hidden(value))
}

/// Reads a P-256 private key: PKCS#8 (`PRIVATE KEY`) or SEC1
/// (`EC PRIVATE KEY`) PEM, as OpenSSL writes them.
pub fn load_key(path: &Path) -> Result<EcdsaKeyPair, CliError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::new(format!("cannot read the private key {shown}: {e}")))?;
    let mut decoder = pem_rfc7468::Decoder::new_detect_wrap(text.trim().as_bytes())
        .map_err(|e| CliError::new(format!("{shown} is not a PEM file ({e})")))?;
    let label = decoder.type_label();
    if label != "PRIVATE KEY" && label != "EC PRIVATE KEY" {
        return Err(CliError::new(format!(
            "{shown} holds a {label:?} block; expected a PRIVATE KEY (PKCS#8) or EC PRIVATE KEY block"
        )));
    }
    let mut der = Vec::new();
    decoder
        .decode_to_end(&mut der)
        .map_err(|e| CliError::new(format!("{shown} is not valid PEM ({e})")))?;
    EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_ASN1_SIGNING, &der)
        .map_err(|e| CliError::new(format!("{shown} is not a P-256 private key ({e})")))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use hookgate::Source;
    use hookgate::providers::{Namirial, Panjaya, Redner, Syncso};
    use hookgate::verify::{AuthError, Inbound};
    use http::{HeaderMap, HeaderName, HeaderValue};

    use super::*;

    const BODY: &[u8] = br#"{"event":"job.completed","data":{"x":"caf\u00e9 1.20"}}"#;
    const NOW: i64 = 1_763_901_296;
    const TEST_KEY: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/tests/fixtures/panjaya/TEST-ONLY-private-key.pem"
    );
    const TEST_PUBLIC_KEY: &str =
        include_str!("../../../shared/tests/fixtures/panjaya/TEST-ONLY-public-key.pem");

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn signer(provider: Provider, opts: &Options) -> Signer {
        Signer::new(provider, opts, NOW, &no_env).unwrap()
    }

    /// Runs the provider's own verification over a request carrying `sig`.
    fn verify<P: hookgate::providers::Provider>(
        config: &[(&str, &str)],
        sig: &Signature,
        body: &[u8],
    ) -> Result<usize, AuthError> {
        let src: HashMap<&str, &str> = config.iter().copied().collect();
        let provider = P::from_source(&src as &dyn Source).unwrap();
        let mut headers = HeaderMap::new();
        for (name, value) in &sig.headers {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        // Encoded as `send` and `event` encode it.
        let query = sig
            .query
            .as_ref()
            .map(|(k, v)| crate::net::query_pair(k, v));
        let req = Inbound {
            headers: &headers,
            query: query.as_deref(),
            source_ip: None,
            body,
            now: chrono::DateTime::from_timestamp(NOW + 5, 0).unwrap(),
        };
        provider.verify(&req).map(|v| v.verification().key_index)
    }

    #[test]
    fn redner_signature_verifies() {
        let opts = Options {
            secret: Some("whsec_new".into()),
            ..Options::default()
        };
        let sig = signer(Provider::Redner, &opts).sign(BODY).unwrap();
        let config = [("REDNER_WEBHOOK_SECRETS", "whsec_old,whsec_new")];
        assert_eq!(verify::<Redner>(&config, &sig, BODY), Ok(1));
        // The signature covers the body: one byte more and it fails.
        let mut longer = BODY.to_vec();
        longer.push(b' ');
        assert!(verify::<Redner>(&config, &sig, &longer).is_err());
        let other = [("REDNER_WEBHOOK_SECRETS", "whsec_old")];
        assert!(verify::<Redner>(&other, &sig, BODY).is_err());
    }

    #[test]
    fn syncso_both_headers_verify() {
        // The plain header is a credential only where untimed signatures
        // are accepted.
        let config = [
            ("SYNCSO_WEBHOOK_SECRETS", "whsec_sync"),
            ("SYNCSO_ACCEPT_UNTIMED", "true"),
        ];
        let timestamped = Options {
            secret: Some("whsec_sync".into()),
            ..Options::default()
        };
        let s = signer(Provider::Syncso, &timestamped);
        assert_eq!(s.signed_at(), Some(NOW));
        let sig = s.sign(BODY).unwrap();
        assert_eq!(sig.headers[0].0, "sync-signature");
        assert!(sig.headers[0].1.starts_with(&format!("t={NOW},v1=")));
        assert_eq!(verify::<Syncso>(&config, &sig, BODY), Ok(0));

        // A `t` outside the window is refused by the function, as it should be.
        let stale = Options {
            timestamp: Some(NOW - 3600),
            ..timestamped.clone()
        };
        let sig = signer(Provider::Syncso, &stale).sign(BODY).unwrap();
        assert_eq!(verify::<Syncso>(&config, &sig, BODY), Err(AuthError::Stale));

        let plain = Options {
            plain: true,
            ..timestamped
        };
        let sig = signer(Provider::Syncso, &plain).sign(BODY).unwrap();
        assert_eq!(sig.headers[0].0, "x-signature-primary");
        assert_eq!(verify::<Syncso>(&config, &sig, BODY), Ok(0));
        assert!(verify::<Syncso>(&config, &sig, b"{}").is_err());
        let by_default = [("SYNCSO_WEBHOOK_SECRETS", "whsec_sync")];
        assert!(verify::<Syncso>(&by_default, &sig, BODY).is_err());
    }

    #[test]
    fn panjaya_signature_verifies_with_the_test_public_key() {
        let opts = Options {
            key: Some(TEST_KEY.into()),
            ..Options::default()
        };
        let sig = signer(Provider::Panjaya, &opts).sign(BODY).unwrap();
        assert_eq!(sig.headers[1], ("x-signature-algorithm", "ES256".into()));
        // Hex of DER: a SEQUENCE of two integers, 70 to 72 bytes.
        let der = hex::decode(&sig.headers[0].1).unwrap();
        assert_eq!(der[0], 0x30);
        assert!((70..=72).contains(&der.len()), "{}", der.len());
        let config = [("PANJAYA_PUBLIC_KEYS", TEST_PUBLIC_KEY)];
        assert_eq!(verify::<Panjaya>(&config, &sig, BODY), Ok(0));
        assert!(verify::<Panjaya>(&config, &sig, b"{}").is_err());
        // Panjaya's published key is not ours: the default config refuses it.
        assert!(verify::<Panjaya>(&[], &sig, BODY).is_err());
    }

    #[test]
    fn namirial_token_in_query_or_header_verifies() {
        // Characters that must be percent-encoded in a query string.
        let token = "local token+/&=%0123456789";
        let config = [("NAMIRIAL_TOKENS", token)];
        let query = Options {
            token: Some(token.into()),
            ..Options::default()
        };
        let sig = signer(Provider::Namirial, &query).sign(BODY).unwrap();
        assert!(sig.headers.is_empty());
        assert_eq!(verify::<Namirial>(&config, &sig, BODY), Ok(0));
        let header = Options {
            token_header: true,
            ..query
        };
        let sig = signer(Provider::Namirial, &header).sign(BODY).unwrap();
        assert_eq!(sig.query, None);
        assert_eq!(verify::<Namirial>(&config, &sig, BODY), Ok(0));
        let wrong = [("NAMIRIAL_TOKENS", "another-token-0123456789")];
        assert!(verify::<Namirial>(&wrong, &sig, BODY).is_err());
    }

    #[test]
    fn credentials_come_from_the_environment_lists() {
        let env = |var: &str| match var {
            "REDNER_WEBHOOK_SECRETS" => Some(" whsec_first , whsec_second".to_owned()),
            "NAMIRIAL_TOKENS" => Some("first-token-0123456789,second-token-0123456789".into()),
            "PANJAYA_PRIVATE_KEY" => Some(TEST_KEY.to_owned()),
            _ => None,
        };
        let opts = Options::default();
        let sig = Signer::new(Provider::Redner, &opts, NOW, &env)
            .unwrap()
            .sign(BODY)
            .unwrap();
        let first = [("REDNER_WEBHOOK_SECRETS", "whsec_first")];
        assert_eq!(verify::<Redner>(&first, &sig, BODY), Ok(0));
        let sig = Signer::new(Provider::Namirial, &opts, NOW, &env)
            .unwrap()
            .sign(BODY)
            .unwrap();
        assert_eq!(
            sig.query,
            Some(("token", "first-token-0123456789".to_owned()))
        );
        assert!(Signer::new(Provider::Panjaya, &opts, NOW, &env).is_ok());
    }

    #[test]
    fn missing_or_misplaced_credentials_are_one_clear_sentence() {
        let err = |p, opts: &Options| Signer::new(p, opts, NOW, &no_env).unwrap_err().to_string();
        let none = Options::default();
        assert_eq!(
            err(Provider::Redner, &none),
            "no Redner secret: pass --secret or set REDNER_WEBHOOK_SECRETS"
        );
        assert_eq!(
            err(Provider::Syncso, &none),
            "no sync.so secret: pass --secret or set SYNCSO_WEBHOOK_SECRETS"
        );
        assert_eq!(
            err(Provider::Namirial, &none),
            "no Namirial token: pass --token or set NAMIRIAL_TOKENS"
        );
        assert!(err(Provider::Panjaya, &none).starts_with("no Panjaya private key"));
        let plain = Options {
            plain: true,
            secret: Some("s".into()),
            ..none.clone()
        };
        assert_eq!(
            err(Provider::Redner, &plain),
            "--plain does not apply to redner; it takes --secret"
        );
        let missing = Options {
            key: Some("/nonexistent/key.pem".into()),
            ..none
        };
        assert!(
            err(Provider::Panjaya, &missing)
                .starts_with("cannot read the private key /nonexistent/key.pem: ")
        );
    }

    #[test]
    fn key_files_that_are_not_p256_private_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("hookgate-cli-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let public = dir.join("public.pem");
        std::fs::write(&public, TEST_PUBLIC_KEY).unwrap();
        let text = dir.join("text.pem");
        std::fs::write(&text, "not a key").unwrap();
        let e = load_key(&public).unwrap_err().to_string();
        assert!(e.contains("holds a \"PUBLIC KEY\" block"), "{e}");
        let e = load_key(&text).unwrap_err().to_string();
        assert!(e.contains("is not a PEM file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let opts = Options {
            secret: Some("whsec_do_not_print".into()),
            ..Options::default()
        };
        let s = signer(Provider::Redner, &opts);
        assert!(!format!("{s:?}").contains("whsec"));
        assert!(!format!("{:?}", Hidden("whsec_x".into())).contains("whsec"));
    }
}
