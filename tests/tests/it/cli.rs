//! The `hookgate` CLI, built in release like the functions.
//!
//! `send` goes through a small API Gateway stand-in (an HTTP listener that
//! turns each request into an API Gateway event for a release function), so
//! a delivery the CLI signs is checked by the function's own verification.
//! `tail` reads queues on the local SQS server.

use std::convert::Infallible;
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use bytes::Bytes;
use hookgate::envelope::event_id;
use hookgate::providers::CredentialKind;
use hookgate::verify::es256::test_key;
use hookgate::verify::hmac::sign;
use hookgate_tests::apigw::Event;
use hookgate_tests::function::{Function, bin_dir};
use hookgate_tests::providers::Provider;
use hookgate_tests::sqs;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::events::{env_json, env_json_without_queues, logical_id, root};

/// Runs the CLI with exactly `env` as its environment.
async fn hookgate(args: &[&str], env: &[(&str, &str)]) -> Output {
    let path = bin_dir().join("hookgate");
    assert!(
        path.is_file(),
        "{} is missing: build it first (make test does)",
        path.display()
    );
    let run = tokio::process::Command::new(&path)
        .args(args)
        .current_dir(root())
        .env_clear()
        .envs(env.iter().copied())
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the CLI finished within 60 s")
        .expect("the CLI ran")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The environment `tail` needs for the local SQS server.
fn sqs_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL_SQS", sqs::endpoint()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// An HTTP listener on loopback that hands every request to `f` as an API
/// Gateway event and answers with what the function answered.
async fn gateway(
    provider: &'static str,
    f: Arc<Function>,
) -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let f = Arc::clone(&f);
            tokio::spawn(async move {
                let svc = service_fn(move |req| forward(provider, Arc::clone(&f), req));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}/webhooks/{provider}"), task)
}

async fn forward(
    provider: &str,
    f: Arc<Function>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut event = Event::post(provider, body.to_vec())
        .without("content-type")
        .method(parts.method.as_str())
        .query(parts.uri.query().unwrap_or(""));
    for (name, value) in &parts.headers {
        event = event.header(name.as_str(), value.to_str().unwrap_or_default());
    }
    let reply = f.call(&event.to_json()).await;
    let mut resp = Response::new(Full::new(Bytes::from(reply.body.to_string())));
    *resp.status_mut() = hyper::StatusCode::from_u16(reply.status).unwrap_or_default();
    Ok(resp)
}

/// The function of `p` configured from env.json on a fresh queue, without
/// a quarantine queue, accepting every style its sender signs in.
async fn function(p: Provider) -> (Arc<Function>, String) {
    let client = sqs::client().await;
    let queue = sqs::create_queue(&client, false).await;
    let config = env_json_without_queues(&logical_id(p.slug()));
    let mut env: Vec<(&str, &str)> = config
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    env.push(("QUEUE_URL", &queue));
    env.extend(
        p.registered()
            .sender
            .styles
            .iter()
            .filter_map(|s| s.requires),
    );
    (Arc::new(Function::start(p.slug(), &env).await), queue)
}

#[tokio::test]
async fn send_signs_as_each_provider_does() {
    let client = sqs::client().await;
    let scratch = std::env::temp_dir().join(format!("hookgate-cli-send-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    for p in Provider::all() {
        let provider = p.slug();
        let sender = p.registered().sender;
        // What the CLI reads when no flag is given: the function's own
        // variable (its first entry), or a private key's file.
        let (var, value) = if sender.credential == CredentialKind::PrivateKey {
            (
                format!("{}_PRIVATE_KEY", provider.to_ascii_uppercase()),
                test_key::PRIVATE_PEM_PATH.to_owned(),
            )
        } else {
            let var = p.registered().credential_var();
            let list = env_json(&logical_id(provider))
                .into_iter()
                .find(|(k, _)| k == var)
                .map(|(_, v)| v)
                .expect("env.json sets the credential");
            (var.to_owned(), list)
        };
        let variants: Vec<String> = sender
            .styles
            .iter()
            .skip(1)
            .map(|s| format!("--style={}", s.name))
            .collect();
        let variants: Vec<&str> = variants.iter().map(String::as_str).collect();
        // Its sample file, else the sample its module describes.
        let mut sample = format!("samples/{provider}.json");
        if !root().join(&sample).is_file() {
            let path = scratch.join(format!("{provider}.json"));
            std::fs::write(&path, p.sample(1)).unwrap();
            sample = path.to_str().expect("UTF-8 path").to_owned();
        }
        let (f, queue) = function(p).await;
        let (url, server) = gateway(provider, Arc::clone(&f)).await;
        let env = [(var.as_str(), value.as_str())];
        let mut runs: Vec<Vec<&str>> = vec![vec![]];
        runs.extend(variants.iter().map(|v| vec![*v]));
        for extra in &runs {
            let mut args = vec!["send", provider, &sample, "--url", &url];
            args.extend(extra);
            let out = hookgate(&args, &env).await;
            assert!(
                out.status.success(),
                "{provider} {extra:?}: {}{}",
                stdout(&out),
                stderr(&out)
            );
            let id = event_id(provider, &std::fs::read(root().join(&sample)).unwrap());
            assert_eq!(
                stdout(&out),
                format!("HTTP 200 OK\n{{\"id\":\"{id}\"}}\n"),
                "{provider} {extra:?}"
            );
        }
        let got = sqs::drain(&client, &queue).await;
        assert_eq!(got.len(), runs.len(), "{provider}");
        let sample_bytes = std::fs::read(root().join(&sample)).unwrap();
        for m in &got {
            assert_eq!(
                m.envelope.payload_bytes().as_deref(),
                Some(&sample_bytes[..])
            );
        }

        // A body changed after signing is refused, and the CLI says so in
        // its exit status.
        if sender.covers_body {
            let args = [
                "send",
                provider,
                &sample,
                "--url",
                &url,
                "--forge-body",
                "samples/invalid/empty-object.json",
            ];
            let out = hookgate(&args, &env).await;
            assert_eq!(out.status.code(), Some(3), "{provider}: {}", stderr(&out));
            assert!(
                stdout(&out).starts_with("HTTP 401 Unauthorized\n"),
                "{}",
                stdout(&out)
            );
        }
        server.abort();
    }
}

#[tokio::test]
async fn send_puts_the_token_in_the_query_string_percent_encoded() {
    // A token with characters a query string must encode.
    let token = "local token+/&=%0123456789";
    let client = sqs::client().await;
    let queue = sqs::create_queue(&client, false).await;
    let f = Arc::new(
        Function::start(
            "namirial",
            &[("QUEUE_URL", &queue), ("NAMIRIAL_TOKENS", token)],
        )
        .await,
    );
    let (url, server) = gateway("namirial", Arc::clone(&f)).await;
    let with_query = format!("{url}?source=cli");
    let out = hookgate(
        &[
            "send",
            "namirial",
            "samples/namirial.json",
            "--url",
            &with_query,
            "--token",
            token,
        ],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(sqs::drain(&client, &queue).await.len(), 1);
    server.abort();
}

/// Puts one genuine envelope on `queue` (a signed Redner delivery through
/// the release function) and returns its event id.
async fn enqueue_envelope(queue: &str) -> String {
    let body = std::fs::read(root().join("samples/redner.json")).unwrap();
    let sig = format!("sha256={}", hex::encode(sign(b"whsec_cli", &[&body])));
    let f = Function::start(
        "redner",
        &[
            ("QUEUE_URL", queue),
            ("REDNER_WEBHOOK_SECRETS", "whsec_cli"),
        ],
    )
    .await;
    let reply = f
        .call(
            &Event::post("redner", body.clone())
                .header("x-redner-signature", &sig)
                .to_json(),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    event_id("redner", &body)
}

async fn message_count(client: &aws_sdk_sqs::Client, queue: &str) -> u64 {
    let attrs = client
        .get_queue_attributes()
        .queue_url(queue)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("queue attributes");
    let map = attrs.attributes().cloned().unwrap_or_default();
    [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .map(|a| map.get(a).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0))
    .sum()
}

#[tokio::test]
async fn tail_json_prints_the_raw_body_and_delete_consumes_it() {
    let client = sqs::client().await;
    let queue = sqs::create_queue(&client, false).await;
    let id = enqueue_envelope(&queue).await;
    let env = sqs_env();
    let out = hookgate(
        &[
            "tail",
            "--queue-url",
            &queue,
            "--max",
            "1",
            "--json",
            "--delete",
            "--wait",
            "10",
        ],
        &borrowed(&env),
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    // The body exactly as queued: it passes the envelope checks.
    let envelope = sqs::check_body(text.trim_end_matches('\n'));
    assert_eq!(envelope.id, id);
    assert_eq!(message_count(&client, &queue).await, 0, "deleted");
}

#[tokio::test]
async fn tail_prints_one_line_per_envelope_and_other_bodies_raw() {
    let client = sqs::client().await;
    let queue = sqs::create_queue(&client, false).await;
    let id = enqueue_envelope(&queue).await;
    client
        .send_message()
        .queue_url(&queue)
        .message_body("not an envelope")
        .send()
        .await
        .expect("send");
    let env = sqs_env();
    let out = hookgate(
        &["tail", "--queue-url", &queue, "--max", "2", "--wait", "10"],
        &borrowed(&env),
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let summary = lines
        .iter()
        .find(|l| l.contains("redner.job.completed"))
        .unwrap_or_else(|| panic!("no summary line: {text}"));
    let columns: Vec<&str> = summary.split_whitespace().collect();
    assert_eq!(
        columns,
        [
            "2025-11-23T12:34:56Z",
            "redner",
            "redner.job.completed",
            "succeeded",
            "job_abc123",
            &id[..12]
        ]
    );
    assert!(lines.contains(&"not an envelope"), "{text}");
    assert!(
        stderr(&out).contains("is not a hookgate envelope"),
        "{}",
        stderr(&out)
    );
    // Without --delete the messages stay on the queue.
    assert_eq!(message_count(&client, &queue).await, 2);
}

#[tokio::test]
async fn tail_wait_stops_on_a_quiet_queue() {
    let client = sqs::client().await;
    let queue = sqs::create_queue(&client, false).await;
    let env = sqs_env();
    let started = Instant::now();
    let out = hookgate(
        &["tail", "--queue-url", &queue, "--max", "3", "--wait", "1"],
        &borrowed(&env),
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("0 of 3 messages"), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn errors_are_one_line_and_a_failure_exit() {
    // (arguments, environment, start of the message)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![
                "send",
                "redner",
                "samples/nonexistent.json",
                "--url",
                "http://127.0.0.1:9/",
                "--secret",
                "s",
            ],
            vec![],
            "cannot read the payload samples/nonexistent.json: ",
        ),
        (
            vec![
                "send",
                "redner",
                "samples/redner.json",
                "--url",
                "127.0.0.1:9000/x",
                "--secret",
                "s",
            ],
            vec![],
            "bad URL \"127.0.0.1:9000/x\": ",
        ),
        (
            vec![
                "send",
                "redner",
                "samples/redner.json",
                "--url",
                "http://127.0.0.1:9/",
            ],
            vec![],
            "no Redner secret: pass --secret or set REDNER_WEBHOOK_SECRETS",
        ),
        (
            vec![
                "send",
                "panjaya",
                "samples/panjaya.json",
                "--url",
                "http://127.0.0.1:9/",
                "--key",
                "samples/redner.json",
            ],
            vec![],
            "samples/redner.json is not a PEM block",
        ),
        (
            vec![
                "send",
                "redner",
                "samples/redner.json",
                "--url",
                "http://127.0.0.1:9/",
                "--secret",
                "s",
            ],
            vec![],
            "cannot reach http://127.0.0.1:9/: ",
        ),
        (
            vec![
                "tail",
                "--queue-url",
                "http://127.0.0.1:9/123456789012/q",
                "--max",
                "1",
            ],
            vec![],
            "no AWS region",
        ),
        (
            vec![
                "tail",
                "--queue-url",
                "http://127.0.0.1:9/123456789012/q",
                "--max",
                "1",
            ],
            vec![
                ("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9"),
                ("AWS_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
            ],
            "cannot read http://127.0.0.1:9/123456789012/q: ",
        ),
    ];
    for (args, env, message) in cases {
        let out = hookgate(&args, &env).await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("hookgate: error: {message}")),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// `quarantine list` and `quarantine replay` against a quarantine queue
/// holding one delivery this version normalizes (kept by an older version
/// that refused its null `timestamp`) and one it still cannot (kept by the
/// function itself): replay moves the first, with its id, and keeps the
/// second.
#[tokio::test]
async fn quarantine_replay_moves_what_now_normalizes() {
    use hookgate::envelope::VerificationInfo;
    use hookgate::json::{Detail, LocPart};
    use hookgate::quarantine::{QuarantineData, QuarantineRecord};
    use hookgate_tests::providers::Provider;

    let p = Provider::named("redner");
    let s = crate::common::quarantined_stack(p.slug(), &p.env()).await;
    let q = s.quarantine.clone().expect("a quarantine queue");
    let failing = r#"{"event":"job.created","data":{"status":"created"}}"#;
    s.expect("no jobId", p.signed(failing), 200, None).await;
    let failing_id = event_id(p.slug(), failing.as_bytes());

    let fixed = r#"{"event":"job.completed","timestamp":null,"data":{"jobId":"job_replayed","status":"merged"}}"#;
    let fixed_id = event_id(p.slug(), fixed.as_bytes());
    let received_at = chrono::Utc::now();
    let old = QuarantineRecord {
        specversion: "1.0".into(),
        id: fixed_id.clone(),
        source: "hookgate/redner".into(),
        event_type: "hookgate.quarantined".into(),
        time: received_at,
        datacontenttype: "application/json".into(),
        data: QuarantineData {
            provider: "redner".into(),
            reasons: vec![Detail {
                loc: vec![
                    LocPart::Key("body".into()),
                    LocPart::Key("timestamp".into()),
                ],
                msg: "Input should be a valid string".into(),
                kind: "string_type".into(),
            }],
            received_at,
            request_id: Some("old-request".into()),
            verification: VerificationInfo {
                scheme: "hmac-sha256".into(),
                key_index: 1,
            },
            content_type: Some("application/json".into()),
            payload: Some(serde_json::value::RawValue::from_string(fixed.into()).unwrap()),
            payload_base64: None,
        },
    };
    let old_body = serde_json::to_string(&old).unwrap();
    sqs::check_quarantine_body(&old_body);
    s.sqs
        .send_message()
        .queue_url(&q)
        .message_body(old_body)
        .send()
        .await
        .expect("send the old record");

    let env = sqs_env();
    let listed = hookgate(&["quarantine", "list", "--queue-url", &q], &borrowed(&env)).await;
    assert!(listed.status.success(), "{}", stderr(&listed));
    let out = stdout(&listed);
    assert!(
        out.contains(&format!("redner {failing_id} received ")),
        "{out}"
    );
    assert!(
        out.contains("reasons: body.data.jobId: Field required"),
        "{out}"
    );
    assert!(
        out.contains(&format!("redner {fixed_id} received ")),
        "{out}"
    );
    assert!(out.ends_with("2 quarantined\n"), "{out}");
    // Listing leaves both where they were, visible: replay sees both.

    let replayed = hookgate(
        &[
            "quarantine",
            "replay",
            "--queue-url",
            &q,
            "--to-queue-url",
            &s.queue,
        ],
        &borrowed(&env),
    )
    .await;
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    let out = stdout(&replayed);
    assert!(
        out.contains(&format!("replayed redner {fixed_id}\n")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "kept redner {failing_id}: still cannot be normalized: body.data.jobId: Field required\n"
        )),
        "{out}"
    );
    assert!(out.ends_with("replayed 1, kept 1\n"), "{out}");

    // The events queue holds the normalized event, schema-checked, same id.
    let events = sqs::take(&s.sqs, &s.queue).await;
    assert_eq!(events.len(), 1);
    let e = &events[0].envelope;
    assert_eq!(e.id, fixed_id);
    assert_eq!(e.event_type, "redner.job.completed");
    assert_eq!(e.subject, "job_replayed");
    assert_eq!(e.data.request_id.as_deref(), Some("old-request"));
    assert_eq!(e.data.verification.key_index, 1);
    assert_eq!(e.payload_bytes().as_deref(), Some(fixed.as_bytes()));
    assert_eq!(events[0].attributes["type"], "redner.job.completed");
    // The quarantine keeps only what still fails, visible again.
    let kept = sqs::drain_quarantine(&s.sqs, &q).await;
    let ids: Vec<&str> = kept.iter().map(|k| k.record.id.as_str()).collect();
    assert_eq!(ids, [failing_id.as_str()]);
}
