//! Nothing a request carries as a credential reaches the tracing log, at
//! any level.
//!
//! A test binary of its own: it installs a global TRACE subscriber, which
//! unit tests running in parallel threads would race with.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hookgate::apigw::HttpApiRequest;
use hookgate::providers::{Namirial, Redner};
use hookgate::verify::hmac::sign;
use hookgate::{Config, Gate, MemorySink};
use serde_json::json;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn event(query: &str, headers: serde_json::Value, body: &str) -> lambda_http::Request {
    let headers: Vec<(String, String)> = headers
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    HttpApiRequest {
        method: "POST",
        path: "/w",
        headers: &headers,
        query,
        body: body.as_bytes(),
        base64: false,
        source_ip: Some("203.0.113.9"),
        request_id: "r1",
        time: chrono::DateTime::UNIX_EPOCH,
    }
    .request()
    .unwrap()
}

const NAMIRIAL_TOKEN: &str = "cur+token/0123456789=abcdef";
const NAMIRIAL_TOKEN_IN_URL: &str = "cur%2Btoken%2F0123456789%3Dabcdef";
const REDNER_SECRET: &str = "whsec_never_logged_secret";

#[tokio::test]
async fn credentials_are_never_logged() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .json()
        .init();

    let namirial = Gate::new(
        Config::<Namirial>::from_source(&HashMap::from([
            ("QUEUE_URL", "http://127.0.0.1:1/q"),
            ("NAMIRIAL_TOKENS", NAMIRIAL_TOKEN),
        ]))
        .unwrap(),
        MemorySink::default(),
    );
    let body = r#"{"status":"SOMETHING_NEW","request":5}"#;
    let right = format!("token={NAMIRIAL_TOKEN_IN_URL}");
    let wrong = format!("token={NAMIRIAL_TOKEN_IN_URL}x");
    assert_eq!(
        namirial
            .handle(event(&right, json!({}), body))
            .await
            .status(),
        200
    );
    assert_eq!(
        namirial
            .handle(event(&wrong, json!({}), body))
            .await
            .status(),
        401
    );
    let header = json!({"x-webhook-token": NAMIRIAL_TOKEN});
    assert_eq!(namirial.handle(event("", header, "{}")).await.status(), 422);

    let redner = Gate::new(
        Config::<Redner>::from_source(&HashMap::from([
            ("QUEUE_URL", "http://127.0.0.1:1/q"),
            ("REDNER_WEBHOOK_SECRETS", REDNER_SECRET),
        ]))
        .unwrap(),
        MemorySink::default(),
    );
    let body = r#"{"event":"job.created","timestamp":"t","data":{"jobId":"j","status":"created"}}"#;
    let sig = format!(
        "sha256={}",
        hex::encode(sign(REDNER_SECRET.as_bytes(), &[body.as_bytes()]))
    );
    let headers = json!({"x-redner-signature": sig});
    assert_eq!(
        redner
            .handle(event("", headers.clone(), body))
            .await
            .status(),
        200
    );
    assert_eq!(
        redner
            .handle(event("", headers, "{\"x\":1}"))
            .await
            .status(),
        401
    );

    // The requests' own records go to stdout, not through tracing: the
    // integration suite checks the release binaries' whole output for the
    // same credentials (operations::credentials_never_reach_the_log).
    let logged = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("SOMETHING_NEW"),
        "warnings are logged: {logged}"
    );
    for secret in [
        NAMIRIAL_TOKEN,
        NAMIRIAL_TOKEN_IN_URL,
        "token=",
        REDNER_SECRET,
        &sig[7..],
    ] {
        assert!(!logged.contains(secret), "{secret:?} in the log: {logged}");
    }
}
