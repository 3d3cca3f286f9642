//! The batch logic against messages written by hookgate's own pipeline.

use std::cell::RefCell;
use std::collections::HashMap;

use hookgate::providers::Redner;
use hookgate::verify::hmac::sign;
use hookgate::{Config, Gate, MemorySink, Outcome};
use serde_json::json;

use super::*;

const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:hookgate-events";
const FIFO_QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:hookgate-events.fifo";

/// A message body exactly as the Redner function puts it on the queue.
async fn envelope_body(job: &str) -> String {
    let secret = "whsec_consumer_test";
    let src = HashMap::from([
        ("QUEUE_URL", "http://127.0.0.1:1/123456789012/events"),
        ("REDNER_WEBHOOK_SECRETS", secret),
    ]);
    let config = Config::<Redner>::from_source(&src).unwrap();
    let gate = Gate::new(config, MemorySink::default());
    let body = json!({
        "event": "job.completed",
        "timestamp": "2025-11-23T12:34:56Z",
        "data": {"jobId": job, "status": "merged"}
    })
    .to_string();
    let tag = hex::encode(sign(secret.as_bytes(), &[body.as_bytes()]));
    let event = json!({
        "version": "2.0",
        "routeKey": "ANY /webhooks/redner",
        "rawPath": "/webhooks/redner",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-redner-signature": format!("sha256={tag}")},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "example.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "example",
            "http": {"method": "POST", "path": "/webhooks/redner", "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.9", "userAgent": "redner"},
            "requestId": "Jx2kQhV0IAMEbNw=",
            "routeKey": "ANY /webhooks/redner",
            "stage": "$default",
            "time": "23/Nov/2025:12:34:57 +0000",
            "timeEpoch": 1_763_901_297_120_i64
        },
        "body": body,
        "isBase64Encoded": false
    });
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let response = gate.handle(request).await;
    assert_eq!(response.status(), 200);
    let mut sent = gate.sink().take();
    assert_eq!(sent.len(), 1);
    sent.remove(0).body
}

/// An SQS event as Lambda delivers it; `None` leaves the field out.
fn sqs_event(arn: &str, records: &[(Option<&str>, Option<&str>)]) -> SqsEvent {
    let records: Vec<_> = records
        .iter()
        .map(|(id, body)| {
            let mut r = json!({
                "receiptHandle": "AQEB",
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1"
            });
            if let Some(id) = id {
                r["messageId"] = json!(id);
            }
            if let Some(body) = body {
                r["body"] = json!(body);
            }
            r
        })
        .collect();
    serde_json::from_value(json!({"Records": records})).unwrap()
}

fn failures(response: &SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

/// Records what was processed; fails the subjects it is told to.
#[derive(Default)]
struct Recorder {
    seen: RefCell<Vec<Envelope>>,
    refuse: Vec<String>,
}

impl Recorder {
    fn process(&self, envelope: Envelope) -> impl Future<Output = Result<(), String>> + use<> {
        let result = if self.refuse.contains(&envelope.subject) {
            Err(format!("refused {}", envelope.subject))
        } else {
            Ok(())
        };
        self.seen.borrow_mut().push(envelope);
        async move { result }
    }

    fn subjects(&self) -> Vec<String> {
        self.seen
            .borrow()
            .iter()
            .map(|e| e.subject.clone())
            .collect()
    }
}

#[tokio::test]
async fn a_good_message_is_read_with_the_envelope_type() {
    let body = envelope_body("job_1").await;
    let rec = Recorder::default();
    let event = sqs_event(QUEUE_ARN, &[(Some("m1"), Some(&body))]);
    let response = handle_batch(event, |e| rec.process(e)).await.unwrap();
    assert!(failures(&response).is_empty());
    let seen = rec.seen.borrow();
    assert_eq!(seen.len(), 1);
    let e = &seen[0];
    assert_eq!(e.data.provider, "redner");
    assert_eq!(e.event_type, "redner.job.completed");
    assert_eq!(e.subject, "job_1");
    assert_eq!(e.data.outcome, Outcome::Succeeded);
    assert_eq!(e.source, "hookgate/redner");
}

#[tokio::test]
async fn bad_messages_are_listed_and_the_rest_is_processed() {
    let good = envelope_body("job_1").await;
    let other = envelope_body("job_2").await;
    let rec = Recorder::default();
    let event = sqs_event(
        QUEUE_ARN,
        &[
            (Some("m1"), Some(&good)),
            (Some("m2"), Some("not json")),
            (Some("m3"), Some(r#"{"specversion":"1.0"}"#)),
            (Some("m4"), None),
            (Some("m5"), Some(&other)),
        ],
    );
    let response = handle_batch(event, |e| rec.process(e)).await.unwrap();
    assert_eq!(failures(&response), ["m2", "m3", "m4"]);
    assert_eq!(rec.subjects(), ["job_1", "job_2"]);
}

#[tokio::test]
async fn a_processing_failure_is_listed() {
    let a = envelope_body("job_1").await;
    let b = envelope_body("job_2").await;
    let rec = Recorder {
        refuse: vec!["job_1".into()],
        ..Recorder::default()
    };
    let event = sqs_event(QUEUE_ARN, &[(Some("m1"), Some(&a)), (Some("m2"), Some(&b))]);
    let response = handle_batch(event, |e| rec.process(e)).await.unwrap();
    assert_eq!(failures(&response), ["m1"]);
    assert_eq!(rec.subjects(), ["job_1", "job_2"]);
}

#[tokio::test]
async fn on_a_fifo_queue_everything_after_a_failure_is_listed_unprocessed() {
    let a = envelope_body("job_1").await;
    let c = envelope_body("job_3").await;
    let rec = Recorder::default();
    let event = sqs_event(
        FIFO_QUEUE_ARN,
        &[
            (Some("m1"), Some(&a)),
            (Some("m2"), Some("{")),
            (Some("m3"), Some(&c)),
        ],
    );
    let response = handle_batch(event, |e| rec.process(e)).await.unwrap();
    assert_eq!(failures(&response), ["m2", "m3"]);
    assert_eq!(rec.subjects(), ["job_1"]);
}

#[tokio::test]
async fn a_record_without_an_id_fails_the_batch_before_any_processing() {
    let a = envelope_body("job_1").await;
    for missing in [None, Some("")] {
        let rec = Recorder::default();
        let event = sqs_event(QUEUE_ARN, &[(Some("m1"), Some(&a)), (missing, Some(&a))]);
        let result = handle_batch(event, |e| rec.process(e)).await;
        assert!(matches!(result, Err(BatchError::MissingMessageId)));
        assert!(rec.subjects().is_empty());
    }
}

#[tokio::test]
async fn the_response_has_lambdas_wire_shape() {
    let event = sqs_event(QUEUE_ARN, &[(Some("m1"), Some("[]"))]);
    let response = handle_batch(event, log_event).await.unwrap();
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "m1"}]})
    );
    let empty = handle_batch(sqs_event(QUEUE_ARN, &[]), log_event)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&empty).unwrap(),
        json!({"batchItemFailures": []})
    );
}
