//! One JSON line per request on stdout: the request's log record and its
//! CloudWatch Embedded Metric Format record at once, which Lambda's log
//! pipeline turns into metrics with no API call on the request path.
//!
//! One record, nothing written twice: CloudWatch Logs bills every byte
//! ingested, and at a few hundred bytes a request the log costs about as
//! much as the SQS message. The record carries what an operator searches by
//! (provider, type, outcome, event id, request id, status, error code and
//! cause, latency) beside the metric values.
//!
//! Every distinct metric name and dimension value is a custom metric billed
//! by the month, so the record publishes few: one dimension set,
//! `[provider]`, and the [`COUNTERS`] and [`LATENCIES`] below, eight per
//! provider. How requests split by outcome or refusal reason stays in the
//! record's fields, for CloudWatch Logs Insights, not in dimensions.
//!
//! The record has no `level` field on purpose: with JSON logs, Lambda's
//! application log-level filter drops records by that field, and a dropped
//! record would be a lost metric.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The CloudWatch namespace.
pub const NAMESPACE: &str = "hookgate";

/// The dimension sets every metric is recorded under.
pub const DIMENSIONS: [&[&str]; 1] = [&["provider"]];

/// Every counter a record can carry. The template's alarms and dashboard
/// may name only these and [`LATENCIES`] (a test checks it).
pub const COUNTERS: [&str; 6] = [
    "Accepted",
    "Quarantined",
    "Rejected",
    "RejectedAuth",
    "EnqueueFailures",
    "InternalErrors",
];

/// The latencies a record carries, in milliseconds.
pub const LATENCIES: [&str; 2] = ["RequestLatency", "SqsLatency"];

/// How a request ended, as its record says it.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer<'a> {
    /// On the events queue.
    Accepted {
        /// The envelope `type`.
        event_type: &'a str,
        /// The event's outcome.
        outcome: &'a str,
        /// The event id.
        event_id: &'a str,
    },
    /// On the quarantine queue.
    Quarantined {
        /// The event id.
        event_id: &'a str,
        /// Why it could not be normalized, for a person.
        reasons: &'a str,
    },
    /// Refused, or failed.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The `error` code of the answer.
        error: &'static str,
        /// Why, for the log only.
        cause: &'a str,
        /// `rejected`, `enqueue_failed` or `error`.
        outcome: &'static str,
        /// The counters it adds one to.
        counters: &'static [&'static str],
    },
}

/// What one request contributes to the log and the metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord<'a> {
    /// The provider slug.
    pub provider: &'a str,
    /// The front's request id, for finding the request.
    pub request_id: &'a str,
    /// How it ended.
    pub answer: Answer<'a>,
    /// Time in the handler.
    pub request_ms: f64,
    /// Time in the SQS send, when one was attempted.
    pub sqs_ms: Option<f64>,
}

/// Milliseconds to the microsecond: more digits are noise, and bytes.
fn ms(v: f64) -> Value {
    json!((v * 1000.0).round() / 1000.0)
}

impl RequestRecord<'_> {
    /// The counters this request adds one to.
    pub fn counters(&self) -> &'static [&'static str] {
        match self.answer {
            Answer::Accepted { .. } => &["Accepted"],
            Answer::Quarantined { .. } => &["Quarantined"],
            Answer::Refused { counters, .. } => counters,
        }
    }

    /// The record, as a JSON object.
    pub fn record(&self, at: DateTime<Utc>) -> Value {
        let mut fields = Map::new();
        let mut metrics = Vec::new();
        for counter in self.counters() {
            metrics.push(json!({"Name": counter, "Unit": "Count"}));
            fields.insert((*counter).into(), json!(1));
        }
        metrics.push(json!({"Name": "RequestLatency", "Unit": "Milliseconds"}));
        fields.insert("RequestLatency".into(), ms(self.request_ms));
        if let Some(sqs) = self.sqs_ms {
            metrics.push(json!({"Name": "SqsLatency", "Unit": "Milliseconds"}));
            fields.insert("SqsLatency".into(), ms(sqs));
        }
        fields.insert(
            "_aws".into(),
            json!({
                "Timestamp": at.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": DIMENSIONS,
                    "Metrics": metrics,
                }],
            }),
        );
        fields.insert("provider".into(), json!(self.provider));
        fields.insert("request_id".into(), json!(self.request_id));
        let (status, outcome) = match &self.answer {
            Answer::Accepted {
                event_type,
                outcome,
                event_id,
            } => {
                fields.insert("type".into(), json!(event_type));
                fields.insert("event_id".into(), json!(event_id));
                (200, *outcome)
            }
            Answer::Quarantined { event_id, reasons } => {
                fields.insert("event_id".into(), json!(event_id));
                fields.insert("reasons".into(), json!(reasons));
                (200, "quarantined")
            }
            Answer::Refused {
                status,
                error,
                cause,
                outcome,
                ..
            } => {
                fields.insert("error".into(), json!(error));
                fields.insert("cause".into(), json!(cause));
                (*status, *outcome)
            }
        };
        fields.insert("status".into(), json!(status));
        fields.insert("outcome".into(), json!(outcome));
        Value::Object(fields)
    }

    /// Writes the record as one line on stdout.
    pub fn emit(&self, at: DateTime<Utc>) {
        // One line, written whole (stdout is locked for the line).
        println!("{}", self.record(at));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::error::Rejection;
    use crate::verify::AuthError;

    fn accepted() -> RequestRecord<'static> {
        RequestRecord {
            provider: "redner",
            request_id: "r1",
            answer: Answer::Accepted {
                event_type: "redner.job.completed",
                outcome: "succeeded",
                event_id: "abc",
            },
            request_ms: 1.234_567,
            sqs_ms: Some(1.0),
        }
    }

    #[test]
    fn record_shape() {
        let r = accepted().record(DateTime::from_timestamp_millis(1_700_000_000_123).unwrap());
        assert_eq!(r["_aws"]["Timestamp"], 1_700_000_000_123_i64);
        let cw = &r["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "hookgate");
        assert_eq!(cw["Dimensions"], json!([["provider"]]));
        let names: Vec<&str> = cw["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Accepted", "RequestLatency", "SqsLatency"]);
        // Every metric and dimension named has a value in the record.
        for name in names.iter().chain(["provider"].iter()) {
            assert!(!r[name].is_null(), "{name}");
        }
        assert_eq!(r["Accepted"], 1);
        assert_eq!(r["RequestLatency"], 1.235);
        for (field, want) in [
            ("provider", json!("redner")),
            ("type", json!("redner.job.completed")),
            ("outcome", json!("succeeded")),
            ("event_id", json!("abc")),
            ("request_id", json!("r1")),
            ("status", json!(200)),
        ] {
            assert_eq!(r[field], want, "{field}");
        }
        assert!(r.get("level").is_none(), "a level would let Lambda drop it");
    }

    #[test]
    fn refusals_and_quarantine() {
        let auth = Rejection::Unauthorized(AuthError::Missing("x-redner-signature"));
        let cause = auth.to_string();
        let r = RequestRecord {
            provider: "syncso",
            request_id: "r2",
            answer: auth.answer(&cause),
            request_ms: 0.2,
            sqs_ms: None,
        }
        .record(Utc::now());
        let names: Vec<&str> = r["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Rejected", "RejectedAuth", "RequestLatency"]);
        assert_eq!(
            (r["status"].clone(), r["error"].clone()),
            (json!(401), json!("unauthorized"))
        );
        assert_eq!(r["outcome"], "rejected");
        assert_eq!(r["cause"], "unauthorized: x-redner-signature is missing");
        assert!(r.get("SqsLatency").is_none() && r.get("event_id").is_none());

        let q = RequestRecord {
            provider: "syncso",
            request_id: "r3",
            answer: Answer::Quarantined {
                event_id: "def",
                reasons: "body.id: Field required",
            },
            request_ms: 0.5,
            sqs_ms: Some(0.4),
        }
        .record(Utc::now());
        assert_eq!(q["Quarantined"], 1);
        assert_eq!(
            (q["status"].clone(), q["outcome"].clone()),
            (json!(200), json!("quarantined"))
        );
        assert_eq!(q["reasons"], "body.id: Field required");
    }

    #[test]
    fn every_answer_stays_within_the_published_metrics() {
        let rejections = [
            Rejection::MethodNotAllowed,
            Rejection::BodyTooLarge(1),
            Rejection::EnvelopeTooLarge(1),
            Rejection::Unauthorized(AuthError::Stale),
            Rejection::InvalidJson(crate::json::JsonError::Bom),
            Rejection::InvalidPayload(Vec::new()),
            Rejection::QueueUnavailable(crate::sink::SinkError::Failed("x".into())),
            Rejection::Internal("x".into()),
        ];
        let mut answers: Vec<Answer<'_>> = rejections.iter().map(|r| r.answer("c")).collect();
        answers.push(Answer::Quarantined {
            event_id: "e",
            reasons: "r",
        });
        answers.push(accepted().answer);
        let mut published = BTreeSet::new();
        for answer in answers {
            let r = RequestRecord {
                provider: "redner",
                request_id: "r",
                answer,
                request_ms: 1.0,
                sqs_ms: Some(1.0),
            }
            .record(Utc::now());
            let cw = &r["_aws"]["CloudWatchMetrics"][0];
            for m in cw["Metrics"].as_array().unwrap() {
                let name = m["Name"].as_str().unwrap();
                assert!(
                    COUNTERS.contains(&name) || LATENCIES.contains(&name),
                    "{name} is in neither list"
                );
                published.insert(name.to_owned());
            }
        }
        assert_eq!(published.len(), COUNTERS.len() + LATENCIES.len());
    }
}
