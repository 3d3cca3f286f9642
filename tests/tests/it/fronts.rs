//! Every AWS HTTP front reaches the same answers: each provider's release
//! binary, given a signed delivery in the event shape of API Gateway HTTP
//! API (2.0 and 1.0), REST API, ALB (single- and multi-value headers) and a
//! function URL (real samples, see `tests/fixtures/fronts/`), answers 200
//! in the shape that front reads and puts one message on the queue; and
//! Namirial's allow-list judges the address each front recorded, never a
//! forwarded header.

use hookgate_tests::fronts::{Front, Shape};
use hookgate_tests::function::parse_reply;
use hookgate_tests::providers::Provider;
use hookgate_tests::sqs;
use serde_json::{Value, json};

use crate::common::{self, Stack};

/// Asserts `raw` is an answer of `status` in the shape `front` reads.
fn assert_shape(front: Front, raw: &Value, status: u16) {
    let name = front.name();
    assert_eq!(raw["statusCode"], json!(status), "{name}: {raw}");
    match front.shape() {
        Shape::HttpApi => {
            assert_eq!(
                raw["headers"]["content-type"], "application/json",
                "{name}: {raw}"
            );
            assert!(raw.get("statusDescription").is_none(), "{name}: {raw}");
        }
        Shape::Proxy => {
            // API Gateway merges both fields: all in one, none sent twice.
            assert_eq!(raw["headers"], json!({}), "{name}: {raw}");
            assert_eq!(
                raw["multiValueHeaders"]["content-type"],
                json!(["application/json"]),
                "{name}: {raw}"
            );
        }
        Shape::Alb => {
            assert!(
                raw["statusDescription"]
                    .as_str()
                    .is_some_and(|d| d.starts_with(&format!("{status} "))),
                "{name}: {raw}"
            );
            // Multi-value on: ALB reads multiValueHeaders; off: headers.
            assert_eq!(
                raw["multiValueHeaders"]["content-type"],
                json!(["application/json"]),
                "{name}: {raw}"
            );
            assert_eq!(
                raw["headers"]["content-type"], "application/json",
                "{name}: {raw}"
            );
        }
    }
}

async fn provider_stack(p: Provider, extra: &[(&str, &str)]) -> Stack {
    let mut env = p.env();
    env.extend_from_slice(extra);
    common::stack(p.slug(), false, &env).await
}

#[tokio::test]
async fn every_front_delivers_for_every_provider() {
    for p in Provider::all() {
        let s = provider_stack(p, &[]).await;
        for (n, front) in Front::ALL.into_iter().enumerate() {
            let name = format!("{} via {}", p.slug(), front.name());
            let body = p.sample(n as u64);
            let event = front.event(&p.signed(body.clone()).to_json());
            let raw = s.f.call_raw(&event).await;
            assert_shape(front, &raw, 200);
            let reply = parse_reply(&raw);
            let got = sqs::drain(&s.sqs, &s.queue).await;
            assert_eq!(got.len(), 1, "{name}: {:?}", reply.body);
            let envelope = &got[0].envelope;
            assert_eq!(
                reply.body["id"].as_str(),
                Some(envelope.id.as_str()),
                "{name}"
            );
            assert_eq!(
                envelope.data.payload.as_ref().map(|r| r.get()),
                Some(body.as_str()),
                "{name}"
            );
            match front.request_id() {
                Some(id) => assert_eq!(envelope.data.request_id.as_deref(), Some(id), "{name}"),
                // ALB: the Lambda invocation's id (the emulator's req-N).
                None => assert!(
                    envelope
                        .data
                        .request_id
                        .as_deref()
                        .is_some_and(|id| id.starts_with("req-")),
                    "{name}: {:?}",
                    envelope.data.request_id
                ),
            }
        }
        // A refusal has each front's shape too, and enqueues nothing.
        for front in Front::ALL {
            let event = front.event(&p.unsigned(p.sample(99)).to_json());
            let raw = s.f.call_raw(&event).await;
            assert_shape(front, &raw, 401);
            assert_eq!(
                parse_reply(&raw).error(),
                Some("unauthorized"),
                "{}",
                front.name()
            );
        }
        assert!(sqs::drain(&s.sqs, &s.queue).await.is_empty());
    }
}

#[tokio::test]
async fn namirial_allow_list_uses_each_fronts_source_address() {
    let p = Provider::named("namirial");
    let s = provider_stack(p, &[("NAMIRIAL_ALLOWED_CIDRS", "203.0.113.0/24")]).await;
    let allowed = "203.0.113.9";
    let other = "198.51.100.7";
    for front in Front::ALL {
        let name = front.name();
        let call = |ip: &str, forwarded: Option<&str>| {
            let mut delivery = p.signed(p.sample(7)).source_ip(ip);
            if let Some(f) = forwarded {
                delivery = delivery.header("x-forwarded-for", f);
            }
            front.event(&delivery.to_json())
        };
        if front.has_source_ip() {
            let ok = s.f.call_raw(&call(allowed, None)).await;
            assert_shape(front, &ok, 200);
            assert_eq!(sqs::drain(&s.sqs, &s.queue).await.len(), 1, "{name}");
            // Another address, even claiming an allowed one, is refused.
            let both = format!("{allowed}, {other}");
            for forwarded in [None, Some(allowed), Some(both.as_str())] {
                let raw = s.f.call_raw(&call(other, forwarded)).await;
                assert_shape(front, &raw, 401);
                assert_eq!(parse_reply(&raw).error(), Some("unauthorized"), "{name}");
            }
            // An allowed address is not refused for what a header says.
            let raw = s.f.call_raw(&call(allowed, Some(other))).await;
            assert_shape(front, &raw, 200);
            assert_eq!(sqs::drain(&s.sqs, &s.queue).await.len(), 1, "{name}");
        } else {
            // ALB records no source address; X-Forwarded-For is the
            // caller's to write, so an allow-list refuses every request,
            // whatever the header claims.
            for forwarded in [None, Some(allowed), Some(other)] {
                let raw = s.f.call_raw(&call(allowed, forwarded)).await;
                assert_shape(front, &raw, 401);
                assert_eq!(parse_reply(&raw).error(), Some("unauthorized"), "{name}");
            }
        }
        assert!(sqs::drain(&s.sqs, &s.queue).await.is_empty(), "{name}");
    }
    // Without an allow-list, ALB deliveries are accepted on the token.
    let open = provider_stack(p, &[]).await;
    for front in [Front::AlbSingle, Front::AlbMulti] {
        let raw = open
            .f
            .call_raw(&front.event(&p.signed(p.sample(8)).to_json()))
            .await;
        assert_shape(front, &raw, 200);
        assert_eq!(
            sqs::drain(&open.sqs, &open.queue).await.len(),
            1,
            "{}",
            front.name()
        );
    }
}

#[tokio::test]
async fn an_event_of_no_front_is_answered_not_failed() {
    let s = provider_stack(Provider::named("redner"), &[]).await;
    for event in [
        json!({}),
        json!({"Records": []}),
        // A WebSocket API event: not a webhook delivery.
        json!({"requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "x"}, "isBase64Encoded": false}),
    ] {
        let raw = s.f.call_raw(&event).await;
        assert_eq!(raw["statusCode"], 500, "{event}: {raw}");
        assert_eq!(parse_reply(&raw).error(), Some("internal_error"), "{event}");
    }
    assert!(sqs::drain(&s.sqs, &s.queue).await.is_empty());
}
