//! sync.so (lipsync generations and batches): HMAC-SHA256 with one of two
//! headers, and two payload kinds told apart by their shape.
//!
//! sync.so documents two signature headers; either authenticates:
//! - `Sync-Signature: t=<unix seconds>,v1=<hex>`, over `"<t>." + raw body`,
//!   with a freshness window ([`TimestampedScheme`]);
//! - `X-Signature-Primary`, over the raw body alone, hex or base64, with an
//!   optional `sha256=` prefix ([`HmacScheme`]).
//!
//! When `Sync-Signature` is present it alone decides, whatever else the
//! request carries: it is the stronger proof (it also proves freshness), and
//! a request whose timestamped signature is bad or stale must not be let in
//! through the weaker header beside it. `X-Signature-Primary` is read only
//! when `Sync-Signature` is absent. Its tag carries no time, so a captured
//! delivery can be replayed; a replay has the same body, hence the same
//! event id, and consumers drop it as a duplicate.

use std::borrow::Cow;

use chrono::DateTime;

use crate::config::{ConfigError, Source, Vars};
use crate::envelope::{ErrorInfo, Outcome, Output, Resource};
use crate::json::{Checker, Detail, Obj};
use crate::secrets::SecretVar;
use crate::verify::hmac::{Encoding, Prefix, secrets_from};
use crate::verify::{
    AuthError, HmacScheme, Inbound, SignatureFormat, TimestampedScheme, Verified, Verifier,
};

use super::{Normalized, Provider, unknown};

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

/// The sync.so provider.
#[derive(Debug, Clone)]
pub struct Syncso {
    timestamped: TimestampedScheme,
    plain: HmacScheme,
}

impl Syncso {
    /// A provider verifying `Sync-Signature` with `timestamped` and
    /// `X-Signature-Primary` with `plain`.
    pub fn new(timestamped: TimestampedScheme, plain: HmacScheme) -> Self {
        Self { timestamped, plain }
    }
}

impl Provider for Syncso {
    const SLUG: &'static str = "syncso";
    const SECRET_VARS: &'static [SecretVar] = &[SecretVar {
        name: "SYNCSO_WEBHOOK_SECRETS",
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
        let empty = || ConfigError::new(SECRETS_VAR, "holds an empty secret");
        let timestamped =
            TimestampedScheme::new(SYNC_SIGNATURE, keys.clone(), tolerance).ok_or_else(empty)?;
        let plain = HmacScheme::new(SIGNATURE_PRIMARY, keys).ok_or_else(empty)?;
        Ok(Self { timestamped, plain })
    }

    fn verify<'a>(&self, req: &Inbound<'a>) -> Result<Verified<'a>, AuthError> {
        // Presence, not validity, picks the header: see the module notes.
        if req.headers.contains_key(SYNC_SIGNATURE) {
            self.timestamped.verify(req)
        } else if req.headers.contains_key(SIGNATURE_PRIMARY.header) {
            self.plain.verify(req)
        } else {
            Err(AuthError::Missing("sync-signature or x-signature-primary"))
        }
    }

    fn normalize(text: &str, verified: &Verified<'_>) -> Result<Normalized, Vec<Detail>> {
        let mut c = Checker::new();
        let Some(root) = c.root(text) else {
            return c.finish(None);
        };
        // Generations write `createdAt` and carry no metrics; batches write
        // `created_at` and always carry metrics.
        let read = if root.has("metrics") || root.has("created_at") {
            batch(&mut c, &root)
        } else {
            generation(&mut c, &root)
        };
        let Some(read) = read.filter(|_| !c.has_errors()) else {
            return c.finish(None);
        };
        let outcome = outcome(&read.status);
        c.finish(Some(Normalized {
            // ASCII-only lowercasing keeps the length and leaves any other
            // text as sent; the gate escapes what SQS cannot carry.
            type_suffix: format!("{}.{}", read.kind, read.status.to_ascii_lowercase()),
            event: read.status.clone(),
            subject: read.id.clone(),
            // `t` is when sync.so signed this delivery: the closest thing to
            // an event time it sends (`createdAt` is when the job began).
            time: verified
                .verification()
                .signed_at
                .and_then(|t| DateTime::from_timestamp(t, 0)),
            outcome,
            resource: Resource {
                kind: read.kind.into(),
                id: read.id,
                parent: None,
            },
            status: Some(read.status),
            outputs: read.outputs,
            error: read.error,
        }))
    }
}

/// What either payload kind contributes to the envelope.
struct Read {
    kind: &'static str,
    id: String,
    status: String,
    outputs: Vec<Output>,
    error: Option<ErrorInfo>,
}

/// A Generation Status Update.
fn generation(c: &mut Checker, root: &Obj<'_>) -> Option<Read> {
    let id = root.req_str(c, "id");
    let status = root.req_str(c, "status");
    root.req_str(c, "createdAt");
    root.req_str(c, "model");
    root.req_arr(c, "input");
    let message = root.opt_str(c, "error");
    let code = root.opt_str(c, "error_code");
    root.opt_obj(c, "options");
    root.opt_num(c, "outputDuration");
    let output = root.opt_str(c, "outputUrl");
    let segment = root.opt_str(c, "segmentOutputUrl");
    root.opt_str(c, "webhookUrl");

    let outputs = [output, segment]
        .into_iter()
        .filter_map(present)
        .map(|url| Output {
            url,
            expires_at: None,
            size_bytes: None,
        })
        .collect();
    let (code, message) = (present(code), present(message));
    let error = (code.is_some() || message.is_some()).then_some(ErrorInfo { code, message });
    Some(Read {
        kind: "generation",
        id: id?.into_owned(),
        status: status?.into_owned(),
        outputs,
        error,
    })
}

/// The text of an optional string that says something: sync.so sends ""
/// rather than null for "none".
fn present(s: Option<Cow<'_, str>>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(Cow::into_owned)
}

/// A Batch Status Update.
fn batch(c: &mut Checker, root: &Obj<'_>) -> Option<Read> {
    let id = root.req_str(c, "id");
    let status = root.req_str(c, "status");
    root.req_str(c, "created_at");
    if let Some(metrics) = root.req_obj(c, "metrics") {
        for count in [
            "total_generations",
            "success_count",
            "failed_count",
            "pending_count",
        ] {
            metrics.req_int(c, count);
        }
    }
    // Required, but a batch still running has no results file yet, and
    // refusing its update over an empty URL would lose the event.
    let output = required_string(c, root, "outputUrl");
    root.opt_str(c, "webhookUrl");
    Some(Read {
        kind: "batch",
        id: id?.into_owned(),
        status: status?.into_owned(),
        outputs: present(output)
            .map(|url| Output {
                url,
                expires_at: None,
                size_bytes: None,
            })
            .into_iter()
            .collect(),
        error: None,
    })
}

/// A required string that may be empty: absent or `null` is a problem.
fn required_string<'a>(c: &mut Checker, obj: &Obj<'a>, key: &str) -> Option<Cow<'a, str>> {
    match obj.raw(key) {
        // `req_str` reports these as missing and as not a string.
        None => obj.req_str(c, key),
        Some(raw) if raw.get() == "null" => obj.req_str(c, key),
        Some(_) => obj.opt_str(c, key),
    }
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
mod pipeline;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::verify::Verification;
    use crate::verify::hmac::sign;

    const GENERATION: &str = r#"{"status":"COMPLETED","createdAt":"2025-11-23T12:30:00Z","id":"gen_7f3a","input":[{"type":"video","url":"https://example.com/video.mp4"},{"type":"audio","url":"https://example.com/audio.mp3"}],"model":"lipsync-2","error":"","error_code":"","options":{},"outputDuration":10,"outputUrl":"https://example.com/output.mp4","segmentOutputUrl":"https://example.com/segment_output.mp4","webhookUrl":"https://example.com/webhook"}"#;

    fn provider(extra: &[(&str, &str)]) -> Result<Syncso, ConfigError> {
        let mut src = HashMap::from([(SECRETS_VAR, "whsec_old,whsec_syncso_test_secret")]);
        src.extend(extra.iter().copied());
        Syncso::from_source(&src)
    }

    fn normalize_signed(text: &str, signed_at: Option<i64>) -> Result<Normalized, Vec<Detail>> {
        let v = Verified::new(
            text.as_bytes(),
            Verification {
                scheme: "hmac-sha256",
                key_index: 0,
                signed_at,
            },
        );
        Syncso::normalize(text, &v)
    }

    fn normalize(text: &str) -> Result<Normalized, Vec<Detail>> {
        normalize_signed(text, None)
    }

    fn problems(text: &str) -> Vec<String> {
        normalize(text)
            .unwrap_err()
            .iter()
            .map(|d| format!("{}:{}", serde_json::to_string(&d.loc).unwrap(), d.kind))
            .collect()
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
    fn generation_shape_errors_are_all_reported() {
        assert_eq!(
            problems(
                r#"{"id":"","status":1,"model":null,"input":{},"error":5,"options":[],"outputDuration":"10s","outputUrl":false}"#
            ),
            [
                r#"["body","id"]:string_too_short"#,
                r#"["body","status"]:string_type"#,
                r#"["body","createdAt"]:missing"#,
                r#"["body","model"]:string_type"#,
                r#"["body","input"]:list_type"#,
                r#"["body","error"]:string_type"#,
                r#"["body","options"]:dict_type"#,
                r#"["body","outputDuration"]:float_type"#,
                r#"["body","outputUrl"]:string_type"#,
            ]
        );
    }

    #[test]
    fn batch_shape_errors_are_all_reported() {
        assert_eq!(
            problems(
                r#"{"id":"b","status":"PENDING","metrics":{"total_generations":1.5,"success_count":"0","failed_count":null},"outputUrl":null}"#
            ),
            [
                r#"["body","created_at"]:missing"#,
                r#"["body","metrics","total_generations"]:int_type"#,
                r#"["body","metrics","success_count"]:int_type"#,
                r#"["body","metrics","failed_count"]:int_type"#,
                r#"["body","metrics","pending_count"]:missing"#,
                r#"["body","outputUrl"]:string_type"#,
            ]
        );
        assert_eq!(
            problems(r#"{"id":"b","status":"PENDING","created_at":"t","metrics":[]}"#),
            [
                r#"["body","metrics"]:dict_type"#,
                r#"["body","outputUrl"]:missing"#,
            ]
        );
    }

    #[test]
    fn neither_shape_is_refused() {
        assert_eq!(
            problems("{}"),
            [
                r#"["body","id"]:missing"#,
                r#"["body","status"]:missing"#,
                r#"["body","createdAt"]:missing"#,
                r#"["body","model"]:missing"#,
                r#"["body","input"]:missing"#,
            ]
        );
        assert_eq!(problems("[]"), [r#"["body"]:model_attributes_type"#]);
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
