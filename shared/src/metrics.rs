//! One CloudWatch Embedded Metric Format record per request, on stdout,
//! where Lambda's log pipeline turns it into metrics with no API call on
//! the request path.
//!
//! Namespace `hookgate`; dimensions `provider` + `outcome` and `provider`
//! alone (what the alarms use). Each record carries one counter (accepted,
//! quarantined, or the reason for a refusal), the request latency and, when
//! a send was attempted, the SQS latency.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// The CloudWatch namespace.
pub const NAMESPACE: &str = "hookgate";

/// The dimension sets every metric is recorded under.
pub const DIMENSIONS: [&[&str]; 2] = [&["provider", "outcome"], &["provider"]];

/// Every counter a record can carry: [`counter_for`]'s answers, and
/// `Quarantined` for a delivery kept on the quarantine queue. The template's
/// alarms and dashboard may name only these and [`LATENCIES`] (a test
/// checks it).
pub const COUNTERS: [&str; 9] = [
    "Accepted",
    "Quarantined",
    "RejectedMethod",
    "RejectedSize",
    "RejectedAuth",
    "RejectedJson",
    "RejectedSchema",
    "EnqueueFailures",
    "InternalErrors",
];

/// The latencies a record carries, in milliseconds.
pub const LATENCIES: [&str; 2] = ["RequestLatency", "SqsLatency"];

/// The counter for a response: `Accepted`, or why it was refused.
pub fn counter_for(error: Option<&str>) -> &'static str {
    match error {
        None => "Accepted",
        Some("method_not_allowed") => "RejectedMethod",
        Some("payload_too_large") => "RejectedSize",
        Some("unauthorized") => "RejectedAuth",
        Some("invalid_json") => "RejectedJson",
        Some("invalid_payload") => "RejectedSchema",
        Some("queue_unavailable") => "EnqueueFailures",
        Some(_) => "InternalErrors",
    }
}

/// What one request contributes.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestMetrics<'a> {
    /// The provider slug.
    pub provider: &'a str,
    /// The event's outcome when accepted, else `quarantined`, `rejected`,
    /// `enqueue_failed` or `error`.
    pub outcome: &'a str,
    /// The counter to add one to: `Accepted`, `Quarantined`, or
    /// [`counter_for`] a refusal.
    pub counter: &'static str,
    /// Time in the handler.
    pub request_ms: f64,
    /// Time in the SQS send, when one was attempted.
    pub sqs_ms: Option<f64>,
    /// The event id, when there is one (a property, not a dimension).
    pub event_id: Option<&'a str>,
    /// The API Gateway request id (a property, for finding the request).
    pub request_id: &'a str,
}

impl RequestMetrics<'_> {
    /// The EMF record.
    pub fn record(&self, at: DateTime<Utc>) -> Value {
        let mut metrics = vec![
            json!({"Name": self.counter, "Unit": "Count"}),
            json!({"Name": "RequestLatency", "Unit": "Milliseconds"}),
        ];
        if self.sqs_ms.is_some() {
            metrics.push(json!({"Name": "SqsLatency", "Unit": "Milliseconds"}));
        }
        let mut record = json!({
            "_aws": {
                "Timestamp": at.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": DIMENSIONS,
                    "Metrics": metrics,
                }],
            },
            "provider": self.provider,
            "outcome": self.outcome,
            self.counter: 1,
            "RequestLatency": self.request_ms,
            "request_id": self.request_id,
        });
        if let Some(obj) = record.as_object_mut() {
            if let Some(ms) = self.sqs_ms {
                obj.insert("SqsLatency".into(), json!(ms));
            }
            if let Some(id) = self.event_id {
                obj.insert("event_id".into(), json!(id));
            }
        }
        record
    }

    /// Writes the record as one line on stdout.
    pub fn emit(&self, at: DateTime<Utc>) {
        // One line, written whole (stdout is locked for the line).
        println!("{}", self.record(at));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_shape() {
        let m = RequestMetrics {
            provider: "redner",
            outcome: "succeeded",
            counter: counter_for(None),
            request_ms: 1.5,
            sqs_ms: Some(1.0),
            event_id: Some("abc"),
            request_id: "r1",
        };
        let r = m.record(DateTime::from_timestamp_millis(1_700_000_000_123).unwrap());
        assert_eq!(r["_aws"]["Timestamp"], 1_700_000_000_123_i64);
        let cw = &r["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "hookgate");
        assert_eq!(
            cw["Dimensions"],
            json!([["provider", "outcome"], ["provider"]])
        );
        let names: Vec<&str> = cw["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Accepted", "RequestLatency", "SqsLatency"]);
        // Every metric and dimension named has a value in the record.
        for name in names.iter().chain(["provider", "outcome"].iter()) {
            assert!(!r[name].is_null(), "{name}");
        }
        assert_eq!(r["Accepted"], 1);
    }

    #[test]
    fn refusals_count_by_reason() {
        let cases = [
            ("method_not_allowed", "RejectedMethod"),
            ("payload_too_large", "RejectedSize"),
            ("unauthorized", "RejectedAuth"),
            ("invalid_json", "RejectedJson"),
            ("invalid_payload", "RejectedSchema"),
            ("queue_unavailable", "EnqueueFailures"),
            ("internal_error", "InternalErrors"),
        ];
        for (code, counter) in cases {
            assert_eq!(counter_for(Some(code)), counter);
        }
        let m = RequestMetrics {
            provider: "syncso",
            outcome: "rejected",
            counter: "RejectedAuth",
            request_ms: 0.2,
            sqs_ms: None,
            event_id: None,
            request_id: "r2",
        };
        let r = m.record(Utc::now());
        assert_eq!(
            r["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert!(r.get("SqsLatency").is_none() && r.get("event_id").is_none());
    }

    #[test]
    fn the_published_lists_hold_every_metric_a_record_names() {
        let codes = [
            None,
            Some("method_not_allowed"),
            Some("payload_too_large"),
            Some("unauthorized"),
            Some("invalid_json"),
            Some("invalid_payload"),
            Some("queue_unavailable"),
            Some("internal_error"),
            Some("something_new"),
        ];
        for code in codes {
            let m = RequestMetrics {
                provider: "redner",
                outcome: "x",
                counter: counter_for(code),
                request_ms: 1.0,
                sqs_ms: Some(1.0),
                event_id: None,
                request_id: "r",
            };
            let r = m.record(Utc::now());
            let cw = &r["_aws"]["CloudWatchMetrics"][0];
            for name in cw["Metrics"].as_array().unwrap() {
                let name = name["Name"].as_str().unwrap();
                assert!(
                    COUNTERS.contains(&name) || LATENCIES.contains(&name),
                    "{name} is in neither list"
                );
            }
            assert_eq!(cw["Dimensions"], json!(DIMENSIONS));
        }
    }
}
