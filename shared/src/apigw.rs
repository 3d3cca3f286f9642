//! API Gateway HTTP API (payload format 2.0) events: the JSON Lambda hands a
//! function for one request. The CLI's `event` command prints them (for
//! `sam local invoke -e` and `cargo lambda invoke --data-file`), and the
//! unit tests, the integration tests and the benches send them: one builder
//! keeps them all the shape a real API sends.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The API such an event pretends to come through.
pub const DOMAIN: &str = "local.execute-api.us-east-1.amazonaws.com";

/// One request as API Gateway received it.
#[derive(Debug, Clone)]
pub struct HttpApiRequest<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The path, e.g. `/webhooks/redner`.
    pub path: &'a str,
    /// The headers exactly as the event carries them (API Gateway
    /// lower-cases names and joins a repeated header's values with commas).
    pub headers: &'a [(String, String)],
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// The raw body.
    pub body: &'a [u8],
    /// Send the body base64-encoded even when it is text (a body that is
    /// not UTF-8 always is, as API Gateway sends it).
    pub base64: bool,
    /// The caller's address, as the API saw it.
    pub source_ip: Option<&'a str>,
    /// API Gateway's request id.
    pub request_id: &'a str,
    /// When the request arrived.
    pub time: DateTime<Utc>,
}

impl HttpApiRequest<'_> {
    /// The event JSON.
    pub fn event(&self) -> Value {
        let base64 = self.base64 || std::str::from_utf8(self.body).is_err();
        let body = if base64 {
            STANDARD.encode(self.body)
        } else {
            String::from_utf8_lossy(self.body).into_owned()
        };
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let user_agent = self
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
            .map_or("hookgate", |(_, v)| v.as_str());
        let mut http = Map::new();
        http.insert("method".into(), json!(self.method));
        http.insert("path".into(), json!(self.path));
        http.insert("protocol".into(), json!("HTTP/1.1"));
        if let Some(ip) = self.source_ip {
            http.insert("sourceIp".into(), json!(ip));
        }
        http.insert("userAgent".into(), json!(user_agent));
        let route = format!("ANY {}", self.path);
        json!({
            "version": "2.0",
            "routeKey": route,
            "rawPath": self.path,
            "rawQueryString": self.query,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "local",
                "domainName": DOMAIN,
                "domainPrefix": "local",
                "http": http,
                "requestId": self.request_id,
                "routeKey": route,
                "stage": "$default",
                "time": self.time.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
                "timeEpoch": self.time.timestamp_millis()
            },
            "body": body,
            "isBase64Encoded": base64
        })
    }

    /// The event as lambda_http hands it to the handler.
    pub fn request(&self) -> serde_json::Result<lambda_http::Request> {
        lambda_http::request::from_str(&self.event().to_string())
    }
}
