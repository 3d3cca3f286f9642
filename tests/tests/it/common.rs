//! What every provider's end-to-end tests share: a fresh queue and the
//! release binary under the runtime emulator, and DESIGN's status matrix.

use std::time::Duration;

use hookgate_tests::apigw::Event;
use hookgate_tests::function::Function;
use hookgate_tests::sqs;

/// A function with its own queue, and its own quarantine queue if asked.
pub struct Stack {
    pub sqs: aws_sdk_sqs::Client,
    pub queue: String,
    pub quarantine: Option<String>,
    pub f: Function,
}

/// Starts release binary `bin` on a new queue with `env` added.
pub async fn stack(bin: &str, fifo: bool, env: &[(&str, &str)]) -> Stack {
    start(bin, fifo, false, env).await
}

/// Like [`stack`], with a new quarantine queue in `QUARANTINE_QUEUE_URL`.
pub async fn quarantined_stack(bin: &str, env: &[(&str, &str)]) -> Stack {
    start(bin, false, true, env).await
}

async fn start(bin: &str, fifo: bool, quarantine: bool, env: &[(&str, &str)]) -> Stack {
    let sqs = sqs::client().await;
    let queue = sqs::create_queue(&sqs, fifo).await;
    let quarantine = match quarantine {
        true => Some(sqs::create_queue(&sqs, false).await),
        false => None,
    };
    let mut vars = vec![("QUEUE_URL", queue.as_str())];
    if let Some(q) = &quarantine {
        vars.push(("QUARANTINE_QUEUE_URL", q));
    }
    vars.extend_from_slice(env);
    let f = Function::start(bin, &vars).await;
    Stack {
        sqs,
        queue,
        quarantine,
        f,
    }
}

impl Stack {
    /// Sends `event`, asserts its status and `error` code, and that the
    /// queues are still empty after a refusal.
    pub async fn expect(
        &self,
        name: &str,
        event: Event,
        status: u16,
        code: Option<&str>,
    ) -> serde_json::Value {
        let reply = self.f.call(&event.to_json()).await;
        assert_eq!(
            (reply.status, reply.error()),
            (status, code),
            "{name}: {:?}",
            reply.body
        );
        if status != 200 {
            assert!(
                reply.body["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{name}"
            );
            let left = sqs::drain(&self.sqs, &self.queue).await;
            let subjects: Vec<&str> = left.iter().map(|m| m.envelope.subject.as_str()).collect();
            assert!(left.is_empty(), "{name} enqueued something: {subjects:?}");
            if let Some(q) = &self.quarantine {
                let kept = sqs::drain_quarantine(&self.sqs, q).await;
                assert!(kept.is_empty(), "{name} was quarantined");
            }
        }
        match status {
            405 => assert_eq!(
                reply.headers.get("allow").map(String::as_str),
                Some("POST"),
                "{name}"
            ),
            503 => assert_eq!(
                reply.headers.get("retry-after").map(String::as_str),
                Some("5"),
                "{name}"
            ),
            422 => assert!(
                reply.body["detail"]
                    .as_array()
                    .is_some_and(|d| !d.is_empty()
                        && d.iter().all(|x| x["loc"].is_array()
                            && x["msg"].is_string()
                            && x["type"].is_string()))
            ),
            _ => {}
        }
        reply.body
    }
}

/// DESIGN's status matrix for one provider: `sign` makes a correctly
/// authenticated event for a body; `unsigned` carries no credential.
/// The stack must run with `MAX_BODY_BYTES=4096`.
pub async fn status_matrix(
    s: &Stack,
    sign: impl Fn(&str) -> Event,
    unsigned: Event,
    valid: &str,
    incomplete: &str,
) {
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(5000));
    s.expect(
        "GET",
        sign(valid).method("GET"),
        405,
        Some("method_not_allowed"),
    )
    .await;
    s.expect("oversized", sign(&big), 413, Some("payload_too_large"))
        .await;
    // An authenticated body is judged by its bytes, whatever its label.
    let plain = sign(valid)
        .without("content-type")
        .header("content-type", "text/plain");
    s.expect("text/plain", plain, 200, None).await;
    assert_eq!(sqs::drain(&s.sqs, &s.queue).await.len(), 1);
    s.expect("unsigned", unsigned, 401, Some("unauthorized"))
        .await;
    s.expect("not JSON", sign("{nope"), 400, Some("invalid_json"))
        .await;
    s.expect("BOM", sign("\u{feff}{}"), 400, Some("invalid_json"))
        .await;
    s.expect(
        "duplicate keys",
        sign(r#"{"a":1,"a":1}"#),
        400,
        Some("invalid_json"),
    )
    .await;
    s.expect("incomplete", sign(incomplete), 422, Some("invalid_payload"))
        .await;
    s.expect("not an object", sign("[]"), 422, Some("invalid_payload"))
        .await;
    s.expect("valid", sign(valid), 200, None).await;
    assert_eq!(sqs::drain(&s.sqs, &s.queue).await.len(), 1);
    s.expect("base64 valid", sign(valid).base64(), 200, None)
        .await;
    assert_eq!(sqs::drain(&s.sqs, &s.queue).await.len(), 1);
}

/// Starts `bin` with `env` and asserts it refuses to start, saying `phrase`.
pub async fn refuses_to_start(bin: &str, env: &[(&str, &str)], phrase: &str) {
    let mut vars = vec![("QUEUE_URL", "http://127.0.0.1:9/123456789012/q")];
    vars.extend_from_slice(env);
    let mut f = Function::start(bin, &vars).await;
    let status = f
        .exit_status(Duration::from_secs(10))
        .await
        .expect("the function exits at init");
    assert!(!status.success());
    assert!(
        f.logs().contains(phrase),
        "expected {phrase:?} in:\n{}",
        f.logs()
    );
    assert_eq!(f.runtime.polls(), 0, "it must not take invocations");
}

/// Starts `bin` against a queue endpoint nothing listens on, and asserts a
/// valid delivery gets 503 within `SQS_TIMEOUT_MS` plus a margin.
pub async fn unreachable_queue_is_503(bin: &str, env: &[(&str, &str)], event: Event) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let queue = format!("{endpoint}/123456789012/events");
    let mut vars = vec![
        ("QUEUE_URL", queue.as_str()),
        ("AWS_ENDPOINT_URL_SQS", &endpoint),
        ("SQS_TIMEOUT_MS", "1500"),
    ];
    vars.extend_from_slice(env);
    let f = Function::start(bin, &vars).await;
    f.ready().await;
    let started = std::time::Instant::now();
    let reply = f.call(&event.to_json()).await;
    let took = started.elapsed();
    assert_eq!(
        (reply.status, reply.error()),
        (503, Some("queue_unavailable")),
        "{:?}",
        reply.body
    );
    assert_eq!(
        reply.headers.get("retry-after").map(String::as_str),
        Some("5")
    );
    assert!(took < Duration::from_millis(1500 + 1000), "took {took:?}");
    let text = reply.body.to_string();
    assert!(
        !text.contains("dispatch") && !text.contains("127.0.0.1"),
        "no SDK detail in the answer: {text}"
    );
}
