//! Panjaya through the whole pipeline, with an in-memory sink: the status
//! table, the 422 detail and the envelope of a version and an asset event.

use std::collections::HashMap;

use lambda_http::Request;
use serde_json::json;

use super::*;
use crate::config::Config;
use crate::envelope::{Envelope, event_id};
use crate::gate::Gate;
use crate::sink::MemorySink;
use crate::testing::{self, Ev, call, refused};
use crate::verify::es256::testing::{TestKey, flip_s};

const VERSION_BODY: &str = r#"{"event":"version_ready","asset_id":"a_7f3c","version_id":"v_19ab","version_locale":"fr-FR"}"#;
const ASSET_BODY: &str =
    r#"{"event":"asset_failed","asset_id":"a_7f3c","version_id":null,"version_locale":null}"#;

/// The committed test-only fixture key signs; a second, fresh key is
/// configured after it to show rotation.
struct Keys {
    current: TestKey,
    next: TestKey,
}

fn keys() -> Keys {
    Keys {
        current: TestKey::fixture(),
        next: TestKey::generate(),
    }
}

fn gate_with(keys: &Keys, sink: MemorySink, extra: &[(&str, &str)]) -> Gate<Panjaya, MemorySink> {
    let pem = format!("{}{}", keys.current.public_pem(), keys.next.public_pem());
    let mut vars = vec![(KEYS_VAR, pem.as_str())];
    vars.extend_from_slice(extra);
    testing::gate_with(&vars, sink)
}

/// An API Gateway payload-2.0 event, as lambda_http would receive it.
fn event(method: &str, headers: serde_json::Value, body: &[u8]) -> Request {
    Ev {
        path: "/webhooks/panjaya",
        method,
        headers,
        body,
        request_id: "Kq3mRiW1JBNFcOx=",
        ..Ev::default()
    }
    .request()
}

fn signed_by(key: &TestKey, body: &[u8]) -> Request {
    event(
        "POST",
        json!({"content-type": "application/json", "x-signature": hex::encode(key.sign_der(body))}),
        body,
    )
}

#[tokio::test]
async fn version_event_envelope() {
    let k = keys();
    let g = gate_with(&k, MemorySink::default(), &[]);
    let m = &testing::accepted_once(
        &g,
        signed_by(&k.current, VERSION_BODY.as_bytes()),
        VERSION_BODY.as_bytes(),
        "panjaya.version_ready",
        "action_required",
    )
    .await;
    let id = event_id("panjaya", VERSION_BODY.as_bytes());
    // Panjaya sends no time: the envelope's time is the receipt time.
    let expected = format!(
        concat!(
            r#"{{"specversion":"1.0","id":"{id}","source":"hookgate/panjaya","type":"panjaya.version_ready","#,
            r#""subject":"v_19ab","time":"2025-11-23T12:34:57.120Z","datacontenttype":"application/json","#,
            r#""data":{{"provider":"panjaya","event":"version_ready","outcome":"action_required","#,
            r#""resource":{{"kind":"version","id":"v_19ab","parent":"a_7f3c"}},"status":null,"#,
            r#""outputs":[],"error":null,"received_at":"2025-11-23T12:34:57.120Z","request_id":"Kq3mRiW1JBNFcOx=","#,
            r#""verification":{{"scheme":"es256","key_index":0}},"payload":{body}}}}}"#
        ),
        id = id,
        body = VERSION_BODY
    );
    assert_eq!(m.body, expected);
    let env: Envelope = serde_json::from_str(&m.body).unwrap();
    assert_eq!(env.payload_bytes().unwrap(), VERSION_BODY.as_bytes());
}

#[tokio::test]
async fn asset_event_envelope_with_the_second_key() {
    let k = keys();
    let g = gate_with(&k, MemorySink::new(true, 262_144), &[]);
    let (status, _, _) = call(&g, signed_by(&k.next, ASSET_BODY.as_bytes())).await;
    assert_eq!(status, 200);
    let m = g.sink().take().remove(0);
    assert_eq!(m.attributes[1].1, "panjaya.asset_failed");
    assert_eq!(m.attributes[2].1, "failed");
    let env: serde_json::Value = serde_json::from_str(&m.body).unwrap();
    assert_eq!(env["type"], "panjaya.asset_failed");
    assert_eq!(env["subject"], "a_7f3c");
    assert_eq!(env["time"], "2025-11-23T12:34:57.120Z");
    assert_eq!(
        env["data"]["resource"],
        json!({"kind": "asset", "id": "a_7f3c", "parent": null})
    );
    assert_eq!(env["data"]["outcome"], "failed");
    assert_eq!(
        env["data"]["error"],
        json!({"code": "asset_failed", "message": null})
    );
    assert_eq!(env["data"]["status"], json!(null));
    assert_eq!(
        env["data"]["verification"],
        json!({"scheme": "es256", "key_index": 1})
    );
    assert_eq!(
        env["data"]["payload"],
        serde_json::from_str::<serde_json::Value>(ASSET_BODY).unwrap()
    );
    let fifo = m.fifo.unwrap();
    assert_eq!(fifo.group_id, "panjaya:a_7f3c");
    assert_eq!(
        fifo.deduplication_id,
        event_id("panjaya", ASSET_BODY.as_bytes())
    );
}

#[tokio::test]
async fn status_table() {
    let k = keys();
    let g = gate_with(&k, MemorySink::default(), &[("MAX_BODY_BYTES", "1024")]);
    let body = VERSION_BODY.as_bytes();
    let sig = hex::encode(k.current.sign_der(body));
    let raw = hex::encode(k.current.sign_raw(body));

    let (_, _, resp) = call(&g, event("GET", json!({}), b"")).await;
    assert_eq!(resp.headers()["allow"], "POST");
    refused(
        &g,
        event("GET", json!({"x-signature": sig}), body),
        405,
        "method_not_allowed",
    )
    .await;

    let big = format!(
        r#"{{"event":"version_ready","asset_id":"a","pad":"{}"}}"#,
        "x".repeat(2048)
    );
    refused(
        &g,
        signed_by(&k.current, big.as_bytes()),
        413,
        "payload_too_large",
    )
    .await;

    // Content-Type is no reason to refuse an authenticated body.
    for ct in ["text/plain", "application/xml", "multipart/form-data"] {
        let req = event(
            "POST",
            json!({"content-type": ct, "x-signature": sig}),
            body,
        );
        assert_eq!(call(&g, req).await.0, 200, "{ct}");
        assert_eq!(g.sink().take().len(), 1);
    }

    // Accepted forms: DER, raw r||s, the high-S twin, an ES256 label, an
    // unknown label, no Content-Type at all.
    let twin = flip_s(&p256::ecdsa::Signature::from_der(&hex::decode(&sig).unwrap()).unwrap());
    for headers in [
        json!({"x-signature": sig}),
        json!({"x-signature": raw}),
        json!({"x-signature": hex::encode(twin.to_der())}),
        json!({"x-signature": hex::encode(twin.to_bytes())}),
        json!({"x-signature": sig.to_uppercase(), "x-signature-algorithm": "es256"}),
        json!({"x-signature": sig, "x-signature-algorithm": "frobnicate"}),
    ] {
        assert_eq!(
            call(&g, event("POST", headers.clone(), body)).await.0,
            200,
            "{headers}"
        );
        assert_eq!(g.sink().take().len(), 1);
    }

    let other = TestKey::generate();
    for headers in [
        json!({}),
        json!({"x-signature": ""}),
        json!({"x-signature": "garbage"}),
        json!({"x-signature": &sig[1..]}),
        json!({"x-signature": format!("{sig},{sig}")}),
        json!({"x-signature": sig, "x-signature-algorithm": "HS256"}),
        json!({"x-signature": sig, "x-signature-algorithm": "none"}),
        json!({"x-signature": hex::encode(other.sign_der(body))}),
        json!({"x-signature": hex::encode(k.current.sign_der(b"{}"))}),
    ] {
        refused(&g, event("POST", headers, body), 401, "unauthorized").await;
    }
    let tampered = VERSION_BODY.replace("version_ready", "version_failed");
    refused(
        &g,
        event("POST", json!({"x-signature": sig}), tampered.as_bytes()),
        401,
        "unauthorized",
    )
    .await;

    for bad in [
        &b"not json"[..],
        b"",
        b"{\"a\":1,\"a\":2}",
        b"\xEF\xBB\xBF{}",
    ] {
        refused(&g, signed_by(&k.current, bad), 400, "invalid_json").await;
    }

    let detail = refused(
        &g,
        signed_by(&k.current, br#"{"event":"version_ready","version_id":3}"#),
        422,
        "invalid_payload",
    )
    .await;
    // FastAPI's shape, as Panjaya's own documentation shows for a 422.
    assert_eq!(
        detail["detail"],
        json!([
            {"loc": ["body", "asset_id"], "msg": "Field required", "type": "missing"},
        ])
    );
    refused(&g, signed_by(&k.current, b"[1,2]"), 422, "invalid_payload").await;

    let small = gate_with(&k, MemorySink::new(false, 600), &[]);
    refused(
        &small,
        signed_by(&k.current, body),
        413,
        "payload_too_large",
    )
    .await;

    g.sink().set_failing(true);
    let (status, resp_body, resp) = call(&g, signed_by(&k.current, body)).await;
    assert_eq!(
        (status, resp_body["error"].as_str()),
        (503, Some("queue_unavailable"))
    );
    assert_eq!(resp.headers()["retry-after"], "5");
    g.sink().set_failing(false);
    assert!(g.sink().take().is_empty());

    assert_eq!(call(&g, signed_by(&k.current, body)).await.0, 200);
    assert_eq!(g.sink().take().len(), 1);
}

#[tokio::test]
async fn unknown_event_is_forwarded_as_unknown() {
    let k = keys();
    let g = gate_with(&k, MemorySink::default(), &[]);
    let body = br#"{"event":"version_archived","asset_id":"a1","version_id":"v1"}"#;
    assert_eq!(call(&g, signed_by(&k.current, body)).await.0, 200);
    let m = g.sink().take().remove(0);
    assert_eq!(m.attributes[1].1, "panjaya.version_archived");
    assert_eq!(m.attributes[2].1, "unknown");
}

#[test]
fn config_uses_the_published_key_by_default() {
    let config =
        Config::<Panjaya>::from_source(&HashMap::from([("QUEUE_URL", "http://q")])).unwrap();
    assert_eq!(config.provider.scheme.key_count(), 1);
    let err = Config::<Panjaya>::from_source(&HashMap::from([
        ("QUEUE_URL", "http://q"),
        (
            KEYS_VAR,
            "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
        ),
    ]))
    .unwrap_err();
    assert_eq!(err.variable, KEYS_VAR);
}
