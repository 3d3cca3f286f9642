//! What the pipeline's unit tests share: API Gateway events as lambda_http
//! receives them, and calls through a gate with an in-memory sink.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeZone as _, Utc};
use lambda_http::{Body, Request, Response};
use serde_json::json;

use crate::apigw::HttpApiRequest;
use crate::config::Config;
use crate::gate::Gate;
use crate::json::Detail;
use crate::providers::Normalized;
use crate::providers::Provider;
use crate::sink::{MemorySink, Message, Sink};
use crate::verify::{Verification, Verified};

/// What every unit test's gate reads from its clock:
/// 2025-11-23T12:34:57.120456Z (the envelope keeps milliseconds).
pub(crate) fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 11, 23, 12, 34, 57).unwrap()
        + chrono::Duration::microseconds(120_456)
}

/// A gate for provider `P` configured from `vars` over a local
/// `QUEUE_URL`, sending to `sink`, on the [`fixed_now`] clock.
pub(crate) fn gate_with<P: Provider>(
    vars: &[(&str, &str)],
    sink: MemorySink,
) -> Gate<P, MemorySink> {
    let mut src: HashMap<&str, &str> =
        HashMap::from([("QUEUE_URL", "http://127.0.0.1:1/123456789012/events")]);
    src.extend(vars.iter().copied());
    let config = Config::<P>::from_source(&src).expect("a test configuration");
    Gate::new(config, sink).with_clock(Arc::new(fixed_now))
}

/// What varies between test requests; `Default` is a JSON POST.
#[derive(Debug, Clone)]
pub(crate) struct Ev<'a> {
    pub path: &'a str,
    pub method: &'a str,
    pub query: &'a str,
    pub headers: serde_json::Value,
    pub body: &'a [u8],
    pub base64: bool,
    pub source_ip: Option<&'a str>,
    pub request_id: &'a str,
}

impl Default for Ev<'_> {
    fn default() -> Self {
        Self {
            path: "/webhooks/test",
            method: "POST",
            query: "",
            headers: json!({"content-type": "application/json"}),
            body: b"{}",
            base64: false,
            source_ip: Some("203.0.113.9"),
            request_id: "Jx2kQhV0IAMEbNw=",
        }
    }
}

impl Ev<'_> {
    /// An API Gateway payload-2.0 event, as lambda_http would receive it.
    pub fn request(&self) -> Request {
        let headers: Vec<(String, String)> = self
            .headers
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        HttpApiRequest {
            method: self.method,
            path: self.path,
            headers: &headers,
            query: self.query,
            body: self.body,
            base64: self.base64,
            source_ip: self.source_ip,
            request_id: self.request_id,
            time: fixed_now(),
        }
        .request()
        .expect("a valid API Gateway event")
    }
}

/// Handles `req`: status, JSON body and the response itself.
pub(crate) async fn call<P: Provider, S: Sink>(
    gate: &Gate<P, S>,
    req: Request,
) -> (u16, serde_json::Value, Response<Body>) {
    let resp = gate.handle(req).await;
    let json: serde_json::Value =
        serde_json::from_slice(resp.body().as_ref()).expect("every answer is JSON");
    (resp.status().as_u16(), json, resp)
}

/// Expects a refusal with `status` and `code`, a message, and nothing sent.
pub(crate) async fn refused<P: Provider>(
    gate: &Gate<P, MemorySink>,
    req: Request,
    status: u16,
    code: &str,
) -> serde_json::Value {
    let (got, body, _) = call(gate, req).await;
    assert_eq!(
        (got, body["error"].as_str().unwrap_or("")),
        (status, code),
        "{body}"
    );
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        gate.sink().take().is_empty(),
        "nothing may be enqueued on {status}"
    );
    body
}

/// `P::normalize` over `text`, as if a scheme had verified it (with
/// `signed_at` when the scheme signs a time).
pub(crate) fn normalize<P: Provider>(
    text: &str,
    signed_at: Option<i64>,
) -> Result<Normalized, Vec<Detail>> {
    let verified = Verified::new(
        text.as_bytes(),
        Verification {
            scheme: "test",
            key_index: 0,
            signed_at,
        },
    );
    P::normalize(text, &verified)
}

/// Why `P` cannot normalize `text`: each problem as `<loc JSON>:<type>`.
pub(crate) fn problems<P: Provider>(text: &str) -> Vec<String> {
    normalize::<P>(text, None)
        .unwrap_err()
        .iter()
        .map(|d| format!("{}:{}", serde_json::to_string(&d.loc).unwrap(), d.kind))
        .collect()
}

/// Expects `req` accepted: 200 with the event id of `body`, and exactly one
/// message sent, attributed to `P` with `event_type` and `outcome`.
pub(crate) async fn accepted_once<P: Provider>(
    gate: &Gate<P, MemorySink>,
    req: Request,
    body: &[u8],
    event_type: &str,
    outcome: &str,
) -> Message {
    let (status, answer, _) = call(gate, req).await;
    assert_eq!(status, 200, "{answer}");
    let id = crate::envelope::event_id(P::SLUG, body);
    assert_eq!(answer, json!({ "id": id }));
    let mut sent = gate.sink().take();
    assert_eq!(sent.len(), 1);
    let m = sent.remove(0);
    assert_eq!(
        m.attributes,
        vec![
            ("provider", P::SLUG.to_owned()),
            ("type", event_type.to_owned()),
            ("outcome", outcome.to_owned()),
        ]
    );
    m
}
