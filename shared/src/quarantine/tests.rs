//! Quarantine through the whole pipeline, and replay of what it kept.

use lambda_http::Request;
use serde_json::json;

use super::*;
use crate::envelope::Envelope;
use crate::gate::Gate;
use crate::providers::Redner;
use crate::sink::MemorySink;
use crate::testing::{self, Ev, call, refused};
use crate::verify::hmac::sign;

const SECRET: &str = "whsec_current";
const VALID: &str = r#"{"event":"job.created","timestamp":"2025-11-23T12:34:56Z","data":{"jobId":"job_1","status":"created"}}"#;
const NO_JOB_ID: &str = r#"{"event":"job.created","data":{"status":"created"}}"#;

type RednerGate = Gate<Redner, MemorySink>;

fn gate(quarantine: Option<MemorySink>) -> RednerGate {
    testing::gate_with(&[("REDNER_WEBHOOK_SECRETS", SECRET)], MemorySink::default())
        .with_quarantine(quarantine)
}

fn with_quarantine() -> RednerGate {
    gate(Some(MemorySink::default()))
}

fn delivery(body: &[u8], content_type: &str) -> Request {
    let sig = format!("sha256={}", hex::encode(sign(SECRET.as_bytes(), &[body])));
    Ev {
        path: "/webhooks/redner",
        headers: json!({"content-type": content_type, "x-redner-signature": sig}),
        body,
        ..Ev::default()
    }
    .request()
}

/// Expects a quarantined 200 and exactly one record, on the quarantine queue only.
async fn quarantined(g: &RednerGate, req: Request) -> (QuarantineRecord, Message) {
    let (status, answer, _) = call(g, req).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["quarantined"], true, "{answer}");
    assert!(
        g.sink().take().is_empty(),
        "the events queue only gets events"
    );
    let mut kept = g.quarantine().unwrap().take();
    assert_eq!(kept.len(), 1);
    let message = kept.remove(0);
    let record = read_record(&message.body).unwrap();
    assert_eq!(answer["id"], record.id);
    (record, message)
}

#[tokio::test]
async fn not_json_is_kept_base64_with_its_reason() {
    let g = with_quarantine();
    let body = b"event=job.created&jobId=1";
    let (record, message) =
        quarantined(&g, delivery(body, "application/x-www-form-urlencoded")).await;
    assert_eq!(record.id, event_id("redner", body));
    assert_eq!(record.source, "hookgate/redner");
    assert_eq!(record.event_type, "hookgate.quarantined");
    assert_eq!(record.data.provider, "redner");
    assert_eq!(record.data.request_id.as_deref(), Some("Jx2kQhV0IAMEbNw="));
    assert_eq!(record.data.verification.scheme, "hmac-sha256");
    assert_eq!(
        record.data.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert!(record.data.payload.is_none());
    assert_eq!(record.body().unwrap(), body);
    assert_eq!(record.data.reasons.len(), 1);
    assert_eq!(record.data.reasons[0].kind, "json_invalid");
    assert_eq!(
        record.data.reasons[0].loc,
        vec![LocPart::Key("body".into())]
    );
    assert_eq!(
        message.attributes,
        vec![
            ("provider", "redner".to_owned()),
            ("type", "hookgate.quarantined".to_owned()),
        ]
    );
    assert_eq!(message.fifo, None);
}

#[tokio::test]
async fn duplicate_keys_are_kept_base64_not_as_ambiguous_json() {
    let g = with_quarantine();
    let body = br#"{"event":"job.created","event":"job.failed","data":{"jobId":"j"}}"#;
    let (record, _) = quarantined(&g, delivery(body, "application/json")).await;
    assert!(record.data.payload.is_none());
    assert_eq!(record.body().unwrap(), body);
    assert!(record.data.reasons[0].msg.contains("duplicate key"));
}

#[tokio::test]
async fn missing_resource_id_is_kept_verbatim_with_the_detail() {
    let g = with_quarantine();
    let (record, message) =
        quarantined(&g, delivery(NO_JOB_ID.as_bytes(), "application/json")).await;
    assert_eq!(record.data.payload.as_ref().unwrap().get(), NO_JOB_ID);
    assert!(record.data.payload_base64.is_none());
    assert_eq!(
        serde_json::to_value(&record.data.reasons).unwrap(),
        json!([{"loc": ["body", "data", "jobId"], "msg": "Field required", "type": "missing"}])
    );
    // The record is written whole, payload text as received.
    assert!(message.body.contains(NO_JOB_ID), "{}", message.body);
}

#[tokio::test]
async fn surrounding_whitespace_survives_byte_for_byte() {
    let g = with_quarantine();
    let body = format!(" {NO_JOB_ID}\n");
    let (record, _) = quarantined(&g, delivery(body.as_bytes(), "application/json")).await;
    assert_eq!(record.body().unwrap(), body.as_bytes());
    assert_eq!(record.id, event_id("redner", body.as_bytes()));
}

#[tokio::test]
async fn a_bare_null_survives_as_base64() {
    let g = with_quarantine();
    let (record, _) = quarantined(&g, delivery(b"null", "application/json")).await;
    assert_eq!(record.data.payload_base64.as_deref(), Some("bnVsbA=="));
    assert_eq!(record.body().unwrap(), b"null");
}

#[tokio::test]
async fn valid_events_and_forgeries_never_reach_the_quarantine() {
    let g = with_quarantine();
    let (status, answer, _) = call(&g, delivery(VALID.as_bytes(), "text/plain")).await;
    assert_eq!(status, 200);
    assert_eq!(answer, json!({"id": event_id("redner", VALID.as_bytes())}));
    assert_eq!(g.sink().take().len(), 1);
    assert!(g.quarantine().unwrap().take().is_empty());

    // Unauthenticated bytes are refused whatever they hold.
    let forged = Ev {
        path: "/webhooks/redner",
        headers: json!({"x-redner-signature": format!("sha256={}", "0".repeat(64))}),
        body: b"not json",
        ..Ev::default()
    };
    refused(&g, forged.request(), 401, "unauthorized").await;
    assert!(g.quarantine().unwrap().take().is_empty());
}

#[tokio::test]
async fn a_failing_quarantine_is_a_503() {
    let g = with_quarantine();
    g.quarantine().unwrap().set_failing(true);
    let (status, answer, resp) = call(&g, delivery(b"nope", "application/json")).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("queue_unavailable"))
    );
    assert_eq!(resp.headers()["retry-after"], "5");
    assert!(g.sink().take().is_empty());
}

#[tokio::test]
async fn without_a_quarantine_queue_the_answers_stay_400_and_422() {
    let g = gate(None);
    refused(
        &g,
        delivery(b"nope", "application/json"),
        400,
        "invalid_json",
    )
    .await;
    let answer = refused(
        &g,
        delivery(NO_JOB_ID.as_bytes(), "application/json"),
        422,
        "invalid_payload",
    )
    .await;
    assert_eq!(answer["detail"][0]["loc"], json!(["body", "data", "jobId"]));
}

#[tokio::test]
async fn fifo_quarantine_and_size_limit() {
    let g = gate(Some(MemorySink::new(true, 262_144)));
    let (record, message) = quarantined(&g, delivery(b"nope", "application/json")).await;
    let fifo = message.fifo.unwrap();
    assert_eq!(fifo.group_id, "redner:quarantined");
    assert_eq!(fifo.deduplication_id, record.id);

    let small = gate(Some(MemorySink::new(false, 300)));
    let body = format!(r#"{{"pad":"{}"}}"#, "x".repeat(400));
    let (status, answer, _) = call(&small, delivery(body.as_bytes(), "application/json")).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (413, Some("payload_too_large"))
    );
    assert!(small.quarantine().unwrap().take().is_empty());
}

/// A record as the gate writes it, for `body`.
async fn record_of(body: &[u8]) -> QuarantineRecord {
    let g = with_quarantine();
    quarantined(&g, delivery(body, "application/json")).await.0
}

#[tokio::test]
async fn replay_moves_what_now_normalizes_with_the_same_id() {
    // A record kept by an older version (its reason no longer holds).
    let mut record = record_of(NO_JOB_ID.as_bytes()).await;
    let fixed = VALID.to_owned();
    record.data.payload = Some(RawValue::from_string(fixed.clone()).unwrap());
    record.id = event_id("redner", fixed.as_bytes());

    let prepared = replay(&record, false, 262_144).unwrap();
    assert_eq!(prepared.id, record.id);
    let Kind::Event { event_type, .. } = &prepared.kind else {
        panic!("a replayed record is an event");
    };
    assert_eq!(event_type, "redner.job.created");
    let env: Envelope = serde_json::from_str(&prepared.message.body).unwrap();
    assert_eq!(env.id, record.id);
    assert_eq!(env.subject, "job_1");
    assert_eq!(env.data.received_at, record.data.received_at);
    assert_eq!(env.data.request_id, record.data.request_id);
    assert_eq!(env.data.verification, record.data.verification);
    assert_eq!(env.payload_bytes().unwrap(), fixed.as_bytes());

    let fifo = replay(&record, true, 262_144)
        .unwrap()
        .message
        .fifo
        .unwrap();
    assert_eq!(fifo.group_id, "redner:job_1");
}

#[tokio::test]
async fn replay_keeps_what_still_fails_and_refuses_altered_records() {
    let record = record_of(NO_JOB_ID.as_bytes()).await;
    match replay(&record, false, 262_144) {
        Err(ReplayError::StillUnusable(reasons)) => {
            assert_eq!(describe(&reasons), "body.data.jobId: Field required");
        }
        other => panic!("{other:?}"),
    }
    let not_json = record_of(b"nope").await;
    assert!(matches!(
        replay(&not_json, false, 262_144),
        Err(ReplayError::StillUnusable(_))
    ));

    let mut altered = record.clone();
    altered.data.payload = Some(RawValue::from_string(VALID.to_owned()).unwrap());
    assert_eq!(
        replay(&altered, false, 262_144).unwrap_err(),
        ReplayError::IdMismatch
    );
    let mut unknown = record.clone();
    unknown.data.provider = "no provider".into();
    assert!(matches!(
        replay(&unknown, false, 262_144),
        Err(ReplayError::UnknownProvider(_))
    ));
    assert!(matches!(
        read_record(r#"{"specversion":"1.0"}"#),
        Err(ReplayError::NotARecord(_))
    ));
}
