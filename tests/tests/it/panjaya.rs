//! The `panjaya` release binary end to end: ES256 signatures made the way
//! Panjaya makes them, with the repository's test-only key.

use hookgate::envelope::{Outcome, event_id};
use hookgate::verify::es256::test_key;
use hookgate_tests::apigw::Event;
use hookgate_tests::sqs;

use crate::common::{self, Stack};

const PUBLIC: &str = test_key::PUBLIC_PEM;
const VERSION_READY: &str = r#"{"event":"version_ready","asset_id":"asset_42","version_id":"ver_7","version_locale":"es-ES"}"#;

/// hex(DER(ES256(body))), as Panjaya's sample verifies.
fn signature(body: &str) -> String {
    let der = test_key::signing_key()
        .sign_der(body.as_bytes())
        .expect("sign");
    hex::encode(der)
}

fn signed(body: &str) -> Event {
    Event::post("panjaya", body).header("X-Signature", &signature(body))
}

async fn stack(extra: &[(&str, &str)]) -> Stack {
    let mut env = vec![("PANJAYA_PUBLIC_KEYS", PUBLIC)];
    env.extend_from_slice(extra);
    common::stack("panjaya", false, &env).await
}

#[tokio::test]
async fn version_event_lands_normalized() {
    let s = stack(&[]).await;
    let reply =
        s.f.call(
            &signed(VERSION_READY)
                .header("X-Signature-Algorithm", "ES256")
                .to_json(),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let got = sqs::drain(&s.sqs, &s.queue).await;
    assert_eq!(got.len(), 1);
    let e = &got[0].envelope;
    assert_eq!(e.id, event_id("panjaya", VERSION_READY.as_bytes()));
    assert_eq!(e.event_type, "panjaya.version_ready");
    assert_eq!(e.subject, "ver_7");
    assert_eq!(e.data.outcome, Outcome::ActionRequired);
    assert_eq!(e.data.resource.kind, "version");
    assert_eq!(e.data.resource.parent.as_deref(), Some("asset_42"));
    assert_eq!(
        (
            e.data.verification.scheme.as_str(),
            e.data.verification.key_index
        ),
        ("es256", 0)
    );
    assert_eq!(
        e.data.payload.as_ref().map(|p| p.get()),
        Some(VERSION_READY)
    );
    assert_eq!(got[0].attributes["outcome"], "action_required");
}

#[tokio::test]
async fn second_key_raw_signatures_and_algorithm_labels() {
    // The published key first, the test key second: rotation by concatenation.
    let keys = format!("{}\n{PUBLIC}", hookgate::providers::panjaya::PUBLISHED_KEY);
    let s = stack(&[("PANJAYA_PUBLIC_KEYS", &keys)]).await;
    let asset_failed =
        r#"{"event":"asset_failed","asset_id":"asset_9","version_id":null,"version_locale":null}"#;
    s.expect("second key", signed(asset_failed), 200, None)
        .await;

    // JOSE's raw r||s form (64 bytes) of the same kind of signature.
    let der = hex::decode(signature(VERSION_READY)).unwrap();
    let raw = der_to_raw(&der);
    let event = Event::post("panjaya", VERSION_READY).header("x-signature", &hex::encode(raw));
    s.expect("raw r||s", event, 200, None).await;
    s.expect(
        "unknown label is ignored",
        signed(VERSION_READY).header("X-Signature-Algorithm", "frobnicate"),
        200,
        None,
    )
    .await;

    let got = sqs::drain(&s.sqs, &s.queue).await;
    assert_eq!(got.len(), 3);
    assert!(
        got.iter()
            .all(|m| m.envelope.data.verification.key_index == 1)
    );
    let failed = got
        .iter()
        .find(|m| m.envelope.subject == "asset_9")
        .expect("asset event");
    assert_eq!(failed.envelope.data.outcome, Outcome::Failed);
    assert_eq!(failed.envelope.data.resource.kind, "asset");

    s.expect(
        "HS256 label",
        signed(VERSION_READY).header("X-Signature-Algorithm", "HS256"),
        401,
        Some("unauthorized"),
    )
    .await;
    s.expect(
        "none label",
        signed(VERSION_READY).header("X-Signature-Algorithm", "none"),
        401,
        Some("unauthorized"),
    )
    .await;
    let other =
        Event::post("panjaya", VERSION_READY).header("x-signature", &signature(asset_failed));
    s.expect(
        "signature of another body",
        other,
        401,
        Some("unauthorized"),
    )
    .await;
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` to 32-byte big-endian r||s.
fn der_to_raw(der: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    let mut i = 2; // SEQUENCE tag and (short) length
    for half in 0..2 {
        assert_eq!(der[i], 0x02, "INTEGER");
        let len = usize::from(der[i + 1]);
        let int = &der[i + 2..i + 2 + len];
        let int = &int[int.len().saturating_sub(32)..];
        out[half * 32 + 32 - int.len()..half * 32 + 32].copy_from_slice(int);
        i += 2 + len;
    }
    out
}

#[tokio::test]
async fn status_matrix() {
    let s = stack(&[("MAX_BODY_BYTES", "4096")]).await;
    common::status_matrix(
        &s,
        signed,
        Event::post("panjaya", VERSION_READY),
        VERSION_READY,
        r#"{"event":"version_ready"}"#,
    )
    .await;
}

#[tokio::test]
async fn unreachable_queue_answers_503() {
    common::unreachable_queue_is_503(
        "panjaya",
        &[("PANJAYA_PUBLIC_KEYS", PUBLIC)],
        signed(VERSION_READY),
    )
    .await;
}

#[tokio::test]
async fn refuses_to_start_with_a_bad_key() {
    common::refuses_to_start(
        "panjaya",
        &[("PANJAYA_PUBLIC_KEYS", "not a key")],
        "PANJAYA_PUBLIC_KEYS",
    )
    .await;
}
