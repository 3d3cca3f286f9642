//! The `syncso` release binary end to end: both of sync.so's signature
//! headers, generation and batch updates, and the freshness window.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hookgate::envelope::{Outcome, event_id};
use hookgate::verify::TimestampedScheme;
use hookgate::verify::hmac::sign;
use hookgate_tests::apigw::Event;
use hookgate_tests::sqs;

use crate::common::{self, Stack};

const SECRETS: &str = "whsec_old,whsec_current";
const GENERATION: &str = r#"{"id":"gen_7f3a","status":"COMPLETED","createdAt":"2025-11-23T12:30:00Z","model":"lipsync-2","input":[{"type":"video","url":"https://example.com/v.mp4"},{"type":"audio","url":"https://example.com/a.mp3"}],"outputDuration":10,"outputUrl":"https://example.com/out.mp4","error":null}"#;
const BATCH: &str = r#"{"id":"batch_91","status":"COMPLETED","created_at":"2025-11-23T12:00:00Z","metrics":{"total_generations":10,"success_count":9,"failed_count":1,"pending_count":0},"outputUrl":"https://example.com/results.jsonl"}"#;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn signed_at(body: &str, t: i64) -> Event {
    Event::post("syncso", body).header(
        "Sync-Signature",
        &TimestampedScheme::header_value(b"whsec_current", t, body.as_bytes()),
    )
}

fn signed(body: &str) -> Event {
    signed_at(body, now())
}

fn primary(body: &str) -> Event {
    let tag = sign(b"whsec_old", &[body.as_bytes()]);
    Event::post("syncso", body).header("X-Signature-Primary", &STANDARD.encode(tag))
}

async fn stack(extra: &[(&str, &str)]) -> Stack {
    let mut env = vec![("SYNCSO_WEBHOOK_SECRETS", SECRETS)];
    env.extend_from_slice(extra);
    common::stack("syncso", false, &env).await
}

#[tokio::test]
async fn generation_and_batch_land_normalized() {
    let s = stack(&[("SYNCSO_ACCEPT_UNTIMED", "true")]).await;
    let t = now();
    s.expect("generation", signed_at(GENERATION, t), 200, None)
        .await;
    s.expect("batch, plain header", primary(BATCH), 200, None)
        .await;
    let got = sqs::drain(&s.sqs, &s.queue).await;
    assert_eq!(got.len(), 2);
    let g = got
        .iter()
        .find(|m| m.envelope.subject == "gen_7f3a")
        .expect("generation")
        .envelope
        .clone();
    assert_eq!(g.id, event_id("syncso", GENERATION.as_bytes()));
    assert_eq!(g.source, "hookgate/syncso");
    assert_eq!(g.event_type, "syncso.generation.completed");
    assert_eq!(g.data.outcome, Outcome::Succeeded);
    assert_eq!(g.time.timestamp(), t, "time is the signed t");
    assert_eq!(g.data.outputs[0].url, "https://example.com/out.mp4");
    assert_eq!(
        (
            g.data.verification.scheme.as_str(),
            g.data.verification.key_index
        ),
        ("hmac-sha256-timestamped", 1)
    );
    let b = got
        .iter()
        .find(|m| m.envelope.subject == "batch_91")
        .expect("batch");
    assert_eq!(b.envelope.event_type, "syncso.batch.completed");
    assert_eq!(b.envelope.data.resource.kind, "batch");
    assert_eq!(
        (
            b.envelope.data.verification.scheme.as_str(),
            b.envelope.data.verification.key_index
        ),
        ("hmac-sha256", 0)
    );
    assert_eq!(b.attributes["provider"], "syncso");
}

#[tokio::test]
async fn stale_and_malformed_signatures_are_refused() {
    let s = stack(&[]).await;
    let unauthorized = Some("unauthorized");
    s.expect(
        "signed an hour ago",
        signed_at(GENERATION, now() - 3600),
        401,
        unauthorized,
    )
    .await;
    s.expect(
        "signed an hour ahead",
        signed_at(GENERATION, now() + 3600),
        401,
        unauthorized,
    )
    .await;
    let t_only =
        Event::post("syncso", GENERATION).header("sync-signature", &format!("t={}", now()));
    s.expect("t only", t_only, 401, unauthorized).await;
    let twice = signed(GENERATION).header(
        "sync-signature",
        &TimestampedScheme::header_value(b"whsec_current", now(), GENERATION.as_bytes()),
    );
    s.expect("header twice", twice, 401, unauthorized).await;
    let other = Event::post("syncso", GENERATION).header(
        "sync-signature",
        &TimestampedScheme::header_value(b"whsec_current", now(), BATCH.as_bytes()),
    );
    s.expect("signature of another body", other, 401, unauthorized)
        .await;
    let unknown = GENERATION.replace("COMPLETED", "TELEPORTED");
    s.expect("unknown status", signed(&unknown), 200, None)
        .await;
    let got = sqs::drain(&s.sqs, &s.queue).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].envelope.data.outcome, Outcome::Unknown);
    assert_eq!(got[0].envelope.event_type, "syncso.generation.teleported");
}

/// `Sync-Signature` with `count` tags, the valid one last.
fn with_tags(body: &str, count: usize) -> Event {
    let t = now();
    let mut value = format!("t={t}");
    for i in 1..count {
        let tag = sign(
            format!("whsec_other{i}").as_bytes(),
            &[t.to_string().as_bytes(), b".", body.as_bytes()],
        );
        value.push_str(&format!(",v1={}", hex::encode(tag)));
    }
    let good = TimestampedScheme::header_value(b"whsec_current", t, body.as_bytes());
    let (_, tag) = good.split_once(",v1=").expect("t=..,v1=..");
    value.push_str(&format!(",v1={tag}"));
    Event::post("syncso", body).header("sync-signature", &value)
}

#[tokio::test]
async fn no_replay_path_through_the_untimed_header() {
    let unauthorized = Some("unauthorized");
    let stale =
        TimestampedScheme::header_value(b"whsec_current", now() - 3600, GENERATION.as_bytes());
    let by_default = stack(&[]).await;
    let opted_in = stack(&[("SYNCSO_ACCEPT_UNTIMED", "true")]).await;
    // The plain header alone: a credential only with the opt-in.
    by_default
        .expect(
            "plain header alone, by default",
            primary(GENERATION),
            401,
            unauthorized,
        )
        .await;
    opted_in
        .expect(
            "plain header alone, opted in",
            primary(GENERATION),
            200,
            None,
        )
        .await;
    assert_eq!(sqs::drain(&opted_in.sqs, &opted_in.queue).await.len(), 1);
    // A stale Sync-Signature beside a valid plain header: refused either way.
    for (name, s) in [("by default", &by_default), ("opted in", &opted_in)] {
        let both = primary(GENERATION).header("sync-signature", &stale);
        s.expect(
            &format!("stale timestamped beside plain, {name}"),
            both,
            401,
            unauthorized,
        )
        .await;
    }
    // A handful of v1 tags at most, however many are valid.
    by_default
        .expect("five tags", with_tags(GENERATION, 5), 200, None)
        .await;
    assert_eq!(
        sqs::drain(&by_default.sqs, &by_default.queue).await.len(),
        1
    );
    for count in [6, 1000] {
        by_default
            .expect(
                &format!("{count} tags"),
                with_tags(GENERATION, count),
                401,
                unauthorized,
            )
            .await;
    }
}

#[tokio::test]
async fn status_matrix_with_both_headers() {
    let s = stack(&[
        ("MAX_BODY_BYTES", "4096"),
        ("SYNCSO_ACCEPT_UNTIMED", "true"),
    ])
    .await;
    // No id: the envelope has no subject.
    let incomplete = r#"{"status":"COMPLETED","createdAt":"2025-11-23T12:30:00Z"}"#;
    common::status_matrix(
        &s,
        signed,
        Event::post("syncso", GENERATION),
        GENERATION,
        incomplete,
    )
    .await;
    common::status_matrix(&s, primary, Event::post("syncso", BATCH), BATCH, incomplete).await;
}

#[tokio::test]
async fn unreachable_queue_answers_503() {
    common::unreachable_queue_is_503(
        "syncso",
        &[("SYNCSO_WEBHOOK_SECRETS", SECRETS)],
        signed(GENERATION),
    )
    .await;
}

#[tokio::test]
async fn refuses_to_start_without_secrets() {
    common::refuses_to_start("syncso", &[], "SYNCSO_WEBHOOK_SECRETS is not set").await;
    common::refuses_to_start(
        "syncso",
        &[
            ("SYNCSO_WEBHOOK_SECRETS", SECRETS),
            ("SYNCSO_TOLERANCE_SECONDS", "soon"),
        ],
        "SYNCSO_TOLERANCE_SECONDS",
    )
    .await;
}
