//! What an operator relies on: secrets from Secrets Manager with rotation,
//! one EMF metrics record per request, and the X-Ray trace header carried
//! to the queue.

use std::time::Duration;

use aws_config::BehaviorVersion;
use hookgate::verify::hmac::sign;
use hookgate_tests::apigw::Event;
use hookgate_tests::proxy::Proxy;
use hookgate_tests::sqs;
use serde_json::Value;

use crate::common;

const BODY: &str = r#"{"event":"job.created","timestamp":"2025-11-23T12:34:56Z","data":{"jobId":"job_ops","status":"created"}}"#;

fn signed(secret: &str) -> Event {
    let sig = format!(
        "sha256={}",
        hex::encode(sign(secret.as_bytes(), &[BODY.as_bytes()]))
    );
    Event::post("redner", BODY).header("x-redner-signature", &sig)
}

async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .region("us-east-1")
        .endpoint_url(sqs::endpoint())
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    aws_sdk_secretsmanager::Client::new(&conf)
}

fn unique(name: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("hookgate/{name}-{n}")
}

#[tokio::test]
async fn secrets_rotate_without_rejecting_a_delivery() {
    let sm = secrets_client().await;
    let id = unique("redner");
    sm.create_secret()
        .name(&id)
        .secret_string("first-secret")
        .send()
        .await
        .unwrap();
    let s = common::stack(
        "redner",
        false,
        &[
            ("REDNER_WEBHOOK_SECRETS_SECRET_ID", &id),
            ("SECRETS_REFRESH_SECONDS", "3"),
        ],
    )
    .await;
    s.expect("current secret", signed("first-secret"), 200, None)
        .await;
    // Let the refresh interval pass since the read at init.
    tokio::time::sleep(Duration::from_millis(3100)).await;

    // Rotation: the new value becomes AWSCURRENT, the old one AWSPREVIOUS.
    sm.put_secret_value()
        .secret_id(&id)
        .secret_string("second-secret")
        .send()
        .await
        .unwrap();
    s.expect(
        "new secret, picked up by a refresh",
        signed("second-secret"),
        200,
        None,
    )
    .await;
    s.expect(
        "previous secret still accepted",
        signed("first-secret"),
        200,
        None,
    )
    .await;
    let keys: Vec<usize> = sqs::drain(&s.sqs, &s.queue)
        .await
        .iter()
        .map(|m| m.envelope.data.verification.key_index)
        .collect();
    assert_eq!(keys, [0, 0, 1], "current first, then previous");

    // A second rotation within the interval is not read yet: refreshes are
    // rate-limited, so a flood of bad signatures cannot flood Secrets Manager.
    sm.put_secret_value()
        .secret_id(&id)
        .secret_string("third-secret")
        .send()
        .await
        .unwrap();
    s.expect(
        "within the interval",
        signed("third-secret"),
        401,
        Some("unauthorized"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(3100)).await;
    s.expect("after the interval", signed("third-secret"), 200, None)
        .await;
    s.expect("the one before", signed("second-secret"), 200, None)
        .await;
    assert_eq!(sqs::drain(&s.sqs, &s.queue).await.len(), 2);
    s.expect(
        "two rotations ago",
        signed("first-secret"),
        401,
        Some("unauthorized"),
    )
    .await;
    assert!(
        !s.f.logs().contains("-secret\""),
        "a secret reached the log"
    );
}

/// A caller without a credential, or with a malformed one, cannot make the
/// function call Secrets Manager: only a well-formed credential that matched
/// no key triggers a re-read. Calls are counted at a proxy in front of the
/// local Secrets Manager.
#[tokio::test]
async fn only_a_well_formed_mismatch_reads_secrets_again() {
    let sm = secrets_client().await;
    let id = unique("redner-refresh");
    sm.create_secret()
        .name(&id)
        .secret_string("refresh-secret")
        .send()
        .await
        .unwrap();
    let proxy = Proxy::start(&sqs::endpoint()).await;
    let endpoint = proxy.endpoint();
    let s = common::stack(
        "redner",
        false,
        &[
            ("REDNER_WEBHOOK_SECRETS_SECRET_ID", &id),
            ("SECRETS_REFRESH_SECONDS", "1"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &endpoint),
        ],
    )
    .await;
    s.expect("current secret", signed("refresh-secret"), 200, None)
        .await;
    assert_eq!(sqs::take(&s.sqs, &s.queue).await.len(), 1);
    let at_init = proxy.seen();
    assert!(at_init >= 1, "the secret is read at init through the proxy");
    // Past the refresh interval: a re-read would be allowed now.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let unauthorized = Some("unauthorized");
    let bare = Event::post("redner", BODY);
    s.expect("no credential", bare.clone(), 401, unauthorized)
        .await;
    for malformed in ["", "sha256=", "sha256=zz", "md5=00", "sha256=0,sha256=0"] {
        let event = bare.clone().header("x-redner-signature", malformed);
        s.expect(malformed, event, 401, unauthorized).await;
    }
    assert_eq!(
        proxy.seen(),
        at_init,
        "no credential, no Secrets Manager call"
    );
    // A well-formed signature with an unknown secret may be a rotation.
    s.expect("unknown secret", signed("rotated-away"), 401, unauthorized)
        .await;
    assert!(proxy.seen() > at_init, "a mismatch re-reads the secret");
}

#[tokio::test]
async fn secret_configuration_errors_stop_the_cold_start() {
    common::refuses_to_start(
        "redner",
        &[("REDNER_WEBHOOK_SECRETS_SECRET_ID", &unique("missing"))],
        "REDNER_WEBHOOK_SECRETS_SECRET_ID names a secret that could not be read",
    )
    .await;
    common::refuses_to_start(
        "redner",
        &[
            ("REDNER_WEBHOOK_SECRETS_SECRET_ID", "x"),
            ("REDNER_WEBHOOK_SECRETS", "y"),
        ],
        "REDNER_WEBHOOK_SECRETS_SECRET_ID and REDNER_WEBHOOK_SECRETS are both set",
    )
    .await;
}

#[tokio::test]
async fn secret_ids_work_for_token_lists_too() {
    let sm = secrets_client().await;
    let id = unique("namirial");
    sm.create_secret()
        .name(&id)
        .secret_string("token-from-secrets-manager")
        .send()
        .await
        .unwrap();
    let s = common::stack("namirial", false, &[("NAMIRIAL_TOKENS_SECRET_ID", &id)]).await;
    let body = r#"{"status":"CREATED","request":7}"#;
    let event = Event::post("namirial", body).query("token=token-from-secrets-manager");
    s.expect("token from Secrets Manager", event, 200, None)
        .await;
}

/// The JSON records in `logs` that are EMF metrics records.
fn emf_records(logs: &str) -> Vec<Value> {
    logs.lines()
        .filter(|l| l.starts_with('{') && l.contains("\"_aws\":"))
        .map(|l| serde_json::from_str(l).expect("an EMF record is JSON"))
        .collect()
}

/// Checks `r` is valid EMF: every metric named has a number, every
/// dimension a value, and the namespace and dimensions are hookgate's.
fn check_emf(r: &Value) {
    assert!(r["_aws"]["Timestamp"].as_i64().is_some(), "{r}");
    let cw = &r["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(cw["Namespace"], hookgate::metrics::NAMESPACE);
    assert_eq!(cw["Dimensions"], serde_json::json!([["provider"]]));
    assert!(r["provider"].is_string(), "{r}");
    for m in cw["Metrics"].as_array().expect("metrics") {
        let name = m["Name"].as_str().expect("a name");
        assert!(r[name].is_number(), "{name} has a value: {r}");
    }
}

/// What `f` logged for one request: the lines added while it ran.
async fn logged_by(s: &common::Stack, event: Event) -> (u16, Vec<String>) {
    let before = s.f.logs().lines().count();
    let reply = s.f.call(&event.to_json()).await;
    // stdout is read by a task of the harness: give it a moment.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let lines = s.f.logs().lines().skip(before).map(str::to_owned).collect();
    (reply.status, lines)
}

/// One JSON record per request (its log line and its metrics at once),
/// within a stated size, with what an operator searches by.
#[tokio::test]
async fn one_record_per_request_within_its_size() {
    const MAX_BYTES: usize = 600;
    let s = common::quarantined_stack("redner", &[("REDNER_WEBHOOK_SECRETS", "emf-secret")]).await;
    s.f.ready().await;
    let cases = [
        ("accepted", signed("emf-secret").request_id("req-ok"), 200),
        ("refused", signed("wrong").request_id("req-auth"), 401),
        (
            "quarantined",
            Event::post("redner", "{}")
                .header(
                    "x-redner-signature",
                    &format!("sha256={}", hex::encode(sign(b"emf-secret", &[b"{}"]))),
                )
                .request_id("req-q"),
            200,
        ),
        ("method", signed("emf-secret").method("GET"), 405),
    ];
    let mut sizes = Vec::new();
    for (name, event, status) in cases {
        let (got, lines) = logged_by(&s, event).await;
        assert_eq!(got, status, "{name}");
        assert_eq!(lines.len(), 1, "{name}: one record, got {lines:#?}");
        let bytes = lines[0].len() + 1;
        assert!(bytes <= MAX_BYTES, "{name}: {bytes} bytes: {}", lines[0]);
        sizes.push((name, bytes));
        let r: Value = serde_json::from_str(&lines[0]).expect("the record is JSON");
        check_emf(&r);
        assert_eq!(r["status"], status, "{name}");
        assert!(
            r["request_id"].is_string() && r["outcome"].is_string(),
            "{name}"
        );
        assert!(r["RequestLatency"].is_number(), "{name}");
        assert!(
            r.get("level").is_none(),
            "{name}: no level for Lambda to filter on"
        );
        match name {
            "accepted" => {
                assert_eq!(r["request_id"], "req-ok");
                assert_eq!(r["type"], "redner.job.created");
                assert_eq!(r["outcome"], "created");
                assert!(r["event_id"].is_string() && r["SqsLatency"].is_number());
                assert_eq!(r["Accepted"], 1);
            }
            "refused" => {
                assert_eq!(r["error"], "unauthorized");
                assert!(
                    r["cause"]
                        .as_str()
                        .is_some_and(|c| c.contains("x-redner-signature"))
                );
                assert_eq!(
                    (r["Rejected"].clone(), r["RejectedAuth"].clone()),
                    (1.into(), 1.into())
                );
                assert!(r.get("SqsLatency").is_none() && r.get("event_id").is_none());
            }
            "quarantined" => {
                assert_eq!(r["outcome"], "quarantined");
                assert_eq!(r["Quarantined"], 1);
                assert!(r["event_id"].is_string() && r["reasons"].is_string());
            }
            _ => {
                assert_eq!(r["error"], "method_not_allowed");
                assert_eq!(r["Rejected"], 1);
            }
        }
    }
    // Never a secret or a signature in the record.
    assert!(!s.f.logs().contains("emf-secret"));
    println!("log bytes per request: {sizes:?}");
}

/// Nothing a request carries as a credential reaches the function's output
/// (its request records and every tracing record, at TRACE), for a token in
/// the query string, a token header, and an HMAC signature.
#[tokio::test]
async fn credentials_never_reach_the_log() {
    const TOKEN: &str = "cur+token/0123456789=abcdef";
    const TOKEN_IN_URL: &str = "cur%2Btoken%2F0123456789%3Dabcdef";
    const SECRET: &str = "whsec_never_logged_secret";
    let trace = [("AWS_LAMBDA_LOG_LEVEL", "TRACE")];
    let namirial =
        common::quarantined_stack("namirial", &[trace[0], ("NAMIRIAL_TOKENS", TOKEN)]).await;
    let body = r#"{"status":"SOMETHING_NEW","request":5}"#;
    for (query, status) in [
        (format!("token={TOKEN_IN_URL}"), 200),
        (format!("token={TOKEN_IN_URL}x"), 401),
    ] {
        let event = Event::post("namirial", body).query(&query);
        assert_eq!(namirial.f.call(&event.to_json()).await.status, status);
    }
    let header = Event::post("namirial", "{}").header("x-webhook-token", TOKEN);
    assert_eq!(namirial.f.call(&header.to_json()).await.status, 200);

    let redner =
        common::quarantined_stack("redner", &[trace[0], ("REDNER_WEBHOOK_SECRETS", SECRET)]).await;
    let sig = format!(
        "sha256={}",
        hex::encode(sign(SECRET.as_bytes(), &[BODY.as_bytes()]))
    );
    let good = Event::post("redner", BODY).header("x-redner-signature", &sig);
    let forged = Event::post("redner", "{}").header("x-redner-signature", &sig);
    assert_eq!(redner.f.call(&good.to_json()).await.status, 200);
    assert_eq!(redner.f.call(&forged.to_json()).await.status, 401);
    tokio::time::sleep(Duration::from_millis(100)).await;

    let logged = format!("{}\n{}", namirial.f.logs(), redner.f.logs());
    // Both kinds of record were written, so the check below saw them.
    assert!(
        logged.contains("\"status\":401") && logged.contains("\"quarantined\""),
        "{logged}"
    );
    assert!(
        logged.contains("SOMETHING_NEW"),
        "warnings are logged: {logged}"
    );
    for secret in [TOKEN, TOKEN_IN_URL, "token=", SECRET, &sig[7..]] {
        assert!(!logged.contains(secret), "{secret:?} in the log: {logged}");
    }
}

/// Every kind of answer, for every provider, stays within ten custom
/// metrics (metric name and dimension values) per provider.
#[tokio::test]
async fn few_custom_metrics_whatever_the_answer() {
    use std::collections::{BTreeMap, BTreeSet};

    use hookgate::metrics::{COUNTERS, LATENCIES};
    use hookgate_tests::providers::Provider;

    let mut per_provider: BTreeMap<String, BTreeSet<(String, Vec<String>)>> = BTreeMap::new();
    let mut add = |logs: &str| {
        for r in emf_records(logs) {
            check_emf(&r);
            let cw = &r["_aws"]["CloudWatchMetrics"][0];
            for dims in cw["Dimensions"].as_array().expect("dimension sets") {
                let values: Vec<String> = dims
                    .as_array()
                    .expect("a dimension set")
                    .iter()
                    .map(|d| r[d.as_str().expect("a name")].to_string())
                    .collect();
                for m in cw["Metrics"].as_array().expect("metrics") {
                    let name = m["Name"].as_str().expect("a name").to_owned();
                    assert!(
                        COUNTERS.contains(&name.as_str()) || LATENCIES.contains(&name.as_str()),
                        "{name} is not a published metric"
                    );
                    per_provider
                        .entry(r["provider"].as_str().unwrap_or_default().to_owned())
                        .or_default()
                        .insert((name, values.clone()));
                }
            }
        }
    };
    for p in Provider::all() {
        let mut env = p.env();
        env.push(("MAX_BODY_BYTES", "4096"));
        let huge = format!(r#"{{"pad":"{}"}}"#, "x".repeat(5_000));
        // With a quarantine queue: accepted (two outcomes), each refusal
        // that can happen there, and a quarantined delivery.
        let s = common::quarantined_stack(p.slug(), &env).await;
        for (event, status) in [
            (p.signed(p.sample(1)), 200),
            (p.signed(p.with_text("x")), 200),
            (p.signed("not json"), 200),
            (p.unsigned(p.sample(2)), 401),
            (p.signed(p.sample(3)).method("GET"), 405),
            (p.signed(huge), 413),
        ] {
            assert_eq!(
                s.f.call(&event.to_json()).await.status,
                status,
                "{}",
                p.slug()
            );
        }
        // Without one: the 400 and the 422.
        let plain = common::stack(p.slug(), false, &env).await;
        for (event, status) in [(p.signed("not json"), 400), (p.signed(p.wrong_type()), 422)] {
            assert_eq!(
                plain.f.call(&event.to_json()).await.status,
                status,
                "{}",
                p.slug()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        add(&s.f.logs());
        add(&plain.f.logs());
    }
    // A queue that does not answer: 503.
    let p = Provider::named("redner");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let queue = format!("{endpoint}/123456789012/events");
    let mut env = p.env();
    env.extend([
        ("QUEUE_URL", queue.as_str()),
        ("AWS_ENDPOINT_URL_SQS", endpoint.as_str()),
        ("SQS_TIMEOUT_MS", "500"),
    ]);
    let f = hookgate_tests::function::Function::start(p.slug(), &env).await;
    assert_eq!(f.call(&p.signed(p.sample(4)).to_json()).await.status, 503);
    tokio::time::sleep(Duration::from_millis(100)).await;
    add(&f.logs());

    assert_eq!(
        per_provider.len(),
        hookgate::providers::REGISTRY.len(),
        "{per_provider:?}"
    );
    for (provider, metrics) in &per_provider {
        assert!(
            metrics.len() <= 10,
            "{provider}: {} custom metrics: {metrics:?}",
            metrics.len()
        );
    }
    let redner = &per_provider["redner"];
    let names: BTreeSet<&str> = redner.iter().map(|(n, _)| n.as_str()).collect();
    // The answers above reach every published metric.
    assert_eq!(
        names.len(),
        COUNTERS.len() - 1 + LATENCIES.len(),
        "{names:?}"
    );
    assert!(names.contains("EnqueueFailures"), "{names:?}");
    println!("custom metrics per provider: {}", redner.len());
}

#[tokio::test]
async fn the_trace_header_travels_with_the_message() {
    let s = common::stack(
        "redner",
        false,
        &[("REDNER_WEBHOOK_SECRETS", "trace-secret")],
    )
    .await;
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let reply =
        s.f.call_traced(&signed("trace-secret").to_json(), Some(trace))
            .await;
    assert_eq!(reply.status, 200);
    let got = sqs::drain(&s.sqs, &s.queue).await;
    assert_eq!(
        got[0].system.get("AWSTraceHeader").map(String::as_str),
        Some(trace),
        "{:?}",
        got[0].system
    );
    let reply = s.f.call(&signed("trace-secret").to_json()).await;
    assert_eq!(reply.status, 200);
    let got = sqs::drain(&s.sqs, &s.queue).await;
    assert_eq!(got[0].system.get("AWSTraceHeader"), None);
}
