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

fn emf_records(logs: &str) -> Vec<Value> {
    logs.lines()
        .filter(|l| l.starts_with('{') && l.contains("\"_aws\":"))
        .map(|l| serde_json::from_str(l).expect("an EMF record is JSON"))
        .collect()
}

#[tokio::test]
async fn one_metrics_record_per_request() {
    let s = common::stack("redner", false, &[("REDNER_WEBHOOK_SECRETS", "emf-secret")]).await;
    s.expect(
        "accepted",
        signed("emf-secret").request_id("req-ok"),
        200,
        None,
    )
    .await;
    assert_eq!(sqs::drain(&s.sqs, &s.queue).await.len(), 1);
    s.expect(
        "auth",
        signed("wrong").request_id("req-auth"),
        401,
        Some("unauthorized"),
    )
    .await;
    s.expect(
        "schema",
        Event::post("redner", "{}").header(
            "x-redner-signature",
            &format!("sha256={}", hex::encode(sign(b"emf-secret", &[b"{}"]))),
        ),
        422,
        Some("invalid_payload"),
    )
    .await;
    s.expect(
        "method",
        signed("emf-secret").method("GET"),
        405,
        Some("method_not_allowed"),
    )
    .await;
    let records = emf_records(&s.f.logs());
    assert_eq!(records.len(), 4, "{records:?}");
    for r in &records {
        let cw = &r["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "hookgate");
        assert_eq!(
            cw["Dimensions"],
            serde_json::json!([["provider", "outcome"], ["provider"]])
        );
        assert!(r["_aws"]["Timestamp"].as_i64().is_some());
        assert_eq!(r["provider"], "redner");
        for m in cw["Metrics"].as_array().unwrap() {
            let name = m["Name"].as_str().unwrap();
            assert!(r[name].is_number(), "{name} has a value");
        }
    }
    let counters: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            let counter = r["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]
                .as_str()
                .unwrap();
            (counter, r["outcome"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        counters,
        [
            ("Accepted", "created"),
            ("RejectedAuth", "rejected"),
            ("RejectedSchema", "rejected"),
            ("RejectedMethod", "rejected")
        ]
    );
    assert!(records[0]["SqsLatency"].is_number() && records[1].get("SqsLatency").is_none());
    assert_eq!(records[0]["request_id"], "req-ok");
    assert!(records[0]["event_id"].is_string());
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
