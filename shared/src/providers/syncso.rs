//! sync.so (lipsync generations and batches): HMAC-SHA256 with one of two
//! headers, and two payload kinds told apart by their shape.
//!
//! sync.so documents two signature headers:
//! - `Sync-Signature: t=<unix seconds>,v1=<hex>`, over `"<t>." + raw body`,
//!   with a freshness window ([`TimestampedScheme`]): what its current
//!   webhook guide signs with;
//! - `X-Signature-Primary`, over the raw body alone, hex or base64, with an
//!   optional `sha256=` prefix ([`HmacScheme`]).
//!
//! When `Sync-Signature` is present it alone decides, whatever else the
//! request carries: it is the stronger proof (it also proves freshness), and
//! a request whose timestamped signature is bad or stale must not be let in
//! through the weaker header beside it.
//!
//! `X-Signature-Primary` carries no time, so a delivery captured once could
//! be replayed forever by dropping `Sync-Signature` and sending the plain
//! header. It is therefore accepted only when the operator opts in with
//! `SYNCSO_ACCEPT_UNTIMED=true` (for an account that still signs that way),
//! and only when `Sync-Signature` is absent. A replay then has the same body,
//! hence the same event id, and consumers that drop duplicates within their
//! window drop it.

use chrono::DateTime;
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::config::{ConfigError, Source, Vars};
use crate::envelope::{ErrorInfo, Outcome, Output, Resource};
use crate::json::{At, Detail, Lax, Reader, Text};
use crate::secrets::SecretVar;
use crate::verify::hmac::{Encoding, Prefix, secrets_from};
use crate::verify::{
    AuthError, HmacScheme, Inbound, SignatureFormat, TimestampedScheme, Verified, Verifier,
};

use super::{
    Credential, CredentialKind, Normalized, Provider, Sample, Sender, SignError, Style, unknown,
};
use crate::verify::Signed;

/// The timestamped signature header.
pub const SYNC_SIGNATURE: &str = "sync-signature";

/// The plain signature header and its accepted forms.
pub const SIGNATURE_PRIMARY: SignatureFormat = SignatureFormat {
    header: "x-signature-primary",
    prefix: Prefix::Optional("sha256="),
    encoding: Encoding::HexOrBase64,
};

const SECRETS_VAR: &str = "SYNCSO_WEBHOOK_SECRETS";
const TOLERANCE_VAR: &str = "SYNCSO_TOLERANCE_SECONDS";
/// The variable that opts in to the untimed `X-Signature-Primary`.
pub const ACCEPT_UNTIMED_VAR: &str = "SYNCSO_ACCEPT_UNTIMED";

/// sync.so's usual signature: `Sync-Signature`.
const TIMESTAMPED: Style = Style {
    name: "timestamped",
    about: "Sync-Signature: t=<Unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.\" and the body>",
    requires: None,
};

/// The untimed signature, accepted only with `SYNCSO_ACCEPT_UNTIMED=true`.
const PLAIN: Style = Style {
    name: "plain",
    about: "X-Signature-Primary: <hex HMAC-SHA256 of the body>, carrying no time",
    requires: Some((ACCEPT_UNTIMED_VAR, "true")),
};

/// The sync.so provider.
#[derive(Debug, Clone)]
pub struct Syncso {
    timestamped: TimestampedScheme,
    /// Set only when untimed signatures are accepted.
    plain: Option<HmacScheme>,
}

impl Provider for Syncso {
    const SLUG: &'static str = "syncso";
    const SECRET_VARS: &'static [SecretVar] = &[SecretVar {
        name: SECRETS_VAR,
        join: ",",
    }];

    fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let vars = Vars(src);
        let keys = secrets_from(
            vars,
            SECRETS_VAR,
            "set it to the webhook signing secret from sync.so, whsec_ prefix included (comma-separate several to rotate)",
        )?;
        let tolerance =
            vars.positive(TOLERANCE_VAR, TimestampedScheme::DEFAULT_TOLERANCE_SECONDS)?;
        let timestamped =
            TimestampedScheme::new(SYNC_SIGNATURE, keys.clone(), SECRETS_VAR, tolerance)?;
        let plain = if vars.flag(ACCEPT_UNTIMED_VAR)? {
            Some(HmacScheme::new(SIGNATURE_PRIMARY, keys, SECRETS_VAR)?)
        } else {
            None
        };
        Ok(Self { timestamped, plain })
    }

    const SENDER: Sender = Sender {
        name: "sync.so",
        credential: CredentialKind::Secret,
        styles: &[TIMESTAMPED, PLAIN],
        signed_time: Some(TOLERANCE_VAR),
        covers_body: true,
        sample: Sample {
            template: r#"{"id":"gen_{n}","status":"COMPLETED","createdAt":"2025-11-23T12:30:00Z","model":"{text}","input":[{"type":"video","url":"https://example.com/v.mp4"}],"outputUrl":"https://example.com/out.mp4","error":null}"#,
            text: "lipsync-2",
            unusable: r#"{"id":7,"status":"COMPLETED"}"#,
        },
    };

    fn sign(
        credential: &Credential,
        style: &Style,
        body: &[u8],
        now: i64,
    ) -> Result<Signed, SignError> {
        let secret = credential.shared(Self::SENDER.credential)?;
        Ok(if *style == PLAIN {
            SIGNATURE_PRIMARY.sign(secret, body)
        } else {
            TimestampedScheme::sign(SYNC_SIGNATURE, secret, now, body)
        })
    }

    fn verify<'a>(&self, req: &Inbound<'a>) -> Result<Verified<'a>, AuthError> {
        // Presence, not validity, picks the header: see the module notes.
        match &self.plain {
            _ if req.headers.contains_key(SYNC_SIGNATURE) => self.timestamped.verify(req),
            Some(plain) if req.headers.contains_key(SIGNATURE_PRIMARY.header) => plain.verify(req),
            Some(_) => Err(AuthError::Missing("sync-signature or x-signature-primary")),
            // Without the opt-in, a lone plain signature is no credential.
            None => Err(AuthError::Missing(SYNC_SIGNATURE)),
        }
    }

    fn normalize(text: &str, verified: &Verified<'_>) -> Result<Normalized, Vec<Detail>> {
        let mut r = Reader::new(Self::SLUG);
        let Some(body) = r.root::<Body<'_>>(text) else {
            return r.finish(None);
        };
        let kind = body.kind();
        let id = r.required_text(&[At::Key("id")], body.id);
        let status = r.required_text(&[At::Key("status")], body.status);
        let mut urls = vec![(At::Key("outputUrl"), body.output_url)];
        let mut error = None;
        if kind == Kind::Generation {
            urls.push((At::Key("segmentOutputUrl"), body.segment_output_url));
            let code = present(r.optional(&[At::Key("error_code")], body.error_code));
            let message = present(r.optional(&[At::Key("error")], body.error));
            error = (code.is_some() || message.is_some()).then_some(ErrorInfo { code, message });
        }
        let outputs = urls
            .into_iter()
            .filter_map(|(at, url)| present(r.optional(&[at], url)))
            .map(|url| Output {
                url,
                expires_at: None,
                size_bytes: None,
            })
            .collect();
        let (Some(id), Some(status)) = (id, status) else {
            return r.finish(None);
        };
        let kind = kind.name();
        let outcome = outcome(&status);
        r.finish(Some(Normalized {
            // ASCII-only lowercasing keeps the length and leaves any other
            // text as sent; the gate escapes what SQS cannot carry.
            type_suffix: format!("{kind}.{}", status.to_ascii_lowercase()),
            event: status.to_string(),
            subject: id.to_string(),
            // `t` is when sync.so signed this delivery: the closest thing to
            // an event time it sends (`createdAt` is when the job began).
            time: verified
                .verification()
                .signed_at
                .and_then(|t| DateTime::from_timestamp(t, 0)),
            outcome,
            resource: Resource {
                kind: kind.into(),
                id: id.into_owned(),
                parent: None,
            },
            status: Some(status.into_owned()),
            outputs,
            error,
        }))
    }
}

/// What hookgate reads of either payload kind, and the keys that tell the
/// kinds apart (read for presence only, never type-checked). `model`,
/// `input`, `options`, `createdAt`, `metrics`, `webhookUrl` and
/// `outputDuration` are not otherwise read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Body<'a> {
    #[serde(borrow)]
    id: Lax<Text<'a>>,
    #[serde(borrow)]
    status: Lax<Text<'a>>,
    #[serde(borrow, rename = "outputUrl")]
    output_url: Lax<Text<'a>>,
    #[serde(borrow, rename = "segmentOutputUrl")]
    segment_output_url: Lax<Text<'a>>,
    #[serde(borrow)]
    error: Lax<Text<'a>>,
    #[serde(borrow)]
    error_code: Lax<Text<'a>>,
    metrics: Lax<IgnoredAny>,
    created_at: Lax<IgnoredAny>,
    #[serde(rename = "createdAt")]
    created_at_camel: Lax<IgnoredAny>,
    model: Lax<IgnoredAny>,
    input: Lax<IgnoredAny>,
}

/// The two payload kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Generation,
    Batch,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Generation => "generation",
            Self::Batch => "batch",
        }
    }
}

impl Body<'_> {
    /// Only the keys that decide it, and only when not null: `metrics`
    /// belongs to batches alone, `createdAt`, `model` and `input` to
    /// generations alone; `created_at` says batch only when nothing says
    /// generation, so a generation that gains a `created_at` stays one.
    fn kind(&self) -> Kind {
        let generation = self.created_at_camel.is_present()
            || self.model.is_present()
            || self.input.is_present();
        if self.metrics.is_present() || (self.created_at.is_present() && !generation) {
            Kind::Batch
        } else {
            Kind::Generation
        }
    }
}

/// The text of an optional string that says something: sync.so sends ""
/// rather than null for "none".
fn present(s: Option<Text<'_>>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(Text::into_owned)
}

/// One status table for both kinds: batches use a subset of the
/// generation statuses plus `JOBS_CREATED`. Case is not significant.
fn outcome(status: &str) -> Outcome {
    match status.to_ascii_uppercase().as_str() {
        "PENDING" | "JOBS_CREATED" => Outcome::Created,
        "PROCESSING" => Outcome::Processing,
        "COMPLETED" => Outcome::Succeeded,
        "FAILED" | "REJECTED" => Outcome::Failed,
        "CANCELED" | "CANCELLED" => Outcome::Canceled,
        _ => unknown(Syncso::SLUG, "status", status),
    }
}

#[cfg(test)]
mod gate_tests;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::verify::hmac::sign;

    const GENERATION: &str = r#"{"status":"COMPLETED","createdAt":"2025-11-23T12:30:00Z","id":"gen_7f3a","input":[{"type":"video","url":"https://example.com/video.mp4"},{"type":"audio","url":"https://example.com/audio.mp3"}],"model":"lipsync-2","error":"","error_code":"","options":{},"outputDuration":10,"outputUrl":"https://example.com/output.mp4","segmentOutputUrl":"https://example.com/segment_output.mp4","webhookUrl":"https://example.com/webhook"}"#;

    fn provider(extra: &[(&str, &str)]) -> Result<Syncso, ConfigError> {
        let mut src = HashMap::from([(SECRETS_VAR, "whsec_old,whsec_syncso_test_secret")]);
        src.extend(extra.iter().copied());
        Syncso::from_source(&src)
    }

    fn normalize_signed(text: &str, signed_at: Option<i64>) -> Result<Normalized, Vec<Detail>> {
        crate::testing::normalize::<Syncso>(text, signed_at)
    }

    fn normalize(text: &str) -> Result<Normalized, Vec<Detail>> {
        normalize_signed(text, None)
    }

    fn problems(text: &str) -> Vec<String> {
        crate::testing::problems::<Syncso>(text)
    }

    #[test]
    fn plain_header_known_answer() {
        // sync.so's "HMAC signature of the payload", run once in Python:
        //   d = hmac.new(b"whsec_syncso_test_secret", body, hashlib.sha256)
        //   d.hexdigest(); base64.b64encode(d.digest())
        let tag = sign(b"whsec_syncso_test_secret", &[GENERATION.as_bytes()]);
        let hexed = "22488fbf94c86447b4125b032c684ef71a20e17ddfd6c50a77eb3788df94068b";
        let b64 = "IkiPv5TIZEe0ElsDLGhO9xog4X3f1sUKd+s3iN+UBos=";
        assert_eq!(hex::encode(tag), hexed);
        assert_eq!(SIGNATURE_PRIMARY.decode(hexed), Ok(tag));
        assert_eq!(SIGNATURE_PRIMARY.decode(b64), Ok(tag));
        assert_eq!(SIGNATURE_PRIMARY.decode(&format!("sha256={b64}")), Ok(tag));
    }

    #[test]
    fn completed_generation() {
        let n = normalize_signed(GENERATION, Some(1_763_901_296)).unwrap();
        assert_eq!(n.type_suffix, "generation.completed");
        assert_eq!(n.event, "COMPLETED");
        assert_eq!(n.status.as_deref(), Some("COMPLETED"));
        assert_eq!(n.subject, "gen_7f3a");
        assert_eq!(n.outcome, Outcome::Succeeded);
        assert_eq!(
            n.resource,
            Resource {
                kind: "generation".into(),
                id: "gen_7f3a".into(),
                parent: None
            }
        );
        let urls: Vec<&str> = n.outputs.iter().map(|o| o.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://example.com/output.mp4",
                "https://example.com/segment_output.mp4"
            ]
        );
        assert_eq!(n.error, None);
        assert_eq!(n.time.unwrap().to_rfc3339(), "2025-11-23T12:34:56+00:00");
        // Without a signed time, the gate uses receipt time.
        assert_eq!(normalize(GENERATION).unwrap().time, None);
    }

    #[test]
    fn minimal_and_failed_generation() {
        let n = normalize(
            r#"{"id":"g1","status":"FAILED","createdAt":"2025-11-23T12:30:00Z","model":"lipsync-2-pro","input":[],"error":"Face not detected","error_code":"face_not_found","outputUrl":null,"segmentOutputUrl":"","webhookUrl":null,"options":null}"#,
        )
        .unwrap();
        assert_eq!(n.outcome, Outcome::Failed);
        assert!(n.outputs.is_empty());
        assert_eq!(
            n.error,
            Some(ErrorInfo {
                code: Some("face_not_found".into()),
                message: Some("Face not detected".into())
            })
        );
        let n = normalize(
            r#"{"id":"g2","status":"REJECTED","createdAt":"x","model":"m","input":[1],"error_code":"insufficient_credits"}"#,
        )
        .unwrap();
        assert_eq!(
            n.error,
            Some(ErrorInfo {
                code: Some("insufficient_credits".into()),
                message: None
            })
        );
    }

    #[test]
    fn batch_update() {
        let n = normalize(
            r#"{"id":"batch_91","status":"JOBS_CREATED","created_at":"2025-11-23T12:00:00Z","metrics":{"total_generations":10,"success_count":0,"failed_count":0,"pending_count":10},"outputUrl":"","webhookUrl":"https://example.com/hook"}"#,
        )
        .unwrap();
        assert_eq!(n.type_suffix, "batch.jobs_created");
        assert_eq!(n.outcome, Outcome::Created);
        assert_eq!(n.resource.kind, "batch");
        assert_eq!(n.subject, "batch_91");
        assert!(n.outputs.is_empty());
        let n = normalize(
            r#"{"id":"batch_91","status":"COMPLETED","created_at":"2025-11-23T12:00:00Z","metrics":{"total_generations":10,"success_count":9,"failed_count":1,"pending_count":0},"outputUrl":"https://example.com/results.jsonl"}"#,
        )
        .unwrap();
        assert_eq!(n.outcome, Outcome::Succeeded);
        assert_eq!(n.outputs.len(), 1);
        assert_eq!(n.outputs[0].url, "https://example.com/results.jsonl");
        assert_eq!(n.error, None);
    }

    #[test]
    fn outcomes() {
        let cases = [
            ("PENDING", Outcome::Created),
            ("JOBS_CREATED", Outcome::Created),
            ("PROCESSING", Outcome::Processing),
            ("COMPLETED", Outcome::Succeeded),
            ("completed", Outcome::Succeeded),
            ("FAILED", Outcome::Failed),
            ("REJECTED", Outcome::Failed),
            ("CANCELED", Outcome::Canceled),
            ("CANCELLED", Outcome::Canceled),
            ("ARCHIVED", Outcome::Unknown),
            ("COMPLETE", Outcome::Unknown),
        ];
        for (status, want) in cases {
            let generation = format!(
                r#"{{"id":"g","status":"{status}","createdAt":"t","model":"react-1","input":[]}}"#
            );
            let n = normalize(&generation).unwrap();
            assert_eq!(n.outcome, want, "generation {status}");
            assert_eq!(
                n.type_suffix,
                format!("generation.{}", status.to_lowercase())
            );
            let batch = format!(
                r#"{{"id":"b","status":"{status}","created_at":"t","metrics":{{"total_generations":1,"success_count":0,"failed_count":0,"pending_count":1}},"outputUrl":""}}"#
            );
            let n = normalize(&batch).unwrap();
            assert_eq!(n.outcome, want, "batch {status}");
            assert_eq!(n.type_suffix, format!("batch.{}", status.to_lowercase()));
        }
    }

    #[test]
    fn odd_statuses_keep_their_text() {
        let n = normalize(
            r#"{"id":"g","status":"Ünïcode Stätus","createdAt":"t","model":"m","input":[]}"#,
        )
        .unwrap();
        assert_eq!(n.type_suffix, "generation.Ünïcode stätus");
        assert_eq!(n.event, "Ünïcode Stätus");
        assert_eq!(n.outcome, Outcome::Unknown);
    }

    #[test]
    fn generation_with_created_at_stays_a_generation() {
        for text in [
            r#"{"id":"g1","status":"COMPLETED","created_at":"2025-11-23T12:30:00Z","createdAt":"2025-11-23T12:30:00Z","model":"lipsync-2","input":[],"outputUrl":"https://example.com/o.mp4"}"#,
            r#"{"id":"g1","status":"COMPLETED","created_at":"2025-11-23T12:30:00Z","model":"lipsync-2","outputUrl":"https://example.com/o.mp4"}"#,
            r#"{"id":"g1","status":"COMPLETED","created_at":"t","input":[{"type":"video"}],"outputUrl":"https://example.com/o.mp4"}"#,
        ] {
            let n = normalize(text).unwrap();
            assert_eq!(n.resource.kind, "generation", "{text}");
            assert_eq!(n.type_suffix, "generation.completed");
            assert_eq!(n.outputs.len(), 1);
        }
    }

    #[test]
    fn shape_is_decided_by_its_keys_with_values() {
        let kind = |text: &str| normalize(text).unwrap().resource.kind;
        // `metrics` of any type means a batch, even beside generation keys.
        assert_eq!(
            kind(r#"{"id":"b","status":"PENDING","metrics":{}}"#),
            "batch"
        );
        assert_eq!(
            kind(r#"{"id":"b","status":"PENDING","metrics":7,"model":"m"}"#),
            "batch"
        );
        assert_eq!(
            kind(r#"{"id":"b","status":"PENDING","created_at":"t"}"#),
            "batch"
        );
        assert_eq!(
            kind(r#"{"id":"b","status":"PENDING","created_at":5}"#),
            "batch"
        );
        // Null keys decide nothing.
        assert_eq!(
            kind(
                r#"{"id":"b","status":"PENDING","created_at":"t","model":null,"input":null,"createdAt":null}"#
            ),
            "batch"
        );
        assert_eq!(
            kind(r#"{"id":"g","status":"PENDING","metrics":null,"created_at":null}"#),
            "generation"
        );
        assert_eq!(kind(r#"{"id":"g","status":"PENDING"}"#), "generation");
        assert_eq!(
            kind(r#"{"id":"g","status":"PENDING","webhookUrl":"https://x","outputUrl":null}"#),
            "generation"
        );
    }

    #[test]
    fn batch_with_null_output_and_sparse_metrics() {
        for text in [
            r#"{"id":"batch_91","status":"PROCESSING","created_at":"2025-11-23T12:00:00Z","metrics":{"total_generations":10,"success_count":3,"failed_count":0},"outputUrl":null}"#,
            r#"{"id":"batch_91","status":"PROCESSING","created_at":"2025-11-23T12:00:00Z","metrics":{"total_generations":10.0,"success_count":"3","failed_count":null,"pending_count":7}}"#,
            r#"{"id":"batch_91","status":"PROCESSING","metrics":[]}"#,
        ] {
            let n = normalize(text).unwrap();
            assert_eq!(n.resource.kind, "batch", "{text}");
            assert_eq!(n.type_suffix, "batch.processing");
            assert_eq!(n.outcome, Outcome::Processing);
            assert!(n.outputs.is_empty());
            assert_eq!(n.error, None);
        }
    }

    #[test]
    fn fields_not_read_are_never_checked() {
        let n = normalize(
            r#"{"id":"g3","status":"COMPLETED","createdAt":1732365000,"model":["lipsync-2"],"input":{"type":"video"},"options":[],"outputDuration":"10s","webhookUrl":5,"metrics_extra":1,"outputUrl":"https://example.com/o.mp4","segmentOutputUrl":null}"#,
        )
        .unwrap();
        assert_eq!(n.resource.kind, "generation");
        assert_eq!(n.outcome, Outcome::Succeeded);
        assert_eq!(n.outputs.len(), 1);
        let n = normalize(
            r#"{"id":"b4","status":"COMPLETED","created_at":20251123,"metrics":"n/a","webhookUrl":[],"outputUrl":"https://example.com/r.jsonl"}"#,
        )
        .unwrap();
        assert_eq!(n.resource.kind, "batch");
        assert_eq!(n.outputs[0].url, "https://example.com/r.jsonl");
    }

    #[test]
    fn wrong_typed_optional_fields_are_left_out() {
        let n = normalize(
            r#"{"id":"g5","status":"FAILED","createdAt":"t","model":"m","input":[],"error":5,"error_code":"face_not_found","outputUrl":false,"segmentOutputUrl":"https://example.com/s.mp4"}"#,
        )
        .unwrap();
        assert_eq!(n.outcome, Outcome::Failed);
        assert_eq!(n.outputs.len(), 1);
        assert_eq!(n.outputs[0].url, "https://example.com/s.mp4");
        assert_eq!(
            n.error,
            Some(ErrorInfo {
                code: Some("face_not_found".into()),
                message: None
            })
        );
        let n =
            normalize(r#"{"id":"g6","status":"FAILED","model":"m","error":{},"error_code":[]}"#)
                .unwrap();
        assert_eq!(n.error, None);
        let n = normalize(r#"{"id":"b","status":"PENDING","metrics":{},"outputUrl":{}}"#).unwrap();
        assert!(n.outputs.is_empty());
    }

    #[test]
    fn batches_read_no_generation_fields() {
        let n = normalize(
            r#"{"id":"b","status":"FAILED","metrics":{},"error":"x","error_code":"y","segmentOutputUrl":"https://example.com/s"}"#,
        )
        .unwrap();
        assert_eq!(n.outcome, Outcome::Failed);
        assert_eq!((n.error, n.outputs.len()), (None, 0));
    }

    #[test]
    fn required_field_problems_are_all_reported() {
        assert_eq!(
            problems(
                r#"{"id":"","status":1,"model":null,"input":{},"error":5,"options":[],"outputDuration":"10s","outputUrl":false}"#
            ),
            [
                r#"["body","id"]:string_too_short"#,
                r#"["body","status"]:string_type"#,
            ]
        );
        // What the batch reading once refused is now only its id and status.
        let n = normalize(
            r#"{"id":"b","status":"PENDING","metrics":{"total_generations":1.5,"success_count":"0","failed_count":null},"outputUrl":null}"#,
        )
        .unwrap();
        assert_eq!((n.subject.as_str(), n.outcome), ("b", Outcome::Created));
        assert_eq!(
            problems(r#"{"id":["b"],"created_at":"t","metrics":[]}"#),
            [
                r#"["body","id"]:string_type"#,
                r#"["body","status"]:missing"#,
            ]
        );
    }

    #[test]
    fn neither_id_nor_status_is_refused() {
        let errs = normalize("{}").unwrap_err();
        assert_eq!(
            serde_json::to_value(&errs).unwrap(),
            serde_json::json!([
                {"loc": ["body", "id"], "msg": "Field required", "type": "missing"},
                {"loc": ["body", "status"], "msg": "Field required", "type": "missing"},
            ])
        );
        assert_eq!(
            problems(r#"{"id":null,"status":"","metrics":{}}"#),
            [
                r#"["body","id"]:missing"#,
                r#"["body","status"]:string_too_short"#,
            ]
        );
        assert_eq!(
            problems(r#"{"id":12,"status":"COMPLETED","created_at":"t"}"#),
            [r#"["body","id"]:string_type"#]
        );
        for root in ["[]", "[\"g\",\"COMPLETED\"]", "null", "1"] {
            assert_eq!(problems(root), [r#"["body"]:model_attributes_type"#]);
        }
    }

    #[test]
    fn configuration() {
        let err = Syncso::from_source(&HashMap::<&str, &str>::new()).unwrap_err();
        assert_eq!(err.variable, SECRETS_VAR);
        assert!(
            err.to_string()
                .starts_with("SYNCSO_WEBHOOK_SECRETS is not set")
        );
        let err = Syncso::from_source(&HashMap::from([(SECRETS_VAR, "a,,b")])).unwrap_err();
        assert_eq!(err.variable, SECRETS_VAR);
        for bad in ["0", "-5", "five", "1.5", "300s"] {
            let err = provider(&[(TOLERANCE_VAR, bad)]).unwrap_err();
            assert_eq!(err.variable, TOLERANCE_VAR, "{bad}");
        }
        assert!(provider(&[(TOLERANCE_VAR, " 60 ")]).is_ok());
        let p = provider(&[]).unwrap();
        let shown = format!("{p:?}");
        assert!(!shown.contains("whsec_"), "{shown}");
    }
}
