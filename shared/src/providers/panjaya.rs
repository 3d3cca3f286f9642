//! Panjaya (AI dubbing): ES256 of the raw body in `X-Signature`, checked
//! against Panjaya's published public key unless `PANJAYA_PUBLIC_KEYS` says
//! otherwise.
//!
//! A callback is about an asset or one of its versions (a dubbed language):
//! `{"event", "asset_id", "version_id", "version_locale"}`. Panjaya sends no
//! event time, so the envelope carries the time of receipt.

use crate::config::{ConfigError, Source, Vars};
use crate::envelope::{ErrorInfo, Outcome, Resource};
use crate::json::{Checker, Detail};
use crate::secrets::SecretVar;
use crate::verify::{AuthError, Es256Scheme, Inbound, Verified, Verifier};

use super::{Normalized, Provider, unknown};

/// The variable holding the verification keys.
pub const KEYS_VAR: &str = "PANJAYA_PUBLIC_KEYS";

/// Panjaya's published callback-signing key, used when [`KEYS_VAR`] is unset.
pub const PUBLISHED_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZbUzbbuVyzSv7zVmH6rKypr6ojSS
/86W9dU6mwbdfAtUAx+QI7GNxl/4H1QV2BuBrysabh56O/YXhnFJMh7Lng==
-----END PUBLIC KEY-----
";

/// The Panjaya provider.
#[derive(Debug, Clone)]
pub struct Panjaya {
    scheme: Es256Scheme,
}

impl Panjaya {
    /// A provider verifying with `scheme`.
    pub fn new(scheme: Es256Scheme) -> Self {
        Self { scheme }
    }
}

impl Provider for Panjaya {
    const SLUG: &'static str = "panjaya";
    const SECRET_VARS: &'static [SecretVar] = &[SecretVar {
        name: "PANJAYA_PUBLIC_KEYS",
        join: "\n",
    }];

    fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        // Unset or blank means Panjaya's own key: it is public, so the
        // function works without configuration, and a rotation (or a staging
        // key) is one variable away.
        let text = Vars(src)
            .get(KEYS_VAR)
            .unwrap_or_else(|| PUBLISHED_KEY.to_owned());
        let scheme =
            Es256Scheme::from_pem(&text).map_err(|e| ConfigError::new(KEYS_VAR, e.to_string()))?;
        Ok(Self { scheme })
    }

    fn verify<'a>(&self, req: &Inbound<'a>) -> Result<Verified<'a>, AuthError> {
        self.scheme.verify(req)
    }

    fn normalize(text: &str, _verified: &Verified<'_>) -> Result<Normalized, Vec<Detail>> {
        let mut c = Checker::new();
        let Some(root) = c.root(text) else {
            return c.finish(None);
        };
        let event = root.req_str(&mut c, "event");
        let asset_id = root.req_str(&mut c, "asset_id");
        let version_id = root.opt_str(&mut c, "version_id");
        root.opt_str(&mut c, "version_locale");
        let (Some(event), Some(asset_id)) = (event, asset_id) else {
            return c.finish(None);
        };
        // An empty version id names nothing; the asset is what remains.
        let version_id = version_id.filter(|v| !v.is_empty());
        let resource = match version_id {
            Some(version) => Resource {
                kind: "version".into(),
                id: version.into_owned(),
                parent: Some(asset_id.into_owned()),
            },
            None => Resource {
                kind: "asset".into(),
                id: asset_id.into_owned(),
                parent: None,
            },
        };
        let outcome = outcome(&event);
        c.finish(Some(Normalized {
            type_suffix: event.to_string(),
            subject: resource.id.clone(),
            time: None,
            outcome,
            resource,
            status: None,
            outputs: Vec::new(),
            // Panjaya says only which step failed; the event name is the code.
            error: (outcome == Outcome::Failed).then(|| ErrorInfo {
                code: Some(event.to_string()),
                message: None,
            }),
            event: event.into_owned(),
        }))
    }
}

/// Panjaya's events, in the order a version goes through them.
fn outcome(event: &str) -> Outcome {
    match event {
        // Ready for review and editing in Panjaya's workspace: a person acts next.
        "version_ready" => Outcome::ActionRequired,
        "version_generating" => Outcome::Processing,
        "version_generated" => Outcome::Succeeded,
        "asset_failed" | "version_failed" | "version_generate_failed" => Outcome::Failed,
        other => unknown(Panjaya::SLUG, "event", other),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::verify::Verification;
    use crate::verify::es256::SIGNATURE_HEADER;
    use crate::verify::es256::testing::TestKey;

    fn normalize(text: &str) -> Result<Normalized, Vec<Detail>> {
        let v = Verified::new(
            text.as_bytes(),
            Verification {
                scheme: "es256",
                key_index: 0,
                signed_at: None,
            },
        );
        Panjaya::normalize(text, &v)
    }

    #[test]
    fn version_event() {
        let n = normalize(
            r#"{"event":"version_generated","asset_id":"a_1","version_id":"v_9","version_locale":"fr-FR"}"#,
        )
        .unwrap();
        assert_eq!(n.event, "version_generated");
        assert_eq!(n.type_suffix, "version_generated");
        assert_eq!(n.subject, "v_9");
        assert_eq!(n.outcome, Outcome::Succeeded);
        assert_eq!(
            n.resource,
            Resource {
                kind: "version".into(),
                id: "v_9".into(),
                parent: Some("a_1".into())
            }
        );
        assert_eq!((n.time, n.status, n.error), (None, None, None));
        assert!(n.outputs.is_empty());
    }

    #[test]
    fn asset_event() {
        for text in [
            r#"{"event":"asset_failed","asset_id":"a_1","version_id":null,"version_locale":null}"#,
            r#"{"event":"asset_failed","asset_id":"a_1"}"#,
            r#"{"event":"asset_failed","asset_id":"a_1","version_id":""}"#,
        ] {
            let n = normalize(text).unwrap();
            assert_eq!(n.subject, "a_1", "{text}");
            assert_eq!(
                n.resource,
                Resource {
                    kind: "asset".into(),
                    id: "a_1".into(),
                    parent: None
                }
            );
            assert_eq!(n.outcome, Outcome::Failed);
            assert_eq!(
                n.error,
                Some(ErrorInfo {
                    code: Some("asset_failed".into()),
                    message: None
                })
            );
        }
    }

    #[test]
    fn outcomes() {
        let cases = [
            ("version_ready", Outcome::ActionRequired),
            ("version_generating", Outcome::Processing),
            ("version_generated", Outcome::Succeeded),
            ("asset_failed", Outcome::Failed),
            ("version_failed", Outcome::Failed),
            ("version_generate_failed", Outcome::Failed),
            ("version_archived", Outcome::Unknown),
            ("VERSION_READY", Outcome::Unknown),
        ];
        for (event, want) in cases {
            let text = format!(r#"{{"event":"{event}","asset_id":"a","version_id":"v"}}"#);
            let n = normalize(&text).unwrap();
            assert_eq!(n.outcome, want, "{event}");
            assert_eq!(n.type_suffix, event);
            assert_eq!(
                n.error.map(|e| e.code),
                (want == Outcome::Failed).then(|| Some(event.to_owned()))
            );
        }
    }

    #[test]
    fn shape_errors_are_all_reported() {
        let errs = normalize(r#"{"event":7,"version_id":5,"version_locale":["fr"]}"#).unwrap_err();
        let locs: Vec<String> = errs
            .iter()
            .map(|d| format!("{}:{}", serde_json::to_string(&d.loc).unwrap(), d.kind))
            .collect();
        assert_eq!(
            locs,
            [
                r#"["body","event"]:string_type"#,
                r#"["body","asset_id"]:missing"#,
                r#"["body","version_id"]:string_type"#,
                r#"["body","version_locale"]:string_type"#,
            ]
        );
        let errs = normalize(r#"{"event":"","asset_id":""}"#).unwrap_err();
        assert!(errs.iter().all(|d| d.kind == "string_too_short"));
        assert_eq!(errs.len(), 2);
        assert!(normalize(r#"{"event":"version_ready","asset_id":null}"#).is_err());
        assert!(normalize("[]").is_err());
        assert!(normalize("\"version_ready\"").is_err());
    }

    fn config(keys: Option<&str>) -> Result<Panjaya, ConfigError> {
        let mut src = HashMap::new();
        if let Some(k) = keys {
            src.insert(KEYS_VAR, k);
        }
        Panjaya::from_source(&src)
    }

    #[test]
    fn published_key_is_the_default() {
        let published = Es256Scheme::from_pem(PUBLISHED_KEY).unwrap();
        assert_eq!(published.key_count(), 1);
        for unset in [None, Some(""), Some("  \n")] {
            let p = config(unset).unwrap();
            assert_eq!(p.scheme.key_count(), 1);
            // A key we hold the private half of is not accepted by default:
            // the default really is someone else's key.
            let key = TestKey::generate();
            let body = br#"{"event":"version_ready","asset_id":"a"}"#;
            let mut headers = http::HeaderMap::new();
            headers.insert(
                SIGNATURE_HEADER,
                hex::encode(key.sign_der(body)).parse().unwrap(),
            );
            let req = Inbound {
                headers: &headers,
                query: None,
                source_ip: None,
                body,
                now: chrono::Utc::now(),
            };
            assert_eq!(
                p.verify(&req).unwrap_err(),
                AuthError::NoMatch(SIGNATURE_HEADER)
            );
            let mine = config(Some(&key.public_pem())).unwrap();
            assert_eq!(mine.verify(&req).unwrap().verification().key_index, 0);
        }
    }

    #[test]
    fn bad_keys_fail_the_cold_start_naming_the_variable() {
        for bad in [
            "not a key",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            &PUBLISHED_KEY.replace("Lng==", "Lmg=="),
        ] {
            let err = config(Some(bad)).unwrap_err();
            assert_eq!(err.variable, KEYS_VAR);
            assert!(err.to_string().starts_with("PANJAYA_PUBLIC_KEYS "), "{err}");
        }
    }
}

#[cfg(test)]
mod gate_tests;
