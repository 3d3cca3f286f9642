//! Redner (transcription, translation, voice-over, dubbing): HMAC-SHA256 of
//! the raw body in `X-Redner-Signature: sha256=<hex>`.

use crate::config::{ConfigError, Source, Vars};
use crate::envelope::{ErrorInfo, Outcome, Output, Resource};
use crate::json::{Checker, Detail};
use crate::secrets::SecretVar;
use crate::verify::hmac::{Encoding, Prefix, secrets_from};
use crate::verify::{AuthError, HmacScheme, Inbound, SignatureFormat, Verified, Verifier};

use super::{Normalized, Provider, parse_time, unknown};

/// Where Redner puts its signature.
pub const SIGNATURE: SignatureFormat = SignatureFormat {
    header: "x-redner-signature",
    prefix: Prefix::Required("sha256="),
    encoding: Encoding::Hex,
};

/// The Redner provider.
#[derive(Debug, Clone)]
pub struct Redner {
    scheme: HmacScheme,
}

impl Redner {
    /// A provider verifying with `scheme`.
    pub fn new(scheme: HmacScheme) -> Self {
        Self { scheme }
    }
}

impl Provider for Redner {
    const SLUG: &'static str = "redner";
    const SECRET_VARS: &'static [SecretVar] = &[SecretVar {
        name: "REDNER_WEBHOOK_SECRETS",
        join: ",",
    }];

    fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        const VAR: &str = "REDNER_WEBHOOK_SECRETS";
        let keys = secrets_from(
            Vars(src),
            VAR,
            "set it to the webhook secret shown on Redner's settings page (comma-separate several to rotate)",
        )?;
        let scheme = HmacScheme::new(SIGNATURE, keys)
            .ok_or_else(|| ConfigError::new(VAR, "holds an empty secret"))?;
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
        let timestamp = root.req_str(&mut c, "timestamp");
        let data = root.req_obj(&mut c, "data");
        let Some(data) = data else {
            return c.finish(None);
        };
        let job_id = data.req_str(&mut c, "jobId");
        let status = data.req_str(&mut c, "status");
        data.opt_str(&mut c, "apiProduct");
        data.opt_num(&mut c, "duration");
        data.opt_num(&mut c, "wordCount");
        data.opt_num(&mut c, "cost");
        let outputs: Vec<Output> = data
            .opt_objects(&mut c, "outputs")
            .iter()
            .filter_map(|o| {
                let url = o.req_str(&mut c, "url");
                let expires_at = o.opt_str(&mut c, "expiresAt").and_then(|s| parse_time(&s));
                let size_bytes = o
                    .opt_int(&mut c, "sizeBytes")
                    .and_then(|n| u64::try_from(n).ok());
                Some(Output {
                    url: url?.into_owned(),
                    expires_at,
                    size_bytes,
                })
            })
            .collect();
        let (Some(event), Some(timestamp), Some(job_id), Some(status)) =
            (event, timestamp, job_id, status)
        else {
            return c.finish(None);
        };
        let outcome = outcome(&event, &status);
        let failed = outcome == Outcome::Failed;
        c.finish(Some(Normalized {
            type_suffix: event.to_string(),
            event: event.into_owned(),
            subject: job_id.to_string(),
            time: parse_time(&timestamp),
            outcome,
            resource: Resource {
                kind: "job".into(),
                id: job_id.into_owned(),
                parent: None,
            },
            error: failed.then(|| ErrorInfo {
                code: Some(status.to_string()),
                message: None,
            }),
            status: Some(status.into_owned()),
            outputs,
        }))
    }
}

/// Redner's event names say where a job is; its failure statuses are the
/// more specific word, so they win.
fn outcome(event: &str, status: &str) -> Outcome {
    const KNOWN_STATUSES: [&str; 11] = [
        "created",
        "transcribing",
        "transcribed",
        "translating",
        "translated",
        "dubbing",
        "dubbed",
        "merging",
        "merged",
        "failed",
        "rejected",
    ];
    if matches!(status, "failed" | "rejected") {
        return Outcome::Failed;
    }
    if !KNOWN_STATUSES.contains(&status) {
        unknown(Redner::SLUG, "status", status);
    }
    match event {
        "job.created" => Outcome::Created,
        "job.processing" => Outcome::Processing,
        "job.completed" => Outcome::Succeeded,
        "job.failed" => Outcome::Failed,
        other => unknown(Redner::SLUG, "event", other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{Verification, Verified};

    fn normalize(text: &str) -> Result<Normalized, Vec<Detail>> {
        let v = Verified::new(
            text.as_bytes(),
            Verification {
                scheme: "hmac-sha256",
                key_index: 0,
                signed_at: None,
            },
        );
        Redner::normalize(text, &v)
    }

    #[test]
    fn completed_job() {
        let n = normalize(
            r#"{"event":"job.completed","timestamp":"2025-11-23T12:34:56Z","data":{"jobId":"job_abc123","status":"merged","apiProduct":"dub","duration":125.5,"cost":1.20,"outputs":[{"url":"https://x/y.mp4","expiresAt":"2025-11-23T13:34:56Z","sizeBytes":45678901}]}}"#,
        )
        .unwrap();
        assert_eq!(n.type_suffix, "job.completed");
        assert_eq!(n.subject, "job_abc123");
        assert_eq!(n.outcome, Outcome::Succeeded);
        assert_eq!(n.status.as_deref(), Some("merged"));
        assert_eq!(n.time.unwrap().to_rfc3339(), "2025-11-23T12:34:56+00:00");
        assert_eq!(n.outputs.len(), 1);
        assert_eq!(n.outputs[0].size_bytes, Some(45_678_901));
        assert_eq!(
            n.outputs[0].expires_at.unwrap().to_rfc3339(),
            "2025-11-23T13:34:56+00:00"
        );
        assert_eq!(n.error, None);
    }

    #[test]
    fn outcomes() {
        let cases = [
            ("job.created", "created", Outcome::Created),
            ("job.processing", "dubbing", Outcome::Processing),
            ("job.completed", "transcribed", Outcome::Succeeded),
            ("job.failed", "failed", Outcome::Failed),
            ("job.failed", "rejected", Outcome::Failed),
            ("job.archived", "merged", Outcome::Unknown),
            ("job.processing", "levitating", Outcome::Processing),
        ];
        for (event, status, want) in cases {
            let text = format!(
                r#"{{"event":"{event}","timestamp":"2025-11-23T12:34:56Z","data":{{"jobId":"j","status":"{status}"}}}}"#
            );
            let n = normalize(&text).unwrap();
            assert_eq!(n.outcome, want, "{event} {status}");
            assert_eq!(n.error.is_some(), want == Outcome::Failed);
        }
    }

    #[test]
    fn unparseable_time_is_left_to_receipt_time() {
        let n = normalize(
            r#"{"event":"job.created","timestamp":"soon","data":{"jobId":"j","status":"created"}}"#,
        )
        .unwrap();
        assert_eq!(n.time, None);
    }

    #[test]
    fn shape_errors_are_all_reported() {
        let errs = normalize(r#"{"event":1,"data":{"jobId":"","status":"x","cost":"free","outputs":[{"sizeBytes":"big"}]}}"#)
            .unwrap_err();
        let locs: Vec<String> = errs
            .iter()
            .map(|d| format!("{}:{}", serde_json::to_string(&d.loc).unwrap(), d.kind))
            .collect();
        assert_eq!(
            locs,
            [
                r#"["body","event"]:string_type"#,
                r#"["body","timestamp"]:missing"#,
                r#"["body","data","jobId"]:string_too_short"#,
                r#"["body","data","cost"]:float_type"#,
                r#"["body","data","outputs",0,"url"]:missing"#,
                r#"["body","data","outputs",0,"sizeBytes"]:int_type"#,
            ]
        );
        assert!(normalize(r#"{"event":"job.created","timestamp":"t"}"#).is_err());
        assert!(normalize(r#"{"event":"job.created","timestamp":"t","data":[]}"#).is_err());
        assert!(normalize("[]").is_err());
    }
}
