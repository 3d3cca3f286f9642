//! Panjaya (AI dubbing): ES256 of the raw body in `X-Signature`, checked
//! against Panjaya's published public key unless `PANJAYA_PUBLIC_KEYS` says
//! otherwise.
//!
//! A callback is about an asset or one of its versions (a dubbed language):
//! `{"event", "asset_id", "version_id", "version_locale"}`. Panjaya sends no
//! event time, so the envelope carries the time of receipt.

use serde::Deserialize;

use crate::config::{ConfigError, Source, Vars};
use crate::envelope::{ErrorInfo, Outcome, Resource};
use crate::json::{At, Detail, Lax, Reader, Text};
use crate::secrets::SecretVar;
use crate::verify::{AuthError, Es256Scheme, Inbound, Signed, Verified, Verifier};

use super::{
    Credential, CredentialKind, Normalized, Provider, Sample, Sender, SignError, Style, unknown,
};

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

impl Provider for Panjaya {
    const SLUG: &'static str = "panjaya";
    const SECRET_VARS: &'static [SecretVar] = &[SecretVar {
        name: KEYS_VAR,
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

    const SENDER: Sender = Sender {
        name: "Panjaya",
        credential: CredentialKind::PrivateKey,
        styles: &[Style {
            name: "signature",
            about: "X-Signature: <hex of the DER ES256 signature of the body>, X-Signature-Algorithm: ES256",
            requires: None,
        }],
        signed_time: None,
        covers_body: true,
        sample: Sample {
            template: r#"{"event":"version_ready","asset_id":"asset_{n}","version_id":"ver_{n}","version_locale":"{text}"}"#,
            text: "es-ES",
            unusable: r#"{"event":"version_ready","asset_id":42,"version_id":"ver_1"}"#,
        },
    };

    fn verify<'a>(&self, req: &Inbound<'a>) -> Result<Verified<'a>, AuthError> {
        self.scheme.verify(req)
    }

    fn sign(
        credential: &Credential,
        _style: &Style,
        body: &[u8],
        _now: i64,
    ) -> Result<Signed, SignError> {
        Ok(credential.private_key()?.sign(body)?)
    }

    fn normalize(text: &str, _verified: &Verified<'_>) -> Result<Normalized, Vec<Detail>> {
        let mut r = Reader::new(Self::SLUG);
        let Some(body) = r.root::<Body<'_>>(text) else {
            return r.finish(None);
        };
        let event = r.required_text(&[At::Key("event")], body.event);
        let asset_id = r.required_text(&[At::Key("asset_id")], body.asset_id);
        // An empty version id names nothing; the asset is what remains.
        let version_id = r
            .optional(&[At::Key("version_id")], body.version_id)
            .filter(|v| !v.is_empty());
        let (Some(event), Some(asset_id)) = (event, asset_id) else {
            return r.finish(None);
        };
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
        r.finish(Some(Normalized {
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

/// What hookgate reads of a callback; `version_locale` is not one of them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Body<'a> {
    #[serde(borrow)]
    event: Lax<Text<'a>>,
    #[serde(borrow)]
    asset_id: Lax<Text<'a>>,
    #[serde(borrow)]
    version_id: Lax<Text<'a>>,
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
    use crate::verify::es256::SIGNATURE_HEADER;
    use crate::verify::es256::testing::TestKey;

    fn normalize(text: &str) -> Result<Normalized, Vec<Detail>> {
        crate::testing::normalize::<Panjaya>(text, None)
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

    fn problems(text: &str) -> Vec<String> {
        crate::testing::problems::<Panjaya>(text)
    }

    #[test]
    fn extra_fields_and_fields_not_read_are_never_checked() {
        let n = normalize(
            r#"{"event":"version_ready","asset_id":"a_1","version_id":"v_2","version_locale":["fr"],"progress":0.5,"meta":{"x":null}}"#,
        )
        .unwrap();
        assert_eq!(n.subject, "v_2");
        assert_eq!(n.outcome, Outcome::ActionRequired);
        let n =
            normalize(r#"{"asset_id":"a_1","version_locale":7,"event":"version_failed"}"#).unwrap();
        assert_eq!(n.resource.kind, "asset");
        assert_eq!(n.outcome, Outcome::Failed);
    }

    #[test]
    fn wrong_typed_version_id_is_left_out() {
        for version in ["5", "5.0", "{}", "[\"v\"]", "true"] {
            let text =
                format!(r#"{{"event":"version_ready","asset_id":"a_1","version_id":{version}}}"#);
            let n = normalize(&text).unwrap();
            assert_eq!(
                n.resource,
                Resource {
                    kind: "asset".into(),
                    id: "a_1".into(),
                    parent: None
                },
                "{text}"
            );
        }
    }

    #[test]
    fn escaped_text_is_decoded() {
        let n = normalize(
            r#"{"event":"version_gener\u0061ted","asset_id":"a\/1","version_id":"v\u00e9"}"#,
        )
        .unwrap();
        assert_eq!(n.event, "version_generated");
        assert_eq!(n.outcome, Outcome::Succeeded);
        assert_eq!(n.resource.parent.as_deref(), Some("a/1"));
        assert_eq!(n.subject, "vé");
    }

    #[test]
    fn required_field_problems_are_all_reported() {
        // Only `event` and `asset_id` are required; `version_id` and
        // `version_locale` are not problems, whatever their type.
        assert_eq!(
            problems(r#"{"event":7,"version_id":5,"version_locale":["fr"]}"#),
            [
                r#"["body","event"]:string_type"#,
                r#"["body","asset_id"]:missing"#,
            ]
        );
        assert_eq!(
            problems(r#"{"event":"","asset_id":""}"#),
            [
                r#"["body","event"]:string_too_short"#,
                r#"["body","asset_id"]:string_too_short"#,
            ]
        );
        assert_eq!(
            problems(r#"{"event":"version_ready","asset_id":null}"#),
            [r#"["body","asset_id"]:missing"#]
        );
        assert_eq!(
            problems(r#"{"event":null,"asset_id":1.0}"#),
            [
                r#"["body","event"]:missing"#,
                r#"["body","asset_id"]:string_type"#,
            ]
        );
        let errs = normalize("{}").unwrap_err();
        assert_eq!(
            serde_json::to_value(&errs).unwrap(),
            serde_json::json!([
                {"loc": ["body", "event"], "msg": "Field required", "type": "missing"},
                {"loc": ["body", "asset_id"], "msg": "Field required", "type": "missing"},
            ])
        );
        for root in [
            "[]",
            "[\"version_ready\",\"a_1\"]",
            "\"version_ready\"",
            "null",
            "1",
        ] {
            assert_eq!(
                problems(root),
                [r#"["body"]:model_attributes_type"#],
                "{root}"
            );
        }
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
