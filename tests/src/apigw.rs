//! API Gateway HTTP API (payload format 2.0) events, as Lambda delivers them:
//! a request built up step by step, made into an event by the library's own
//! builder (`hookgate::apigw`).

use chrono::DateTime;
use hookgate::apigw::HttpApiRequest;
use serde_json::Value;

/// A request to turn into an event.
#[derive(Debug, Clone)]
pub struct Event {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    query: String,
    body: Vec<u8>,
    base64: bool,
    source_ip: String,
    request_id: String,
}

impl Event {
    /// A POST of `body` to `/webhooks/<provider>`.
    pub fn post(provider: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            method: "POST".into(),
            path: format!("/webhooks/{provider}"),
            headers: vec![("content-type".into(), "application/json".into())],
            query: String::new(),
            body: body.into(),
            base64: false,
            source_ip: "203.0.113.9".into(),
            request_id: "Jx2kQhV0IAMEbNw=".into(),
        }
    }

    /// The raw body the event carries.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Another method.
    pub fn method(mut self, method: &str) -> Self {
        self.method = method.into();
        self
    }

    /// Adds a header (API Gateway lower-cases names; repeated ones are
    /// joined with commas, as API Gateway does).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = name.to_ascii_lowercase();
        if let Some((_, v)) = self.headers.iter_mut().find(|(n, _)| *n == name) {
            v.push(',');
            v.push_str(value);
        } else {
            self.headers.push((name, value.into()));
        }
        self
    }

    /// Adds a header with its name exactly as given (as a client sent it,
    /// before any gateway lower-cased it).
    pub fn header_as_sent(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Removes a header.
    pub fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// Sets the raw query string.
    pub fn query(mut self, query: &str) -> Self {
        self.query = query.into();
        self
    }

    /// Sends the body base64-encoded (`isBase64Encoded: true`).
    pub fn base64(mut self) -> Self {
        self.base64 = true;
        self
    }

    /// Sets the caller's address.
    pub fn source_ip(mut self, ip: &str) -> Self {
        self.source_ip = ip.into();
        self
    }

    /// Sets the API Gateway request id.
    pub fn request_id(mut self, id: &str) -> Self {
        self.request_id = id.into();
        self
    }

    /// The event JSON.
    pub fn to_json(&self) -> Value {
        HttpApiRequest {
            method: &self.method,
            path: &self.path,
            headers: &self.headers,
            query: &self.query,
            body: &self.body,
            base64: self.base64,
            source_ip: Some(&self.source_ip),
            request_id: &self.request_id,
            // 2025-11-23T12:34:57.120Z, the time the samples were made.
            time: DateTime::from_timestamp_millis(1_763_901_297_120).unwrap_or_default(),
        }
        .event()
    }
}
