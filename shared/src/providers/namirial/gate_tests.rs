//! Namirial through the whole pipeline, with an in-memory sink and API
//! Gateway payload-2.0 events carrying the token in `rawQueryString` or a
//! header and the caller's address in `requestContext.http.sourceIp`.

use std::collections::HashMap;

use lambda_http::Request;
use serde_json::json;

use super::{CIDRS_VAR, Namirial, TOKENS_VAR};
use crate::config::Config;
use crate::envelope::{Envelope, event_id, sqs_allows};
use crate::gate::Gate;
use crate::sink::{MemorySink, Message};
use crate::testing::{self, Ev, call, refused};

const OLD_TOKEN: &str = "old-token-0123456789abcdef";
const TOKEN: &str = "cur+token/0123456789=abcdef";
/// `TOKEN` as it appears in the callback URL.
const TOKEN_IN_URL: &str = "cur%2Btoken%2F0123456789%3Dabcdef";
const BODY: &str = r#"{"event_type":"REQUEST_ENROLLED","sent_at":"20250715083633","request":{"status":"ISSUED","profile":"PFnubeNC","registration_authority":7,"scratchcard":"2678100","pk":1012632},"certificates":[{"status":"ACTIVE","serial_number":"7A3F","valid_from":"20250715 08:36:33","valid_to":"20280715 08:36:33"}]}"#;
const LEGACY: &str = r#"{"status":"VIDEOERROR","date":"2021-07-20T08:08:21.132394","previous_status":"VIDEOPENDING","request":1012632,"registration_authority":7}"#;
const CLIENT: &str = "203.0.113.9";

fn gate_with(sink: MemorySink, extra: &[(&str, &str)]) -> Gate<Namirial, MemorySink> {
    let tokens = format!("{OLD_TOKEN},{TOKEN}");
    let mut vars = vec![(TOKENS_VAR, tokens.as_str())];
    vars.extend_from_slice(extra);
    testing::gate_with(&vars, sink)
}

fn gate() -> Gate<Namirial, MemorySink> {
    gate_with(MemorySink::default(), &[])
}

fn fenced() -> Gate<Namirial, MemorySink> {
    gate_with(
        MemorySink::default(),
        &[(CIDRS_VAR, "203.0.113.0/24, 2001:db8:10::/48")],
    )
}

/// A namirial request: its defaults over the shared ones.
fn ev<'a>() -> Ev<'a> {
    Ev {
        path: "/webhooks/namirial",
        body: BODY.as_bytes(),
        source_ip: Some(CLIENT),
        ..Ev::default()
    }
}

/// A delivery of `body` with the token in the callback URL.
fn delivery(body: &[u8]) -> Request {
    Ev {
        query: "token=cur%2Btoken%2F0123456789%3Dabcdef",
        body,
        ..ev()
    }
    .request()
}

/// Expects a 200 and exactly one message, and returns it.
async fn sent(gate: &Gate<Namirial, MemorySink>, req: Request) -> Message {
    let (status, body, _) = call(gate, req).await;
    assert_eq!(status, 200, "{body}");
    let mut sent = gate.sink().take();
    assert_eq!(sent.len(), 1);
    let m = sent.remove(0);
    assert_eq!(body, json!({ "id": envelope(&m).id }));
    m
}

fn envelope(m: &Message) -> Envelope {
    serde_json::from_str(&m.body).unwrap()
}

async fn accepted(gate: &Gate<Namirial, MemorySink>, req: Request) -> Envelope {
    envelope(&sent(gate, req).await)
}

async fn unauthorized(gate: &Gate<Namirial, MemorySink>, req: Request) {
    let body = refused(gate, req, 401, "unauthorized").await;
    for secret in [TOKEN, TOKEN_IN_URL, OLD_TOKEN] {
        assert!(!body.to_string().contains(secret));
    }
}

#[tokio::test]
async fn valid_delivery_is_enqueued_once_with_the_full_envelope() {
    let g = gate();
    let m = &testing::accepted_once(
        &g,
        delivery(BODY.as_bytes()),
        BODY.as_bytes(),
        "namirial.request_enrolled",
        "succeeded",
    )
    .await;
    let id = event_id("namirial", BODY.as_bytes());
    assert_eq!(m.fifo, None);
    let expected = format!(
        concat!(
            r#"{{"specversion":"1.0","id":"{id}","source":"hookgate/namirial","type":"namirial.request_enrolled","#,
            r#""subject":"1012632","time":"2025-07-15T08:36:33Z","datacontenttype":"application/json","#,
            r#""data":{{"provider":"namirial","event":"REQUEST_ENROLLED","outcome":"succeeded","#,
            r#""resource":{{"kind":"request","id":"1012632","parent":null}},"status":"ISSUED","#,
            r#""outputs":[],"error":null,"received_at":"2025-11-23T12:34:57.120Z","request_id":"Jx2kQhV0IAMEbNw=","#,
            r#""verification":{{"scheme":"token","key_index":1}},"payload":{body}}}}}"#
        ),
        id = id,
        body = BODY
    );
    assert_eq!(m.body, expected);
    for secret in [TOKEN, TOKEN_IN_URL, OLD_TOKEN] {
        assert!(
            !m.body.contains(secret),
            "the token never reaches the queue"
        );
    }
    let env: Envelope = serde_json::from_str(&m.body).unwrap();
    assert_eq!(env.payload_bytes().unwrap(), BODY.as_bytes());
}

#[tokio::test]
async fn token_in_header_rotation_and_base64_body() {
    let g = gate();
    let env = accepted(
        &g,
        Ev {
            headers: json!({"x-webhook-token": OLD_TOKEN}),
            base64: true,
            ..ev()
        }
        .request(),
    )
    .await;
    assert_eq!(env.data.verification.scheme, "token");
    assert_eq!(env.data.verification.key_index, 0);
    assert_eq!(env.payload_bytes().unwrap(), BODY.as_bytes());
    let env = accepted(
        &g,
        Ev {
            headers: json!({"X-Webhook-Token": TOKEN}),
            ..ev()
        }
        .request(),
    )
    .await;
    assert_eq!(env.data.verification.key_index, 1);
    // Other query parameters around the token are fine.
    let query = format!("ra=7&token={OLD_TOKEN}&flow=videoid");
    let env = accepted(
        &g,
        Ev {
            query: &query,
            ..ev()
        }
        .request(),
    )
    .await;
    assert_eq!(env.data.verification.key_index, 0);
}

#[tokio::test]
async fn two_tokens_in_one_request_are_refused() {
    let g = gate();
    let twice_in_query = format!("token={TOKEN_IN_URL}&token={TOKEN_IN_URL}");
    let query_and_other = format!("token={TOKEN_IN_URL}&token={OLD_TOKEN}");
    let header = json!({"x-webhook-token": TOKEN});
    let other_header = json!({"x-webhook-token": OLD_TOKEN});
    let joined = json!({"x-webhook-token": format!("{OLD_TOKEN},{TOKEN}")});
    let query = format!("token={TOKEN_IN_URL}");
    for ev in [
        Ev {
            query: &twice_in_query,
            ..ev()
        },
        Ev {
            query: &query_and_other,
            ..ev()
        },
        // In the query and the header, even when they agree.
        Ev {
            query: &query,
            headers: header,
            ..ev()
        },
        Ev {
            query: &query,
            headers: other_header,
            ..ev()
        },
        // API Gateway joins a repeated header with commas.
        Ev {
            headers: joined,
            ..ev()
        },
    ] {
        unauthorized(&g, ev.request()).await;
    }
}

#[tokio::test]
async fn status_table() {
    let g = gate_with(MemorySink::default(), &[("MAX_BODY_BYTES", "1024")]);
    let query = format!("token={TOKEN_IN_URL}");
    let with_token = Ev {
        query: &query,
        ..ev()
    };

    // 405, even with the right token.
    let (_, _, resp) = call(
        &g,
        Ev {
            method: "GET",
            body: b"",
            ..with_token.clone()
        }
        .request(),
    )
    .await;
    assert_eq!(resp.headers()["allow"], "POST");
    for method in ["GET", "PUT", "DELETE"] {
        let req = Ev {
            method,
            ..with_token.clone()
        };
        refused(&g, req.request(), 405, "method_not_allowed").await;
    }

    // 413.
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(2048));
    refused(&g, delivery(big.as_bytes()), 413, "payload_too_large").await;

    // Any Content-Type, or none: the body is judged by its bytes.
    for headers in [
        json!({"content-type": "text/plain"}),
        json!({"content-type": "application/x-www-form-urlencoded"}),
        json!({"content-type": "json"}),
        json!({"content-type": "application/json; charset=utf-8"}),
        json!({}),
    ] {
        let req = Ev {
            headers,
            ..with_token.clone()
        };
        accepted(&g, req.request()).await;
    }

    // 401: missing, wrong, not decoded as the caller meant, empty.
    let wrong = "token=not-the-token-0123456789";
    let raw_plus = format!("token={TOKEN}");
    for ev in [
        Ev::default(),
        Ev {
            query: wrong,
            ..ev()
        },
        Ev {
            headers: json!({"x-webhook-token": "not-the-token-0123456789"}),
            ..ev()
        },
        // A raw '+' in a query is a space, so this is not the token.
        Ev {
            query: &raw_plus,
            ..ev()
        },
        Ev {
            query: "token=",
            ..ev()
        },
        Ev {
            query: &format!("Token={TOKEN_IN_URL}"),
            ..ev()
        },
    ] {
        unauthorized(&g, ev.request()).await;
    }
    // Authentication comes before parsing: garbage without a token is a 401.
    unauthorized(
        &g,
        Ev {
            body: b"not json",
            ..ev()
        }
        .request(),
    )
    .await;

    // 400.
    for bad in [
        &b"not json"[..],
        b"",
        b"{\"status\":\"ISSUED\",\"request\":1,\"request\":2}",
        b"\xEF\xBB\xBF{}",
        b"{\"a\":\"\xff\"}",
    ] {
        refused(&g, delivery(bad), 400, "invalid_json").await;
    }

    // A request id written as a numeric string is accepted.
    let env = accepted(&g, delivery(br#"{"status":"ISSUED","request":"1012632"}"#)).await;
    assert_eq!(env.subject, "1012632");
    // 422: what no shape can do without.
    let body = refused(
        &g,
        delivery(br#"{"event_type":"REQUEST_CREATED","request":{"status":"CREATED"}}"#),
        422,
        "invalid_payload",
    )
    .await;
    assert_eq!(
        body["detail"],
        json!([
            {"loc": ["body", "request", "pk"], "msg": "Field required", "type": "missing"},
        ])
    );
    let body = refused(
        &g,
        delivery(br#"{"request":1012632}"#),
        422,
        "invalid_payload",
    )
    .await;
    assert_eq!(body["detail"][0]["loc"], json!(["body", "status"]));
    refused(&g, delivery(b"[1,2]"), 422, "invalid_payload").await;

    // 503: nothing is reported as delivered.
    g.sink().set_failing(true);
    let (status, body, resp) = call(&g, delivery(BODY.as_bytes())).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("queue_unavailable"))
    );
    assert_eq!(resp.headers()["retry-after"], "5");
    g.sink().set_failing(false);
    assert!(g.sink().take().is_empty());

    // 200.
    accepted(&g, delivery(BODY.as_bytes())).await;
}

#[tokio::test]
async fn legacy_shape_is_accepted() {
    let g = gate();
    let env = accepted(&g, delivery(LEGACY.as_bytes())).await;
    assert_eq!(env.event_type, "namirial.status.videoerror");
    assert_eq!(env.subject, "1012632");
    assert_eq!(env.time.to_rfc3339(), "2021-07-20T08:08:21.132394+00:00");
    assert_eq!(env.data.event, "VIDEOERROR");
    assert_eq!(env.data.outcome.as_str(), "failed");
    assert_eq!(env.data.status.as_deref(), Some("VIDEOERROR"));
    let error = env.data.error.clone().unwrap();
    assert_eq!(
        (error.code.as_deref(), error.message),
        (Some("VIDEOERROR"), None)
    );
    assert_eq!(env.data.resource.kind, "request");
    assert_eq!(env.payload_bytes().unwrap(), LEGACY.as_bytes());
    assert_eq!(env.id, event_id("namirial", LEGACY.as_bytes()));
}

#[tokio::test]
async fn certificate_events_and_unknown_values_are_forwarded_as_unknown() {
    let g = gate();
    for (body, event_type) in [
        (
            r#"{"event_type":"CERTIFICATE_REVOKED","sent_at":"20250801120000","request":{"status":"ISSUED","pk":77},"certificates":[{"status":"REVOKED","serial_number":"7A3F","valid_from":"20250715 08:36:33","valid_to":"20280715 08:36:33"}]}"#,
            "namirial.certificate_revoked",
        ),
        (
            r#"{"event_type":"CERTIFICATE_SUSPENDED","sent_at":"20250801120000","request":{"status":"ISSUED","pk":77},"certificates":[]}"#,
            "namirial.certificate_suspended",
        ),
        (
            r#"{"event_type":"REQUEST_ARCHIVED","sent_at":"20250801120000","request":{"status":"ARCHIVED","pk":77}}"#,
            "namirial.request_archived",
        ),
        (
            r#"{"status":"ARCHIVED","request":77}"#,
            "namirial.status.archived",
        ),
    ] {
        let m = sent(&g, delivery(body.as_bytes())).await;
        assert_eq!(m.attributes[1].1, event_type);
        assert_eq!(envelope(&m).data.outcome.as_str(), "unknown");
        assert_eq!(m.attributes[2].1, "unknown");
    }
}

#[tokio::test]
async fn source_allow_list() {
    let g = fenced();
    let query = format!("token={TOKEN_IN_URL}");
    let from = |ip: Option<&'static str>| {
        Ev {
            query: &query,
            source_ip: ip,
            ..ev()
        }
        .request()
    };
    for ip in [
        "203.0.113.9",
        "203.0.113.250",
        "2001:db8:10::5",
        "2001:db8:10:ffff::1",
        "::ffff:203.0.113.9",
    ] {
        accepted(&g, from(Some(ip))).await;
    }
    // Outside the list, even with the right token.
    for ip in [
        "203.0.114.9",
        "198.51.100.1",
        "2001:db8:11::5",
        "::ffff:198.51.100.1",
        "::1",
    ] {
        unauthorized(&g, from(Some(ip))).await;
    }
    // No (usable) source address while a list is configured.
    unauthorized(&g, from(None)).await;
    unauthorized(&g, from(Some("not-an-address"))).await;
    // Inside the list, the token is still required.
    unauthorized(
        &g,
        Ev {
            query: "token=not-the-token-0123456789",
            ..ev()
        }
        .request(),
    )
    .await;
    unauthorized(&g, Ev { query: "", ..ev() }.request()).await;
    // A forwarded-for header claiming an allowed address changes nothing.
    unauthorized(
        &g,
        Ev {
            query: &query,
            headers: json!({"x-forwarded-for": "203.0.113.9"}),
            source_ip: Some("198.51.100.1"),
            ..ev()
        }
        .request(),
    )
    .await;
}

#[tokio::test]
async fn ipv4_mapped_list_entries_cover_ipv4_callers() {
    let g = gate_with(
        MemorySink::default(),
        &[(CIDRS_VAR, "::ffff:203.0.113.0/120")],
    );
    let query = format!("token={TOKEN_IN_URL}");
    for ip in ["203.0.113.9", "::ffff:203.0.113.9"] {
        let req = Ev {
            query: &query,
            source_ip: Some(ip),
            ..ev()
        };
        accepted(&g, req.request()).await;
    }
    let req = Ev {
        query: &query,
        source_ip: Some("203.0.114.9"),
        ..ev()
    };
    unauthorized(&g, req.request()).await;
}

#[tokio::test]
async fn fifo_group_is_the_request() {
    let g = gate_with(MemorySink::new(true, 262_144), &[]);
    assert_eq!(call(&g, delivery(BODY.as_bytes())).await.0, 200);
    let m = g.sink().take().remove(0);
    let fifo = m.fifo.unwrap();
    assert_eq!(fifo.group_id, "namirial:1012632");
    assert_eq!(fifo.deduplication_id, event_id("namirial", BODY.as_bytes()));
    assert!(m.body.chars().all(sqs_allows));
}

/// The token travels in the URL, the place most likely to end up in a log:
/// run requests under a subscriber recording everything, down to TRACE, and
/// look for it.
#[test]
fn config_errors_name_the_variable_and_never_the_token() {
    let read = |pairs: &[(&str, &str)]| {
        let mut src = HashMap::from([("QUEUE_URL", "http://q")]);
        src.extend(pairs.iter().copied());
        Config::<Namirial>::from_source(&src)
    };
    let err = read(&[]).unwrap_err();
    assert_eq!(err.variable, TOKENS_VAR);
    let err = read(&[(TOKENS_VAR, "  ")]).unwrap_err();
    assert_eq!(err.variable, TOKENS_VAR);
    let err = read(&[(TOKENS_VAR, "s3cr3t-but-shrt")]).unwrap_err();
    assert_eq!(err.variable, TOKENS_VAR, "15 characters are too few");
    assert!(!err.to_string().contains("s3cr3t"), "{err}");
    let err = read(&[(TOKENS_VAR, &format!("{TOKEN},tiny"))]).unwrap_err();
    assert_eq!(err.variable, TOKENS_VAR);
    assert!(!err.to_string().contains("tiny") && !err.to_string().contains(TOKEN));
    for cidrs in [
        "203.0.113.0/33",
        "203.0.113.9/24",
        "203.0.113.0/24,",
        "nope",
    ] {
        let err = read(&[(TOKENS_VAR, TOKEN), (CIDRS_VAR, cidrs)]).unwrap_err();
        assert_eq!(err.variable, CIDRS_VAR, "{cidrs}");
    }
    let ok = read(&[(TOKENS_VAR, TOKEN), (CIDRS_VAR, "203.0.113.9, ::1")]).unwrap();
    assert!(!format!("{ok:?}").contains(TOKEN));
}
