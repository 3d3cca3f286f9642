//! Redner (transcription, translation, voice-over, dubbing): HMAC-SHA256 of
//! the raw body in `X-Redner-Signature: sha256=<hex>`.

use serde::Deserialize;

use crate::config::{ConfigError, Source, Vars};
use crate::envelope::{ErrorInfo, Outcome, Output, Resource};
use crate::json::{At, Detail, Int, Lax, Object, Reader, Text};
use crate::secrets::SecretVar;
use crate::verify::hmac::{Encoding, Prefix, secrets_from};
use crate::verify::{AuthError, HmacScheme, Inbound, SignatureFormat, Verified, Verifier};

use super::{
    Credential, CredentialKind, Normalized, Provider, Sample, Sender, SignError, Style, parse_time,
    unknown,
};
use crate::verify::Signed;

/// The variable holding the webhook secrets.
pub const SECRETS_VAR: &str = "REDNER_WEBHOOK_SECRETS";

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

impl Provider for Redner {
    const SLUG: &'static str = "redner";
    const SECRET_VARS: &'static [SecretVar] = &[SecretVar {
        name: SECRETS_VAR,
        join: ",",
    }];

    fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let keys = secrets_from(
            Vars(src),
            SECRETS_VAR,
            "set it to the webhook secret shown on Redner's settings page (comma-separate several to rotate)",
        )?;
        Ok(Self {
            scheme: HmacScheme::new(SIGNATURE, keys, SECRETS_VAR)?,
        })
    }

    const SENDER: Sender = Sender {
        name: "Redner",
        credential: CredentialKind::Secret,
        styles: &[Style {
            name: "signature",
            about: "X-Redner-Signature: sha256=<hex HMAC-SHA256 of the body>",
            requires: None,
        }],
        signed_time: None,
        covers_body: true,
        sample: Sample {
            template: r#"{"event":"job.completed","timestamp":"2025-11-23T12:34:56Z","data":{"jobId":"job_{n}","status":"merged","apiProduct":"{text}"}}"#,
            text: "dub",
            unusable: r#"{"event":"job.completed","timestamp":"2025-11-23T12:34:56Z","data":{"jobId":12,"status":"merged"}}"#,
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
        let secret = credential.shared(Self::SENDER.credential)?;
        Ok(SIGNATURE.sign(secret, body))
    }

    fn normalize(text: &str, _verified: &Verified<'_>) -> Result<Normalized, Vec<Detail>> {
        let mut r = Reader::new(Self::SLUG);
        let Some(body) = r.root::<Body<'_>>(text) else {
            return r.finish(None);
        };
        let event = r.required_text(&[At::Key("event")], body.event);
        let data = r.required(&[At::Key("data")], body.data);
        // `timestamp` may be late or garbled: receipt time stands in.
        let time = r
            .optional(&[At::Key("timestamp")], body.timestamp)
            .and_then(|t| parse_time(&t));
        let Some(Object(data)) = data else {
            return r.finish(None);
        };
        let job_id = r.required_text(&[At::Key("data"), At::Key("jobId")], data.job_id);
        let status = r
            .optional(&[At::Key("data"), At::Key("status")], data.status)
            .filter(|s| !s.is_empty());
        let outputs = outputs(&r, data.outputs);
        let (Some(event), Some(job_id)) = (event, job_id) else {
            return r.finish(None);
        };
        let outcome = outcome(&event, status.as_deref());
        let failed = outcome == Outcome::Failed;
        r.finish(Some(Normalized {
            type_suffix: event.to_string(),
            event: event.into_owned(),
            subject: job_id.to_string(),
            time,
            outcome,
            resource: Resource {
                kind: "job".into(),
                id: job_id.into_owned(),
                parent: None,
            },
            error: failed.then(|| ErrorInfo {
                code: status.as_ref().map(ToString::to_string),
                message: None,
            }),
            status: status.map(Text::into_owned),
            outputs,
        }))
    }
}

/// What hookgate reads of a delivery: `apiProduct`, `duration`, `wordCount`
/// and `cost` are not among it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Body<'a> {
    #[serde(borrow)]
    event: Lax<Text<'a>>,
    #[serde(borrow)]
    timestamp: Lax<Text<'a>>,
    #[serde(borrow)]
    data: Lax<Object<Data<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Data<'a> {
    #[serde(borrow, rename = "jobId")]
    job_id: Lax<Text<'a>>,
    #[serde(borrow)]
    status: Lax<Text<'a>>,
    #[serde(borrow)]
    outputs: Lax<Vec<Lax<Object<OutputItem<'a>>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutputItem<'a> {
    #[serde(borrow)]
    url: Lax<Text<'a>>,
    #[serde(borrow, rename = "expiresAt")]
    expires_at: Lax<Text<'a>>,
    #[serde(rename = "sizeBytes")]
    size_bytes: Lax<Int<u64>>,
}

/// The produced files; an item without a usable URL is logged and skipped,
/// the other fields of an item are each left out when unusable.
fn outputs(r: &Reader, items: Lax<Vec<Lax<Object<OutputItem<'_>>>>>) -> Vec<Output> {
    const OUTPUTS: At = At::Key("outputs");
    let data = At::Key("data");
    let Some(items) = r.optional(&[data, OUTPUTS], items) else {
        return Vec::new();
    };
    items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let at = |key| [data, OUTPUTS, At::Index(i), At::Key(key)];
            // A `null` item is as useless as a string one: both are skipped.
            let Lax::Value(Object(item)) = item else {
                r.unexpected(&[data, OUTPUTS, At::Index(i)], "object");
                return None;
            };
            let url = match item.url {
                Lax::Value(url) if !url.is_empty() => url,
                _ => {
                    r.unexpected(&at("url"), "non-empty string");
                    return None;
                }
            };
            Some(Output {
                url: url.into_owned(),
                expires_at: r
                    .optional(&at("expiresAt"), item.expires_at)
                    .and_then(|t| parse_time(&t)),
                size_bytes: r.optional(&at("sizeBytes"), item.size_bytes).map(|n| n.0),
            })
        })
        .collect()
}

/// Redner's event names say where a job is; its failure statuses are the
/// more specific word, so they win.
fn outcome(event: &str, status: Option<&str>) -> Outcome {
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
    if let Some(status) = status {
        if matches!(status, "failed" | "rejected") {
            return Outcome::Failed;
        }
        if !KNOWN_STATUSES.contains(&status) {
            unknown(Redner::SLUG, "status", status);
        }
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

    fn normalize(text: &str) -> Result<Normalized, Vec<Detail>> {
        crate::testing::normalize::<Redner>(text, None)
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

    fn problems(text: &str) -> Vec<String> {
        crate::testing::problems::<Redner>(text)
    }

    #[test]
    fn integral_floats_nulls_and_extra_fields() {
        let n = normalize(
            r#"{"event":"job.completed","timestamp":null,"id":"evt_1","data":{"jobId":"j1","status":"transcribed","apiProduct":null,"duration":"2m","wordCount":1.5,"cost":{"usd":1},"language":"fr","outputs":[{"url":"https://x/a.srt","expiresAt":null,"sizeBytes":45678901.0,"format":"srt"},{"url":"https://x/b.txt","sizeBytes":1e3}]}}"#,
        )
        .unwrap();
        assert_eq!(n.time, None);
        assert_eq!(n.outcome, Outcome::Succeeded);
        assert_eq!(n.status.as_deref(), Some("transcribed"));
        let got: Vec<(&str, Option<u64>, bool)> = n
            .outputs
            .iter()
            .map(|o| (o.url.as_str(), o.size_bytes, o.expires_at.is_some()))
            .collect();
        assert_eq!(
            got,
            [
                ("https://x/a.srt", Some(45_678_901), false),
                ("https://x/b.txt", Some(1000), false)
            ]
        );
    }

    #[test]
    fn optional_fields_may_be_missing() {
        let n = normalize(r#"{"event":"job.processing","data":{"jobId":"j2"}}"#).unwrap();
        assert_eq!(n.subject, "j2");
        assert_eq!((n.time, n.status), (None, None));
        assert_eq!(n.outcome, Outcome::Processing);
        assert!(n.outputs.is_empty());
        // Without a status the event says it failed; there is no code.
        let n =
            normalize(r#"{"event":"job.failed","data":{"jobId":"j2","outputs":null}}"#).unwrap();
        assert_eq!(n.outcome, Outcome::Failed);
        assert_eq!(
            n.error,
            Some(ErrorInfo {
                code: None,
                message: None
            })
        );
        let n =
            normalize(r#"{"event":"job.completed","data":{"jobId":"j2","status":""}}"#).unwrap();
        assert_eq!((n.status, n.outcome), (None, Outcome::Succeeded));
    }

    #[test]
    fn wrong_typed_optional_fields_are_left_out() {
        let n = normalize(
            r#"{"event":"job.failed","timestamp":1732365296,"data":{"jobId":"j3","status":7,"outputs":[{"url":"https://x/ok","expiresAt":3600,"sizeBytes":"big"},{"url":5},{"sizeBytes":1},"https://x/str",null,[],{"url":""},{"url":"https://x/neg","sizeBytes":-1},{"url":"https://x/frac","sizeBytes":1.5}]}}"#,
        )
        .unwrap();
        assert_eq!(n.time, None);
        assert_eq!(n.status, None);
        assert_eq!(n.outcome, Outcome::Failed);
        let got: Vec<(&str, Option<u64>)> = n
            .outputs
            .iter()
            .map(|o| (o.url.as_str(), o.size_bytes))
            .collect();
        assert_eq!(
            got,
            [
                ("https://x/ok", None),
                ("https://x/neg", None),
                ("https://x/frac", None)
            ]
        );
        assert!(n.outputs.iter().all(|o| o.expires_at.is_none()));
        let n =
            normalize(r#"{"event":"job.completed","data":{"jobId":"j3","outputs":{"url":"x"}}}"#)
                .unwrap();
        assert!(n.outputs.is_empty());
    }

    #[test]
    fn left_out_fields_are_logged_by_location() {
        let log = crate::json::logged(|| {
            let n = normalize(
                r#"{"event":"job.completed","data":{"jobId":"j","outputs":[{"url":"https://x/a","sizeBytes":"secret-sized"},7]}}"#,
            )
            .unwrap();
            assert_eq!(n.outputs.len(), 1);
        });
        assert!(
            log.contains(r#""field":"data.outputs[0].sizeBytes""#),
            "{log}"
        );
        assert!(log.contains(r#""field":"data.outputs[1]""#), "{log}");
        assert!(log.contains(r#""provider":"redner""#), "{log}");
        assert!(!log.contains("secret-sized"), "{log}");
    }

    #[test]
    fn required_field_problems_are_all_reported() {
        // `cost`, `sizeBytes` and a missing `url` are no longer problems.
        let errs = normalize(
            r#"{"event":1,"data":{"jobId":"","status":"x","cost":"free","outputs":[{"sizeBytes":"big"}]}}"#,
        )
        .unwrap_err();
        assert_eq!(
            serde_json::to_value(&errs).unwrap(),
            serde_json::json!([
                {"loc": ["body", "event"], "msg": "Input should be a valid string", "type": "string_type"},
                {"loc": ["body", "data", "jobId"], "msg": "String should have at least 1 character", "type": "string_too_short"},
            ])
        );
        assert_eq!(
            problems(r#"{"event":"job.created","timestamp":"t"}"#),
            [r#"["body","data"]:missing"#]
        );
        assert_eq!(
            problems(r#"{"event":"job.created","data":null}"#),
            [r#"["body","data"]:missing"#]
        );
        assert_eq!(
            problems(r#"{"timestamp":"t","data":[]}"#),
            [
                r#"["body","event"]:missing"#,
                r#"["body","data"]:dict_type"#
            ]
        );
        assert_eq!(
            problems(r#"{"event":"job.created","data":{"jobId":42,"status":"created"}}"#),
            [r#"["body","data","jobId"]:string_type"#]
        );
        assert_eq!(
            problems(r#"{"event":"","data":{"status":"created"}}"#),
            [
                r#"["body","event"]:string_too_short"#,
                r#"["body","data","jobId"]:missing"#
            ]
        );
        for root in ["[]", "[\"job.created\"]", "null", "\"job.created\""] {
            assert_eq!(problems(root), [r#"["body"]:model_attributes_type"#]);
        }
    }
}
