//! The `redner` release binary end to end.

use hookgate::envelope::{Outcome, event_id};
use hookgate::verify::hmac::sign;
use hookgate_tests::apigw::Event;
use hookgate_tests::sqs;

use crate::common::{self, Stack};

const SECRETS: &str = "whsec_previous,whsec_current";
const BODY: &str = r#"{"event":"job.completed","timestamp":"2025-11-23T12:34:56Z","data":{"jobId":"job_abc123","status":"merged","apiProduct":"dub","duration":125.5,"cost":1.20,"outputs":[{"url":"https://s3.amazonaws.com/bucket/path.mp4?X-Amz-Algorithm=AWS4","expiresAt":"2025-11-23T13:34:56Z","sizeBytes":45678901}]}}"#;

fn signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(sign(secret.as_bytes(), &[body])))
}

fn signed(body: &str) -> Event {
    Event::post("redner", body).header(
        "X-Redner-Signature",
        &signature("whsec_current", body.as_bytes()),
    )
}

async fn stack(fifo: bool, extra: &[(&str, &str)]) -> Stack {
    let mut env = vec![("REDNER_WEBHOOK_SECRETS", SECRETS)];
    env.extend_from_slice(extra);
    common::stack("redner", fifo, &env).await
}

#[tokio::test]
async fn valid_delivery_lands_with_the_exact_envelope() {
    let s = stack(false, &[]).await;
    let reply =
        s.f.call(&signed(BODY).request_id("req-redner-1").to_json())
            .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let id = event_id("redner", BODY.as_bytes());
    assert_eq!(reply.body, serde_json::json!({ "id": id }));

    let got = sqs::drain(&s.sqs, &s.queue).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    let e = &m.envelope;
    assert_eq!(e.specversion, "1.0");
    assert_eq!(e.id, id);
    assert_eq!(e.source, "hookgate/redner");
    assert_eq!(e.event_type, "redner.job.completed");
    assert_eq!(e.subject, "job_abc123");
    assert_eq!(e.time.to_rfc3339(), "2025-11-23T12:34:56+00:00");
    assert_eq!(e.datacontenttype, "application/json");
    assert_eq!(e.data.provider, "redner");
    assert_eq!(e.data.event, "job.completed");
    assert_eq!(e.data.outcome, Outcome::Succeeded);
    assert_eq!(
        (e.data.resource.kind.as_str(), e.data.resource.id.as_str()),
        ("job", "job_abc123")
    );
    assert_eq!(e.data.status.as_deref(), Some("merged"));
    assert_eq!(e.data.outputs.len(), 1);
    assert_eq!(e.data.outputs[0].size_bytes, Some(45_678_901));
    assert_eq!(e.data.request_id.as_deref(), Some("req-redner-1"));
    assert_eq!(
        (
            e.data.verification.scheme.as_str(),
            e.data.verification.key_index
        ),
        ("hmac-sha256", 1)
    );
    // The payload is the provider's bytes, not a re-serialization (1.20 stays 1.20).
    assert_eq!(e.data.payload.as_ref().map(|p| p.get()), Some(BODY));
    assert!(m.body.contains(&format!(r#""payload":{BODY}"#)));
    assert_eq!(
        m.attributes.get("provider").map(String::as_str),
        Some("redner")
    );
    assert_eq!(
        m.attributes.get("type").map(String::as_str),
        Some("redner.job.completed")
    );
    assert_eq!(
        m.attributes.get("outcome").map(String::as_str),
        Some("succeeded")
    );

    // One structured record for the request, without secrets or signatures.
    let logs = s.f.logs();
    let lines: Vec<&str> = logs.lines().filter(|l| l.contains(&id)).collect();
    assert_eq!(lines.len(), 1, "one record naming the event id: {logs}");
    let log: serde_json::Value = serde_json::from_str(lines[0]).expect("JSON log line");
    assert_eq!(log["status"], 200, "{}", lines[0]);
    assert_eq!(log["event_id"], id.as_str(), "{}", lines[0]);
    assert!(!logs.contains("whsec_"), "a secret reached the log");
    assert!(!logs.contains(&signature("whsec_current", BODY.as_bytes())[7..]));
    assert!(
        !logs.contains("job_abc123\",\"status"),
        "the body reached the log"
    );
}

#[tokio::test]
async fn rotated_secret_base64_and_unknown_events_are_accepted() {
    let s = stack(false, &[]).await;
    let old = Event::post("redner", BODY).header(
        "x-redner-signature",
        &signature("whsec_previous", BODY.as_bytes()),
    );
    assert_eq!(s.f.call(&old.to_json()).await.status, 200);
    assert_eq!(s.f.call(&signed(BODY).base64().to_json()).await.status, 200);
    let unknown = r#"{"event":"job.archived","timestamp":"2025-11-23T12:34:56Z","data":{"jobId":"job_9","status":"archived"}}"#;
    assert_eq!(s.f.call(&signed(unknown).to_json()).await.status, 200);

    let got = sqs::drain(&s.sqs, &s.queue).await;
    assert_eq!(got.len(), 3);
    let mut keys: Vec<usize> = got
        .iter()
        .map(|m| m.envelope.data.verification.key_index)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, [0, 1, 1]);
    let u = got
        .iter()
        .find(|m| m.envelope.subject == "job_9")
        .expect("unknown event forwarded");
    assert_eq!(u.envelope.data.outcome, Outcome::Unknown);
    assert_eq!(u.attributes["outcome"], "unknown");
    assert_eq!(u.envelope.event_type, "redner.job.archived");
}

#[tokio::test]
async fn every_rejection_has_its_status_and_leaves_the_queue_empty() {
    let s = stack(false, &[("MAX_BODY_BYTES", "4096")]).await;
    let sig = signature("whsec_current", BODY.as_bytes());
    let incomplete = r#"{"event":"job.created","data":{"status":"created"}}"#;
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(5000));
    let cases: Vec<(&str, Event, u16, &str)> = vec![
        ("GET", signed(BODY).method("GET"), 405, "method_not_allowed"),
        ("unsigned", Event::post("redner", BODY), 401, "unauthorized"),
        (
            "tampered",
            Event::post("redner", BODY.replace("merged", "failed"))
                .header("x-redner-signature", &sig),
            401,
            "unauthorized",
        ),
        (
            "prefix-less",
            Event::post("redner", BODY).header("x-redner-signature", &sig[7..]),
            401,
            "unauthorized",
        ),
        (
            "repeated header",
            signed(BODY).header("x-redner-signature", &sig),
            401,
            "unauthorized",
        ),
        (
            "wrong secret",
            Event::post("redner", BODY)
                .header("x-redner-signature", &signature("nope", BODY.as_bytes())),
            401,
            "unauthorized",
        ),
        ("not JSON", signed("hello"), 400, "invalid_json"),
        (
            "duplicate keys",
            signed(r#"{"event":"a","event":"b"}"#),
            400,
            "invalid_json",
        ),
        ("incomplete", signed(incomplete), 422, "invalid_payload"),
        ("oversized", signed(&big), 413, "payload_too_large"),
    ];
    for (name, event, status, code) in cases {
        let reply = s.f.call(&event.to_json()).await;
        assert_eq!(
            (reply.status, reply.error()),
            (status, Some(code)),
            "{name}: {:?}",
            reply.body
        );
        assert!(
            reply.body["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}"
        );
        if status == 405 {
            assert_eq!(reply.headers.get("allow").map(String::as_str), Some("POST"));
        }
        if status == 422 {
            let detail = reply.body["detail"].as_array().expect("422 has detail");
            assert!(
                detail
                    .iter()
                    .any(|d| d["loc"] == serde_json::json!(["body", "data", "jobId"]))
            );
            assert!(
                detail
                    .iter()
                    .all(|d| d["msg"].is_string() && d["type"].is_string())
            );
        }
        assert!(
            sqs::drain(&s.sqs, &s.queue).await.is_empty(),
            "{name} enqueued something"
        );
    }
}

#[tokio::test]
async fn fifo_queue_gets_group_and_dedup_ids_and_collapses_repeats() {
    let s = stack(true, &[]).await;
    for _ in 0..3 {
        let reply = s.f.call(&signed(BODY).to_json()).await;
        assert_eq!(reply.status, 200);
    }
    let got = sqs::drain(&s.sqs, &s.queue).await;
    assert_eq!(got.len(), 1, "a repeated delivery collapses to one message");
    let m = &got[0];
    assert_eq!(
        m.system.get("MessageGroupId").map(String::as_str),
        Some("redner:job_abc123")
    );
    let id = event_id("redner", BODY.as_bytes());
    assert_eq!(m.system.get("MessageDeduplicationId"), Some(&id));
}

#[tokio::test]
async fn status_matrix() {
    let s = stack(false, &[("MAX_BODY_BYTES", "4096")]).await;
    let incomplete = r#"{"event":"job.created","data":{"status":"created"}}"#;
    common::status_matrix(&s, signed, Event::post("redner", BODY), BODY, incomplete).await;
}

#[tokio::test]
async fn unreachable_queue_answers_503_within_the_timeout() {
    common::unreachable_queue_is_503(
        "redner",
        &[("REDNER_WEBHOOK_SECRETS", SECRETS)],
        signed(BODY),
    )
    .await;
}

#[tokio::test]
async fn refuses_to_start_without_secrets() {
    common::refuses_to_start("redner", &[], "REDNER_WEBHOOK_SECRETS is not set").await;
    common::refuses_to_start(
        "redner",
        &[("REDNER_WEBHOOK_SECRETS", "a,,b")],
        "REDNER_WEBHOOK_SECRETS holds an empty entry",
    )
    .await;
    common::refuses_to_start(
        "redner",
        &[("QUEUE_URL", ""), ("REDNER_WEBHOOK_SECRETS", SECRETS)],
        "QUEUE_URL is not set",
    )
    .await;
}
