//! sync.so through the whole pipeline: API Gateway events in, queue messages
//! out, with an in-memory sink and a fixed clock.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lambda_http::Request;
use serde_json::json;

use super::*;
use crate::config::Config;
use crate::envelope::{Envelope, event_id, sqs_allows};
use crate::gate::Gate;
use crate::sink::MemorySink;
use crate::testing::{self, Ev, call, refused};
use crate::verify::hmac::sign;

const SECRET: &str = "whsec_syncso_test_secret";
const OLD_SECRET: &str = "whsec_old";
/// The gate's clock (testing::fixed_now) in whole seconds:
/// 2025-11-23T12:34:57Z.
const NOW: i64 = 1_763_901_297;
/// When the deliveries below were signed: 2025-11-23T12:34:56Z.
const T: i64 = NOW - 1;

const GENERATION: &str = r#"{"status":"COMPLETED","createdAt":"2025-11-23T12:30:00Z","id":"gen_7f3a","input":[{"type":"video","url":"https://example.com/video.mp4"},{"type":"audio","url":"https://example.com/audio.mp3"}],"model":"lipsync-2","error":"","error_code":"","options":{},"outputDuration":10,"outputUrl":"https://example.com/output.mp4","segmentOutputUrl":"https://example.com/segment_output.mp4","webhookUrl":"https://example.com/webhook"}"#;
const BATCH: &str = r#"{"id":"batch_91","status":"COMPLETED","created_at":"2025-11-23T12:00:00Z","metrics":{"total_generations":10,"success_count":9,"failed_count":1,"pending_count":0},"outputUrl":"https://example.com/results.jsonl","webhookUrl":"https://example.com/webhook"}"#;

type SyncGate = Gate<Syncso, MemorySink>;

fn gate_with(sink: MemorySink, extra: &[(&str, &str)]) -> SyncGate {
    let mut vars = vec![(SECRETS_VAR, "whsec_old, whsec_syncso_test_secret")];
    vars.extend_from_slice(extra);
    testing::gate_with(&vars, sink)
}

/// A gate that also takes the untimed `X-Signature-Primary`.
fn gate() -> SyncGate {
    gate_with(MemorySink::default(), &[(ACCEPT_UNTIMED_VAR, "true")])
}

/// The two ways sync.so signs a delivery.
#[derive(Debug, Clone, Copy)]
enum Form {
    Timestamped,
    Primary,
}

impl Form {
    fn header(self) -> &'static str {
        match self {
            Self::Timestamped => "sync-signature",
            Self::Primary => "x-signature-primary",
        }
    }

    fn sign(self, secret: &str, body: &[u8]) -> String {
        match self {
            Self::Timestamped => TimestampedScheme::header_value(secret.as_bytes(), T, body),
            Self::Primary => hex::encode(sign(secret.as_bytes(), &[body])),
        }
    }

    fn signed(self, body: &[u8]) -> Request {
        let headers =
            json!({"content-type": "application/json", self.header(): self.sign(SECRET, body)});
        event("POST", headers, body, false)
    }
}

fn timestamped_at(t: i64, body: &[u8]) -> String {
    TimestampedScheme::header_value(SECRET.as_bytes(), t, body)
}

/// An API Gateway payload-2.0 event, as lambda_http would receive it.
fn event(method: &str, headers: serde_json::Value, body: &[u8], base64: bool) -> Request {
    Ev {
        path: "/webhooks/syncso",
        method,
        headers,
        body,
        base64,
        source_ip: Some("203.0.113.7"),
        request_id: "Kq7hYjR2IAMEcXw=",
        ..Ev::default()
    }
    .request()
}

fn with_headers(headers: serde_json::Value, body: &str) -> Request {
    event("POST", headers, body.as_bytes(), false)
}

/// Sends `req`, expects 200 and returns the one message and its envelope.
async fn accepted(gate: &SyncGate, req: Request) -> (crate::sink::Message, Envelope) {
    let (status, body, _) = call(gate, req).await;
    assert_eq!(status, 200, "{body}");
    let mut sent = gate.sink().take();
    assert_eq!(sent.len(), 1);
    let m = sent.remove(0);
    assert!(m.body.chars().all(sqs_allows));
    let env: Envelope = serde_json::from_str(&m.body).unwrap();
    assert_eq!(body, json!({"id": env.id}));
    (m, env)
}

#[tokio::test]
async fn generation_end_to_end_with_the_timestamped_header() {
    let g = gate();
    let (m, env) = accepted(&g, Form::Timestamped.signed(GENERATION.as_bytes())).await;
    let id = event_id("syncso", GENERATION.as_bytes());
    assert_eq!(
        m.attributes,
        vec![
            ("provider", "syncso".to_owned()),
            ("type", "syncso.generation.completed".to_owned()),
            ("outcome", "succeeded".to_owned()),
        ]
    );
    assert_eq!(m.fifo, None);
    let expected = format!(
        concat!(
            r#"{{"specversion":"1.0","id":"{id}","source":"hookgate/syncso","type":"syncso.generation.completed","#,
            r#""subject":"gen_7f3a","time":"2025-11-23T12:34:56Z","datacontenttype":"application/json","#,
            r#""data":{{"provider":"syncso","event":"COMPLETED","outcome":"succeeded","#,
            r#""resource":{{"kind":"generation","id":"gen_7f3a","parent":null}},"status":"COMPLETED","#,
            r#""outputs":[{{"url":"https://example.com/output.mp4","expires_at":null,"size_bytes":null}},"#,
            r#"{{"url":"https://example.com/segment_output.mp4","expires_at":null,"size_bytes":null}}],"#,
            r#""error":null,"received_at":"2025-11-23T12:34:57.120Z","request_id":"Kq7hYjR2IAMEcXw=","#,
            r#""verification":{{"scheme":"hmac-sha256-timestamped","key_index":1}},"payload":{body}}}}}"#
        ),
        id = id,
        body = GENERATION
    );
    assert_eq!(m.body, expected);
    assert_eq!(env.payload_bytes().unwrap(), GENERATION.as_bytes());
}

#[tokio::test]
async fn generation_with_the_plain_header_takes_receipt_time() {
    let g = gate();
    let (m, env) = accepted(&g, Form::Primary.signed(GENERATION.as_bytes())).await;
    assert_eq!(m.attributes[1].1, "syncso.generation.completed");
    assert_eq!(env.data.verification.scheme, "hmac-sha256");
    assert_eq!(env.data.verification.key_index, 1);
    assert_eq!(env.time, env.data.received_at);
    assert_eq!(env.time.to_rfc3339(), "2025-11-23T12:34:57.120+00:00");
    // The same body, however signed, is the same event.
    assert_eq!(env.id, event_id("syncso", GENERATION.as_bytes()));
}

#[tokio::test]
async fn batch_end_to_end() {
    let g = gate();
    let (m, env) = accepted(&g, Form::Timestamped.signed(BATCH.as_bytes())).await;
    assert_eq!(
        m.attributes,
        vec![
            ("provider", "syncso".to_owned()),
            ("type", "syncso.batch.completed".to_owned()),
            ("outcome", "succeeded".to_owned()),
        ]
    );
    let id = event_id("syncso", BATCH.as_bytes());
    let expected = format!(
        concat!(
            r#"{{"specversion":"1.0","id":"{id}","source":"hookgate/syncso","type":"syncso.batch.completed","#,
            r#""subject":"batch_91","time":"2025-11-23T12:34:56Z","datacontenttype":"application/json","#,
            r#""data":{{"provider":"syncso","event":"COMPLETED","outcome":"succeeded","#,
            r#""resource":{{"kind":"batch","id":"batch_91","parent":null}},"status":"COMPLETED","#,
            r#""outputs":[{{"url":"https://example.com/results.jsonl","expires_at":null,"size_bytes":null}}],"#,
            r#""error":null,"received_at":"2025-11-23T12:34:57.120Z","request_id":"Kq7hYjR2IAMEcXw=","#,
            r#""verification":{{"scheme":"hmac-sha256-timestamped","key_index":1}},"payload":{body}}}}}"#
        ),
        id = id,
        body = BATCH
    );
    assert_eq!(m.body, expected);
    assert_eq!(env.subject, "batch_91");
}

#[tokio::test]
async fn every_status_maps_through_both_headers() {
    let g = gate();
    let cases = [
        ("PENDING", "created"),
        ("JOBS_CREATED", "created"),
        ("PROCESSING", "processing"),
        ("COMPLETED", "succeeded"),
        ("FAILED", "failed"),
        ("REJECTED", "failed"),
        ("CANCELED", "canceled"),
        ("CANCELLED", "canceled"),
    ];
    for form in [Form::Timestamped, Form::Primary] {
        for (status, outcome) in cases {
            let body = GENERATION.replace("\"COMPLETED\"", &format!("\"{status}\""));
            let (m, env) = accepted(&g, form.signed(body.as_bytes())).await;
            let lower = status.to_lowercase();
            assert_eq!(m.attributes[1].1, format!("syncso.generation.{lower}"));
            assert_eq!(m.attributes[2].1, outcome, "{form:?} {status}");
            assert_eq!(env.data.status.as_deref(), Some(status));
            assert_eq!(env.data.event, status);
        }
    }
}

#[tokio::test]
async fn unknown_status_is_forwarded_as_unknown() {
    let g = gate();
    for (body, kind) in [(GENERATION, "generation"), (BATCH, "batch")] {
        let body = body.replace("\"COMPLETED\"", "\"ARCHIVED\"");
        let (m, env) = accepted(&g, Form::Timestamped.signed(body.as_bytes())).await;
        assert_eq!(m.attributes[1].1, format!("syncso.{kind}.archived"));
        assert_eq!(m.attributes[2].1, "unknown");
        assert_eq!(env.data.status.as_deref(), Some("ARCHIVED"));
    }
}

#[tokio::test]
async fn failed_generation_carries_the_error() {
    let g = gate();
    let body = r#"{"status":"FAILED","createdAt":"2025-11-23T12:30:00Z","id":"gen_x","input":[],"model":"lipsync-2","error":"Face not detected","error_code":"face_not_found","outputUrl":null}"#;
    let (m, env) = accepted(&g, Form::Primary.signed(body.as_bytes())).await;
    assert_eq!(m.attributes[2].1, "failed");
    let error = env.data.error.unwrap();
    assert_eq!(error.code.as_deref(), Some("face_not_found"));
    assert_eq!(error.message.as_deref(), Some("Face not detected"));
    assert!(env.data.outputs.is_empty());
}

#[tokio::test]
async fn status_table_for_both_headers() {
    let g = gate_with(
        MemorySink::default(),
        &[("MAX_BODY_BYTES", "1024"), (ACCEPT_UNTIMED_VAR, "true")],
    );
    let body = GENERATION.as_bytes();
    for form in [Form::Timestamped, Form::Primary] {
        let h = form.header();
        let sig = form.sign(SECRET, body);

        let req = event("GET", json!({h: sig}), body, false);
        let (_, _, resp) = call(&g, req).await;
        assert_eq!(resp.headers()["allow"], "POST");
        let req = event("PUT", json!({h: sig}), body, false);
        refused(&g, req, 405, "method_not_allowed").await;

        let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(2048));
        refused(&g, form.signed(big.as_bytes()), 413, "payload_too_large").await;

        // Content-Type is no reason to refuse an authenticated body.
        for ct in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ] {
            let req = event("POST", json!({"content-type": ct, h: sig}), body, false);
            accepted(&g, req).await;
        }

        // No header, a changed body, another key.
        refused(
            &g,
            event("POST", json!({}), body, false),
            401,
            "unauthorized",
        )
        .await;
        let tampered = GENERATION.replace("COMPLETED", "FAILED");
        let req = with_headers(json!({h: sig}), &tampered);
        refused(&g, req, 401, "unauthorized").await;
        let req = with_headers(json!({h: form.sign("whsec_wrong", body)}), GENERATION);
        refused(&g, req, 401, "unauthorized").await;
        for garbage in ["", "garbage", "sha256=", "t=1,v1=00"] {
            let req = with_headers(json!({h: garbage}), GENERATION);
            refused(&g, req, 401, "unauthorized").await;
        }
        // Sent twice: API Gateway joins the values with a comma.
        let req = with_headers(json!({h: format!("{sig},{sig}")}), GENERATION);
        refused(&g, req, 401, "unauthorized").await;

        // The old secret still works while it is configured.
        let req = with_headers(json!({h: form.sign(OLD_SECRET, body)}), GENERATION);
        let (_, env) = accepted(&g, req).await;
        assert_eq!(env.data.verification.key_index, 0);

        for bad in [
            &b"not json"[..],
            b"",
            b"{\"id\":\"a\",\"id\":\"b\"}",
            b"\xEF\xBB\xBF{}",
            b"{\"id\":\"\xff\"}",
        ] {
            refused(&g, form.signed(bad), 400, "invalid_json").await;
        }

        let detail = refused(&g, form.signed(b"{\"id\":\"g\"}"), 422, "invalid_payload").await;
        assert_eq!(
            detail["detail"][0],
            json!({"loc": ["body", "status"], "msg": "Field required", "type": "missing"})
        );
        refused(&g, form.signed(b"[1,2]"), 422, "invalid_payload").await;

        g.sink().set_failing(true);
        let (status, resp_body, resp) = call(&g, form.signed(body)).await;
        assert_eq!(
            (status, resp_body["error"].as_str()),
            (503, Some("queue_unavailable"))
        );
        assert_eq!(resp.headers()["retry-after"], "5");
        g.sink().set_failing(false);
        assert!(g.sink().take().is_empty());

        let (_, env) = accepted(&g, form.signed(body)).await;
        assert_eq!(env.data.verification.key_index, 1);
    }
}

#[tokio::test]
async fn the_untimed_header_needs_the_opt_in() {
    let body = GENERATION.as_bytes();
    let primary = json!({"x-signature-primary": Form::Primary.sign(SECRET, body)});
    // Default: a lone plain signature is no credential, valid or not.
    for g in [
        gate_with(MemorySink::default(), &[]),
        gate_with(MemorySink::default(), &[(ACCEPT_UNTIMED_VAR, "false")]),
    ] {
        refused(
            &g,
            with_headers(primary.clone(), GENERATION),
            401,
            "unauthorized",
        )
        .await;
        accepted(&g, Form::Timestamped.signed(body)).await;
    }
    let g = gate();
    let (_, env) = accepted(&g, with_headers(primary.clone(), GENERATION)).await;
    assert_eq!(env.data.verification.scheme, "hmac-sha256");
    // A stale timestamped signature beside a valid plain one: 401 either way.
    let stale = timestamped_at(NOW - 3600, body);
    for g in [gate_with(MemorySink::default(), &[]), gate()] {
        let req = with_headers(
            json!({"sync-signature": stale, "x-signature-primary": primary["x-signature-primary"]}),
            GENERATION,
        );
        refused(&g, req, 401, "unauthorized").await;
    }
    let src = HashMap::from([
        ("QUEUE_URL", "http://q"),
        ("SYNCSO_WEBHOOK_SECRETS", "whsec_abc"),
        (ACCEPT_UNTIMED_VAR, "yes"),
    ]);
    let err = Config::<Syncso>::from_source(&src).unwrap_err();
    assert_eq!(err.variable, ACCEPT_UNTIMED_VAR);
}

#[tokio::test]
async fn tolerance_boundaries_through_the_gate() {
    let g = gate();
    let body = GENERATION.as_bytes();
    for t in [NOW - 300, NOW + 300] {
        let req = with_headers(
            json!({"sync-signature": timestamped_at(t, body)}),
            GENERATION,
        );
        let (_, env) = accepted(&g, req).await;
        assert_eq!(env.time.timestamp(), t);
    }
    for t in [NOW - 301, NOW + 301, NOW - 3600, 0, i64::MAX] {
        let req = with_headers(
            json!({"sync-signature": timestamped_at(t, body)}),
            GENERATION,
        );
        refused(&g, req, 401, "unauthorized").await;
    }
    // A tighter configured window.
    let tight = gate_with(MemorySink::default(), &[("SYNCSO_TOLERANCE_SECONDS", "10")]);
    let req = with_headers(
        json!({"sync-signature": timestamped_at(NOW - 10, body)}),
        GENERATION,
    );
    accepted(&tight, req).await;
    let req = with_headers(
        json!({"sync-signature": timestamped_at(NOW - 11, body)}),
        GENERATION,
    );
    refused(&tight, req, 401, "unauthorized").await;
}

#[tokio::test]
async fn the_timestamped_header_decides_when_present() {
    let g = gate();
    let body = GENERATION.as_bytes();
    let good_sync = Form::Timestamped.sign(SECRET, body);
    let good_primary = Form::Primary.sign(SECRET, body);
    let stale_sync = timestamped_at(NOW - 3600, body);
    let forged_sync = Form::Timestamped.sign("whsec_wrong", body);

    // Both valid: accepted by the timestamped scheme, with its time.
    let req = with_headers(
        json!({"sync-signature": good_sync, "x-signature-primary": good_primary}),
        GENERATION,
    );
    let (_, env) = accepted(&g, req).await;
    assert_eq!(env.data.verification.scheme, "hmac-sha256-timestamped");
    assert_eq!(env.time.timestamp(), T);

    // A valid timestamped signature is not spoiled by junk beside it.
    let req = with_headers(
        json!({"sync-signature": good_sync, "x-signature-primary": "junk"}),
        GENERATION,
    );
    accepted(&g, req).await;

    // A bad, stale, empty or malformed timestamped signature is never
    // rescued by a valid plain one: a replayed delivery keeps its old `t`.
    for sync in [forged_sync.as_str(), &stale_sync, "", "t=1"] {
        let req = with_headers(
            json!({"sync-signature": sync, "x-signature-primary": good_primary}),
            GENERATION,
        );
        refused(&g, req, 401, "unauthorized").await;
    }

    // The plain header alone, in each accepted form.
    let tag = sign(SECRET.as_bytes(), &[body]);
    for primary in [
        hex::encode(tag),
        hex::encode(tag).to_uppercase(),
        format!("sha256={}", hex::encode(tag)),
        STANDARD.encode(tag),
        format!("sha256={}", STANDARD.encode(tag)),
    ] {
        let req = with_headers(json!({"x-signature-primary": primary}), GENERATION);
        let (_, env) = accepted(&g, req).await;
        assert_eq!(env.data.verification.scheme, "hmac-sha256");
    }
    // A truncated plain tag is refused.
    let req = with_headers(
        json!({"x-signature-primary": STANDARD.encode(&tag[..16])}),
        GENERATION,
    );
    refused(&g, req, 401, "unauthorized").await;
}

#[tokio::test]
async fn neither_shape_is_422() {
    let g = gate();
    let body = refused(
        &g,
        Form::Timestamped.signed(br#"{"event":"something.else","data":{}}"#),
        422,
        "invalid_payload",
    )
    .await;
    let locs: Vec<&serde_json::Value> = body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["loc"])
        .collect();
    assert_eq!(locs, [&json!(["body", "id"]), &json!(["body", "status"])]);
    // A batch without metrics or outputUrl is still a batch, and accepted.
    let (_, env) = accepted(
        &g,
        Form::Primary.signed(br#"{"id":"b","status":"PENDING","created_at":"t"}"#),
    )
    .await;
    assert_eq!(env.subject, "b");
    assert_eq!(env.event_type, "syncso.batch.pending");
}

#[tokio::test]
async fn fifo_groups_by_resource_and_envelope_must_fit() {
    let g = gate_with(MemorySink::new(true, 262_144), &[]);
    let (m, _) = accepted(&g, Form::Timestamped.signed(BATCH.as_bytes())).await;
    let fifo = m.fifo.unwrap();
    assert_eq!(fifo.group_id, "syncso:batch_91");
    assert_eq!(fifo.deduplication_id, event_id("syncso", BATCH.as_bytes()));

    let small = gate_with(MemorySink::new(false, 600), &[]);
    refused(
        &small,
        Form::Timestamped.signed(GENERATION.as_bytes()),
        413,
        "payload_too_large",
    )
    .await;
}

#[test]
fn cold_start_fails_on_bad_configuration() {
    let queue = ("QUEUE_URL", "http://q");
    let err = Config::<Syncso>::from_source(&HashMap::from([queue])).unwrap_err();
    assert_eq!(err.variable, "SYNCSO_WEBHOOK_SECRETS");
    for secrets in [",", " ", "a,,b"] {
        let src = HashMap::from([queue, ("SYNCSO_WEBHOOK_SECRETS", secrets)]);
        let err = Config::<Syncso>::from_source(&src).unwrap_err();
        assert_eq!(err.variable, "SYNCSO_WEBHOOK_SECRETS", "{secrets:?}");
    }
    let src = HashMap::from([
        queue,
        ("SYNCSO_WEBHOOK_SECRETS", "whsec_abc"),
        ("SYNCSO_TOLERANCE_SECONDS", "5m"),
    ]);
    let err = Config::<Syncso>::from_source(&src).unwrap_err();
    assert_eq!(err.variable, "SYNCSO_TOLERANCE_SECONDS");
    let src = HashMap::from([queue, ("SYNCSO_WEBHOOK_SECRETS", "whsec_abc")]);
    let ok = Config::<Syncso>::from_source(&src).unwrap();
    assert!(!format!("{ok:?}").contains("whsec_abc"));
}
