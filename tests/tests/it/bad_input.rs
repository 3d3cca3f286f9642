//! Every malformed delivery, per provider, against the release binaries:
//! each gets DESIGN's status and `error` code, and nothing is enqueued.
//! The table is the same for every provider; header tricks follow each provider's
//! credential format. The same table runs again with a quarantine queue:
//! then every authenticated delivery is kept (the 400s and 422s become a
//! quarantined 200 whose record holds the body byte for byte), and every
//! other answer stays as it was.

use hookgate::envelope::event_id;
use hookgate_tests::apigw::Event;
use hookgate_tests::providers::{Provider, each};
use hookgate_tests::sqs;

use crate::common::{self, Stack};

const LIMIT: &str = "4096";

struct Case {
    name: String,
    event: Event,
    status: u16,
}

fn case(name: &str, event: Event, status: u16) -> Case {
    Case {
        name: name.to_owned(),
        event,
        status,
    }
}

fn nested(open: &str, close: &str, depth: usize) -> String {
    format!("{}1{}", open.repeat(depth), close.repeat(depth))
}

/// The malformed bodies and requests every provider refuses the same way.
fn common_cases(p: Provider) -> Vec<Case> {
    let valid = p.sample(1);
    let huge = format!(r#"{{"pad":"{}"}}"#, "x".repeat(5_000));
    let mut cases = vec![
        case("empty body", p.signed(""), 400),
        case("empty body, no credential", p.unsigned(""), 401),
        case("huge body", p.signed(huge.clone()), 413),
        // Size is checked before authentication: no MAC over a huge body.
        case("huge body, no credential", p.unsigned(huge), 413),
        case("deep objects", p.signed(nested(r#"{"a":"#, "}", 100)), 400),
        case(
            "deep arrays",
            p.signed(format!(r#"{{"a":{}}}"#, nested("[", "]", 100))),
            400,
        ),
        case("wrong types", p.signed(p.wrong_type()), 422),
        case("duplicate keys", p.signed(r#"{"a":1,"b":2,"a":1}"#), 400),
        case(
            "nested duplicate keys",
            p.signed(r#"{"a":{"b":{"c":1,"c":1}}}"#),
            400,
        ),
        case("invalid UTF-8", p.signed(&b"{\"a\":\"\xff\xfe\"}"[..]), 400),
        case(
            "overlong UTF-8",
            p.signed(&b"{\"a\":\"\xc0\xaf\"}"[..]),
            400,
        ),
        case("lone surrogate escape", p.signed(r#"{"a":"\ud800"}"#), 400),
        case("BOM", p.signed(format!("\u{feff}{valid}")), 400),
        case("not JSON", p.signed("event=done"), 400),
        case("trailing garbage", p.signed(format!("{valid}x")), 400),
        case("two documents", p.signed(format!("{valid}{valid}")), 400),
        case("GET", p.signed(valid.clone()).method("GET"), 405),
        case("PUT", p.signed(valid.clone()).method("PUT"), 405),
        case("no credential", p.unsigned(valid.clone()), 401),
    ];
    for (name, body) in [
        ("an array", "[]"),
        ("a string", r#""text""#),
        ("a number", "42"),
        ("null", "null"),
        ("a boolean", "true"),
    ] {
        cases.push(case(&format!("not an object: {name}"), p.signed(body), 422));
    }
    // Accepted variants, so the table also proves the refusals are specific.
    cases.extend([
        case("valid", p.signed(valid.clone()), 200),
        case(
            "charset parameter",
            p.signed(valid.clone())
                .without("content-type")
                .header("content-type", "application/json; charset=utf-8"),
            200,
        ),
        case(
            "structured JSON type",
            p.signed(valid.clone())
                .without("content-type")
                .header("content-type", "application/cloudevents+json"),
            200,
        ),
        case(
            "no content type",
            p.signed(valid.clone()).without("content-type"),
            200,
        ),
        case("base64 body", p.signed(valid.clone()).base64(), 200),
        // Content-Type is no reason to refuse an authenticated body.
        case(
            "text/plain",
            p.signed(valid.clone())
                .without("content-type")
                .header("content-type", "text/plain"),
            200,
        ),
        case(
            "form encoded",
            p.signed(valid)
                .without("content-type")
                .header("content-type", "application/x-www-form-urlencoded"),
            200,
        ),
    ]);
    cases
}

/// Header tricks on the provider's own credential.
fn credential_cases(p: Provider) -> Vec<Case> {
    let body = p.sample(1);
    let good = p.credential(body.as_bytes());
    let other = p.credential(p.sample(2).as_bytes());
    let mut cases = Vec::new();
    if let Some(header) = p.credential_header() {
        let mixed: String = header
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("-");
        cases.extend([
            case(
                "credential of another body",
                p.with_credential(body.clone(), &other),
                401,
            ),
            case(
                "repeated credential header (comma-joined)",
                p.with_credential(body.clone(), &good).header(header, &good),
                401,
            ),
            case(
                "truncated credential",
                p.with_credential(body.clone(), &good[..good.len() - 2]),
                401,
            ),
            case("empty credential", p.with_credential(body.clone(), ""), 401),
            case(
                "whitespace around the credential",
                p.with_credential(body.clone(), &format!("  {good} \t")),
                200,
            ),
            case(
                "header name in mixed case",
                p.unsigned(body.clone()).header_as_sent(&mixed, &good),
                200,
            ),
        ]);
    }
    let upper = |s: &str| s.to_ascii_uppercase();
    match p.slug() {
        "redner" => cases.extend([
            case(
                "prefix and hex in upper case",
                p.with_credential(body.clone(), &upper(&good)),
                200,
            ),
            case(
                "no sha256= prefix",
                p.with_credential(body.clone(), &good["sha256=".len()..]),
                401,
            ),
            case(
                "base64 instead of hex",
                p.with_credential(
                    body.clone(),
                    "sha256=q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=",
                ),
                401,
            ),
        ]),
        "panjaya" => cases.extend([
            case(
                "hex in upper case",
                p.with_credential(body.clone(), &upper(&good)),
                200,
            ),
            case(
                "algorithm label none",
                p.with_credential(body.clone(), &good)
                    .header("x-signature-algorithm", "none"),
                401,
            ),
            case(
                "algorithm label HS256",
                p.with_credential(body.clone(), &good)
                    .header("x-signature-algorithm", "HS256"),
                401,
            ),
            case(
                "algorithm label es256",
                p.with_credential(body.clone(), &good)
                    .header("x-signature-algorithm", "es256"),
                200,
            ),
        ]),
        "syncso" => {
            let t = chrono::Utc::now().timestamp();
            let stale = hookgate::verify::TimestampedScheme::header_value(
                b"whsec_current",
                t - 3_600,
                body.as_bytes(),
            );
            let future = hookgate::verify::TimestampedScheme::header_value(
                b"whsec_current",
                t + 3_600,
                body.as_bytes(),
            );
            cases.extend([
                case("an hour old", p.with_credential(body.clone(), &stale), 401),
                case(
                    "an hour ahead",
                    p.with_credential(body.clone(), &future),
                    401,
                ),
                case(
                    "hex in upper case",
                    p.with_credential(body.clone(), &{
                        let (t, tag) = good.split_once(",v1=").expect("t=..,v1=..");
                        format!("{t},v1={}", tag.to_ascii_uppercase())
                    }),
                    200,
                ),
                case(
                    "keys in upper case",
                    p.with_credential(
                        body.clone(),
                        &good.replace("t=", "T=").replace("v1=", "V1="),
                    ),
                    401,
                ),
                case(
                    "an unknown scheme beside v1",
                    p.with_credential(body.clone(), &format!("{good},v2=abc")),
                    200,
                ),
                case(
                    "spaces after the commas",
                    p.with_credential(body.clone(), &good.replace(',', ", ")),
                    200,
                ),
            ]);
        }
        "namirial" => cases.extend([
            case(
                "token twice in the query",
                p.with_credential(body.clone(), &format!("{good}&{good}")),
                401,
            ),
            case(
                "token in the query and the header",
                p.with_credential(body.clone(), &good)
                    .header("x-webhook-token", "new-token-abcdefghij"),
                401,
            ),
            case(
                "token in the header",
                p.unsigned(body.clone())
                    .header("x-webhook-token", "new-token-abcdefghij"),
                200,
            ),
            case(
                "token header with whitespace",
                p.unsigned(body.clone())
                    .header("x-webhook-token", " new-token-abcdefghij "),
                200,
            ),
            case(
                "token header name in mixed case",
                p.unsigned(body.clone())
                    .header_as_sent("X-Webhook-Token", "new-token-abcdefghij"),
                200,
            ),
            case(
                "parameter name in upper case",
                p.with_credential(body.clone(), "TOKEN=new-token-abcdefghij"),
                401,
            ),
            case(
                "token in upper case",
                p.with_credential(body.clone(), "token=NEW-TOKEN-ABCDEFGHIJ"),
                401,
            ),
            case(
                "a prefix of the token",
                p.with_credential(body.clone(), "token=new-token-abcdefghi"),
                401,
            ),
            case(
                "token header repeated (comma-joined)",
                p.unsigned(body.clone())
                    .header("x-webhook-token", "new-token-abcdefghij")
                    .header("x-webhook-token", "new-token-abcdefghij"),
                401,
            ),
        ]),
        // Tricks on one scheme's format; the cases above cover every
        // registered provider.
        _ => {}
    }
    cases
}

fn code(status: u16) -> Option<&'static str> {
    match status {
        200 => None,
        400 => Some("invalid_json"),
        401 => Some("unauthorized"),
        405 => Some("method_not_allowed"),
        413 => Some("payload_too_large"),
        422 => Some("invalid_payload"),
        other => panic!("no case expects {other}"),
    }
}

async fn every_malformed_delivery_is_refused(p: Provider) {
    every_malformed_delivery(p, false).await;
    every_malformed_delivery(p, true).await;
}

async fn every_malformed_delivery(p: Provider, quarantine: bool) {
    let mut env = p.env();
    env.push(("MAX_BODY_BYTES", LIMIT));
    let s: Stack = if quarantine {
        common::quarantined_stack(p.slug(), &env).await
    } else {
        common::stack(p.slug(), false, &env).await
    };
    let cases: Vec<Case> = common_cases(p)
        .into_iter()
        .chain(credential_cases(p))
        .collect();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut kept = 0;
    for c in cases {
        let name = format!("{}: {} (quarantine: {quarantine})", p.slug(), c.name);
        if let (Some(q), 400 | 422) = (&s.quarantine, c.status) {
            let body = c.event.body().to_vec();
            let reply = s.expect(&name, c.event, 200, None).await;
            assert_eq!(reply["quarantined"], true, "{name}");
            let id = event_id(p.slug(), &body);
            assert_eq!(reply["id"], id.as_str(), "{name}");
            assert!(sqs::drain(&s.sqs, &s.queue).await.is_empty(), "{name}");
            let records = sqs::take_quarantine(&s.sqs, q).await;
            assert_eq!(records.len(), 1, "{name}");
            let record = &records[0].record;
            assert_eq!(record.id, id, "{name}");
            assert_eq!(record.body().as_deref(), Some(&body[..]), "{name}");
            assert!(!record.data.reasons.is_empty(), "{name}");
            kept += 1;
            continue;
        }
        s.expect(&name, c.event, c.status, code(c.status)).await;
        if c.status == 200 {
            // Accepted ones land, once each (read and deleted, so the
            // next case starts from an empty queue).
            let landed = sqs::take(&s.sqs, &s.queue).await;
            assert_eq!(landed.len(), 1, "{name}");
            let first = landed.first().expect("one message");
            assert_eq!(
                first.envelope.source,
                format!("hookgate/{}", p.slug()),
                "{name}"
            );
        }
    }
    if quarantine {
        assert!(kept >= 15, "{}: {kept} quarantined", p.slug());
    }
}

#[tokio::test]
async fn every_provider_malformed_deliveries() {
    each(every_malformed_delivery_is_refused).await;
}
