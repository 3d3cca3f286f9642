//! The pipeline's whole status table, with an in-memory sink.

use std::collections::HashMap;

use serde_json::json;

use super::*;
use crate::envelope::sqs_allows;
use crate::providers::Redner;
use crate::sink::MemorySink;
use crate::testing::{self, Ev, call, refused};
use crate::verify::hmac::sign;

const SECRET: &str = "whsec_current";
const OLD_SECRET: &str = "whsec_previous";
const BODY: &str = r#"{"event":"job.completed","timestamp":"2025-11-23T12:34:56Z","data":{"jobId":"job_abc123","status":"merged","outputs":[{"url":"https://x/y.mp4","expiresAt":"2025-11-23T13:34:56Z","sizeBytes":45678901}]}}"#;

fn gate_with(sink: MemorySink, extra: &[(&str, &str)]) -> Gate<Redner, MemorySink> {
    let mut vars = vec![("REDNER_WEBHOOK_SECRETS", "whsec_previous,whsec_current")];
    vars.extend_from_slice(extra);
    testing::gate_with(&vars, sink)
}

fn gate() -> Gate<Redner, MemorySink> {
    gate_with(MemorySink::default(), &[])
}

fn signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(sign(secret.as_bytes(), &[body])))
}

/// An API Gateway payload-2.0 event, as lambda_http would receive it.
fn event(method: &str, headers: serde_json::Value, body: &[u8], base64: bool) -> Request {
    Ev {
        path: "/webhooks/redner",
        method,
        headers,
        body,
        base64,
        ..Ev::default()
    }
    .request()
}

fn signed(body: &[u8]) -> Request {
    event(
        "POST",
        json!({"content-type": "application/json", "x-redner-signature": signature(SECRET, body)}),
        body,
        false,
    )
}

#[tokio::test]
async fn valid_delivery_is_enqueued_once_with_the_full_envelope() {
    let g = gate();
    let m = &testing::accepted_once(
        &g,
        signed(BODY.as_bytes()),
        BODY.as_bytes(),
        "redner.job.completed",
        "succeeded",
    )
    .await;
    let id = event_id("redner", BODY.as_bytes());
    assert_eq!(m.fifo, None);
    let expected = format!(
        concat!(
            r#"{{"specversion":"1.0","id":"{id}","source":"hookgate/redner","type":"redner.job.completed","#,
            r#""subject":"job_abc123","time":"2025-11-23T12:34:56Z","datacontenttype":"application/json","#,
            r#""data":{{"provider":"redner","event":"job.completed","outcome":"succeeded","#,
            r#""resource":{{"kind":"job","id":"job_abc123","parent":null}},"status":"merged","#,
            r#""outputs":[{{"url":"https://x/y.mp4","expires_at":"2025-11-23T13:34:56Z","size_bytes":45678901}}],"#,
            r#""error":null,"received_at":"2025-11-23T12:34:57.120Z","request_id":"Jx2kQhV0IAMEbNw=","#,
            r#""verification":{{"scheme":"hmac-sha256","key_index":1}},"payload":{body}}}}}"#
        ),
        id = id,
        body = BODY
    );
    assert_eq!(m.body, expected);
    let env: Envelope = serde_json::from_str(&m.body).unwrap();
    assert_eq!(env.payload_bytes().unwrap(), BODY.as_bytes());
}

#[tokio::test]
async fn rotated_secret_and_base64_body_are_accepted() {
    let g = gate();
    let req = event(
        "POST",
        json!({"x-redner-signature": signature(OLD_SECRET, BODY.as_bytes())}),
        BODY.as_bytes(),
        true,
    );
    let (status, _, _) = call(&g, req).await;
    assert_eq!(status, 200);
    let env: Envelope = serde_json::from_str(&g.sink().take()[0].body).unwrap();
    assert_eq!(env.data.verification.key_index, 0);
}

#[tokio::test]
async fn status_table() {
    let g = gate_with(MemorySink::default(), &[("MAX_BODY_BYTES", "1024")]);
    let sig = signature(SECRET, BODY.as_bytes());

    let (_, _, resp) = call(&g, event("GET", json!({}), b"", false)).await;
    assert_eq!(resp.headers()["allow"], "POST");
    refused(
        &g,
        event(
            "GET",
            json!({"x-redner-signature": sig}),
            BODY.as_bytes(),
            false,
        ),
        405,
        "method_not_allowed",
    )
    .await;
    refused(
        &g,
        event("PUT", json!({}), b"", false),
        405,
        "method_not_allowed",
    )
    .await;

    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(2048));
    refused(&g, signed(big.as_bytes()), 413, "payload_too_large").await;

    // An authenticated body is judged by its bytes, whatever it is labelled.
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonp",
        "application/+json",
        "json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/cloudevents+json; charset=latin1",
    ] {
        let req = event(
            "POST",
            json!({"content-type": ct, "x-redner-signature": sig}),
            BODY.as_bytes(),
            false,
        );
        assert_eq!(call(&g, req).await.0, 200, "{ct}");
        assert_eq!(g.sink().take().len(), 1);
    }

    refused(
        &g,
        event("POST", json!({}), BODY.as_bytes(), false),
        401,
        "unauthorized",
    )
    .await;
    let tampered = BODY.replace("merged", "failed");
    let req = event(
        "POST",
        json!({"x-redner-signature": sig}),
        tampered.as_bytes(),
        false,
    );
    refused(&g, req, 401, "unauthorized").await;
    let req = event(
        "POST",
        json!({"x-redner-signature": signature("wrong", BODY.as_bytes())}),
        BODY.as_bytes(),
        false,
    );
    refused(&g, req, 401, "unauthorized").await;

    for bad in [
        &b"not json"[..],
        b"",
        b"{\"a\":1,\"a\":2}",
        b"\xEF\xBB\xBF{}",
        b"{\"a\":\"\xff\"}",
        b"{} []",
    ] {
        refused(&g, signed(bad), 400, "invalid_json").await;
    }

    let body = refused(
        &g,
        signed(br#"{"event":"job.created"}"#),
        422,
        "invalid_payload",
    )
    .await;
    // `timestamp` is optional: only the missing `data` is reported.
    assert_eq!(
        body["detail"],
        json!([{"loc": ["body", "data"], "msg": "Field required", "type": "missing"}])
    );
    refused(&g, signed(b"[1,2]"), 422, "invalid_payload").await;

    g.sink().set_failing(true);
    let (status, body, resp) = call(&g, signed(BODY.as_bytes())).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("queue_unavailable"))
    );
    assert_eq!(resp.headers()["retry-after"], "5");
    assert!(
        !body.to_string().contains("in-memory"),
        "no internal detail in responses"
    );
    g.sink().set_failing(false);
    assert!(g.sink().take().is_empty());
}

#[tokio::test]
async fn unknown_event_is_forwarded_as_unknown() {
    let g = gate();
    let body = br#"{"event":"job.archived","timestamp":"2025-11-23T12:34:56Z","data":{"jobId":"j1","status":"archived"}}"#;
    assert_eq!(call(&g, signed(body)).await.0, 200);
    let m = g.sink().take().remove(0);
    assert_eq!(m.attributes[1].1, "redner.job.archived");
    assert_eq!(m.attributes[2].1, "unknown");
}

#[tokio::test]
async fn envelope_that_cannot_fit_the_queue_is_413() {
    let g = gate_with(MemorySink::new(false, 600), &[]);
    refused(&g, signed(BODY.as_bytes()), 413, "payload_too_large").await;
}

#[tokio::test]
async fn characters_sqs_cannot_carry() {
    let g = gate();
    let body = "{\"event\":\"job.created\u{FFFE}\",\"timestamp\":\"2025-11-23T12:34:56Z\",\"data\":{\"jobId\":\"j\u{FFFF}1\",\"status\":\"created\"}}";
    assert_eq!(call(&g, signed(body.as_bytes())).await.0, 200);
    let m = g.sink().take().remove(0);
    assert!(m.body.chars().all(sqs_allows), "{}", m.body);
    assert!(m.attributes.iter().all(|(_, v)| v.chars().all(sqs_allows)));
    assert_eq!(m.attributes[1].1, "redner.job.created\\ufffe");
    let env: Envelope = serde_json::from_str(&m.body).unwrap();
    assert!(env.data.payload.is_none());
    assert_eq!(env.payload_bytes().unwrap(), body.as_bytes());
    assert_eq!(env.subject, "j\u{FFFF}1");
    assert_eq!(env.id, event_id("redner", body.as_bytes()));
}

#[tokio::test]
async fn fifo_queues_get_group_and_deduplication_ids() {
    let g = gate_with(MemorySink::new(true, 262_144), &[]);
    assert_eq!(call(&g, signed(BODY.as_bytes())).await.0, 200);
    let m = g.sink().take().remove(0);
    let fifo = m.fifo.unwrap();
    assert_eq!(fifo.group_id, "redner:job_abc123");
    assert_eq!(fifo.deduplication_id, event_id("redner", BODY.as_bytes()));
}

#[test]
fn fifo_group_ids_follow_sqs_rules() {
    assert_eq!(fifo_ids("redner", "job_1", "x").group_id, "redner:job_1");
    let long = "j".repeat(200);
    for subject in [long.as_str(), "with space", "é", "tab\t"] {
        let g = fifo_ids("redner", subject, "x").group_id;
        assert!(
            g.len() <= 128 && g.bytes().all(|b| b.is_ascii_graphic()),
            "{g}"
        );
        assert!(g.starts_with("redner:") && g.len() == 7 + 64);
    }
}

#[test]
fn config_errors_name_the_variable() {
    let err =
        Config::<Redner>::from_source(&HashMap::from([("QUEUE_URL", "http://q")])).unwrap_err();
    assert_eq!(err.variable, "REDNER_WEBHOOK_SECRETS");
    let err = Config::<Redner>::from_source(&HashMap::from([
        ("QUEUE_URL", "http://q"),
        ("REDNER_WEBHOOK_SECRETS", ","),
    ]))
    .unwrap_err();
    assert_eq!(err.variable, "REDNER_WEBHOOK_SECRETS");
    let ok = Config::<Redner>::from_source(&HashMap::from([
        ("QUEUE_URL", "http://q"),
        ("REDNER_WEBHOOK_SECRETS", "topsecret"),
    ]))
    .unwrap();
    assert!(!format!("{ok:?}").contains("topsecret"));
}
