//! The `namirial` release binary end to end: a provider that signs nothing,
//! authenticated by a shared token and, optionally, its source network.

use hookgate::envelope::{Outcome, event_id};
use hookgate_tests::apigw::Event;
use hookgate_tests::sqs;

use crate::common::{self, Stack};

const TOKENS: &str = "old-token-0123456789,new-token-abcdefghij";
const CURRENT: &str = r#"{"event_type":"REQUEST_ENROLLED","sent_at":"20251123123456","request":{"status":"ISSUED","profile":"PFnubeQAFCiudadano","registration_authority":152,"scratchcard":"5010368","pk":40213},"certificates":[{"status":"ACTIVE","serial_number":"3f9a","valid_from":"20251123 12:34:00","valid_to":"20281123 12:34:00"}]}"#;
const LEGACY: &str = r#"{"status":"VIDEOPENDING","date":"2021-07-20T08:08:21.132394","previous_status":"CREATED","request":40214,"registration_authority":152}"#;

fn with_token(body: &str) -> Event {
    Event::post("namirial", body).query("token=new-token-abcdefghij")
}

async fn stack(extra: &[(&str, &str)]) -> Stack {
    let mut env = vec![("NAMIRIAL_TOKENS", TOKENS)];
    env.extend_from_slice(extra);
    common::stack("namirial", false, &env).await
}

#[tokio::test]
async fn both_shapes_land_normalized() {
    let s = stack(&[]).await;
    s.expect("current, token in query", with_token(CURRENT), 200, None)
        .await;
    let legacy = Event::post("namirial", LEGACY).header("X-Webhook-Token", "old-token-0123456789");
    s.expect("legacy, old token in header", legacy, 200, None)
        .await;
    let got = sqs::drain(&s.sqs, &s.queue).await;
    assert_eq!(got.len(), 2);
    let c = &got
        .iter()
        .find(|m| m.envelope.subject == "40213")
        .expect("current")
        .envelope;
    assert_eq!(c.id, event_id("namirial", CURRENT.as_bytes()));
    assert_eq!(c.event_type, "namirial.request_enrolled");
    assert_eq!(c.data.outcome, Outcome::Succeeded);
    assert_eq!(c.time.to_rfc3339(), "2025-11-23T12:34:56+00:00");
    assert_eq!(
        (
            c.data.verification.scheme.as_str(),
            c.data.verification.key_index
        ),
        ("token", 1)
    );
    let l = &got
        .iter()
        .find(|m| m.envelope.subject == "40214")
        .expect("legacy")
        .envelope;
    assert_eq!(l.event_type, "namirial.status.videopending");
    assert_eq!(l.data.outcome, Outcome::ActionRequired);
    assert_eq!(l.data.verification.key_index, 0);
    let logs = s.f.logs();
    assert!(
        !logs.contains("token-0123456789") && !logs.contains("token-abcdefghij"),
        "a token reached the log"
    );
}

#[tokio::test]
async fn forged_deliveries_are_refused() {
    let s = stack(&[("NAMIRIAL_ALLOWED_CIDRS", "203.0.113.0/24,2001:db8::/32")]).await;
    let unauthorized = Some("unauthorized");
    s.expect(
        "no token",
        Event::post("namirial", CURRENT),
        401,
        unauthorized,
    )
    .await;
    let wrong = Event::post("namirial", CURRENT).query("token=new-token-abcdefghiJ");
    s.expect("wrong token", wrong, 401, unauthorized).await;
    s.expect(
        "outside the allow-list",
        with_token(CURRENT).source_ip("198.51.100.7"),
        401,
        unauthorized,
    )
    .await;
    s.expect(
        "IPv6 outside",
        with_token(CURRENT).source_ip("2001:db9::1"),
        401,
        unauthorized,
    )
    .await;
    let twice = Event::post("namirial", CURRENT)
        .query("token=new-token-abcdefghij&token=old-token-0123456789");
    s.expect("two tokens", twice, 401, unauthorized).await;
    s.expect(
        "IPv6 inside",
        with_token(CURRENT).source_ip("2001:db8::7"),
        200,
        None,
    )
    .await;
    s.expect(
        "IPv4 inside",
        with_token(LEGACY).source_ip("203.0.113.200"),
        200,
        None,
    )
    .await;
    assert_eq!(sqs::drain(&s.sqs, &s.queue).await.len(), 2);
    s.expect(
        "neither shape",
        with_token(r#"{"hello":"world"}"#),
        422,
        Some("invalid_payload"),
    )
    .await;
}

#[tokio::test]
async fn status_matrix() {
    let s = stack(&[("MAX_BODY_BYTES", "4096")]).await;
    // No request id: the envelope has no subject.
    let incomplete = r#"{"event_type":"REQUEST_CREATED","request":{"status":"CREATED"}}"#;
    common::status_matrix(
        &s,
        with_token,
        Event::post("namirial", CURRENT),
        CURRENT,
        incomplete,
    )
    .await;
}

#[tokio::test]
async fn unreachable_queue_answers_503() {
    common::unreachable_queue_is_503(
        "namirial",
        &[("NAMIRIAL_TOKENS", TOKENS)],
        with_token(CURRENT),
    )
    .await;
}

#[tokio::test]
async fn refuses_to_start_without_a_token() {
    common::refuses_to_start("namirial", &[], "NAMIRIAL_TOKENS is not set").await;
    common::refuses_to_start(
        "namirial",
        &[("NAMIRIAL_TOKENS", "short")],
        "NAMIRIAL_TOKENS",
    )
    .await;
    common::refuses_to_start(
        "namirial",
        &[
            ("NAMIRIAL_TOKENS", TOKENS),
            ("NAMIRIAL_ALLOWED_CIDRS", "10.0.0.0/33"),
        ],
        "NAMIRIAL_ALLOWED_CIDRS",
    )
    .await;
}

#[tokio::test]
async fn odd_query_strings_are_answered_and_tokens_never_logged() {
    // Even at TRACE, where the Lambda runtime would print the raw event.
    let s = stack(&[("AWS_LAMBDA_LOG_LEVEL", "TRACE")]).await;
    for query in [
        "token=new-token-abcdefghij x",
        "token=\"new-token-abcdefghij\"",
        "a=<b>&token=x|y",
    ] {
        let event = Event::post("namirial", CURRENT).query(query);
        s.expect(query, event, 401, Some("unauthorized")).await;
    }
    let spaced = Event::post("namirial", CURRENT).query("note=a b&token=new-token-abcdefghij");
    s.expect("right token beside a raw space", spaced, 200, None)
        .await;
    assert_eq!(sqs::drain(&s.sqs, &s.queue).await.len(), 1);
    let logs = s.f.logs();
    assert!(
        logs.contains("TRACE") || logs.contains("\"level\":\"TRACE\""),
        "TRACE logging is on"
    );
    assert!(
        !logs.contains("abcdefghij"),
        "a token reached the log:\n{logs}"
    );
}
