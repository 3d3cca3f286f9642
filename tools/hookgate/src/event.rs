//! API Gateway HTTP API events (payload format 2.0): the JSON Lambda hands
//! a function for one request, for `sam local invoke -e`, `cargo lambda
//! invoke --data-file` and the test suite.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The API the sample events pretend to come through.
const DOMAIN: &str = "local.execute-api.us-east-1.amazonaws.com";

/// One request as API Gateway received it.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The path, e.g. `/webhooks/redner`.
    pub path: &'a str,
    /// Headers as sent (API Gateway lower-cases the names).
    pub headers: &'a [(String, String)],
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// The raw body.
    pub body: &'a [u8],
    /// The caller's address.
    pub source_ip: &'a str,
    /// API Gateway's request id.
    pub request_id: &'a str,
    /// When the request arrived.
    pub time: DateTime<Utc>,
}

/// The event JSON. A body that is not UTF-8 travels base64-encoded with
/// `isBase64Encoded`, as API Gateway sends it.
pub fn api_gateway_v2(req: &Request<'_>) -> Value {
    let mut headers = Map::new();
    // What API Gateway adds to every request, then the caller's own.
    let defaults = [
        ("host", DOMAIN.to_owned()),
        ("content-length", req.body.len().to_string()),
        ("user-agent", "hookgate-cli".to_owned()),
        ("x-forwarded-for", req.source_ip.to_owned()),
        ("x-forwarded-port", "443".to_owned()),
        ("x-forwarded-proto", "https".to_owned()),
    ];
    for (name, value) in defaults {
        headers.insert(name.to_owned(), Value::String(value));
    }
    for (name, value) in req.headers {
        let name = name.to_ascii_lowercase();
        // A repeated header arrives joined with commas.
        let joined = match headers.get(&name).and_then(Value::as_str) {
            Some(prev) if !is_default(&name) => format!("{prev},{value}"),
            _ => value.clone(),
        };
        headers.insert(name, Value::String(joined));
    }
    let (body, base64) = match std::str::from_utf8(req.body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (STANDARD.encode(req.body), true),
    };
    let route = format!("ANY {}", req.path);
    json!({
        "version": "2.0",
        "routeKey": route,
        "rawPath": req.path,
        "rawQueryString": req.query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": DOMAIN,
            "domainPrefix": "local",
            "http": {
                "method": req.method,
                "path": req.path,
                "protocol": "HTTP/1.1",
                "sourceIp": req.source_ip,
                "userAgent": "hookgate-cli"
            },
            "requestId": req.request_id,
            "routeKey": route,
            "stage": "$default",
            "time": req.time.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": req.time.timestamp_millis()
        },
        "body": body,
        "isBase64Encoded": base64
    })
}

fn is_default(name: &str) -> bool {
    matches!(
        name,
        "host"
            | "content-length"
            | "user-agent"
            | "x-forwarded-for"
            | "x-forwarded-port"
            | "x-forwarded-proto"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> Request<'a> {
        Request {
            method: "POST",
            path: "/webhooks/redner",
            headers,
            query: "token=a%2Bb",
            body,
            source_ip: "203.0.113.9",
            request_id: "req-1",
            time: DateTime::from_timestamp(1_763_901_296, 0).unwrap(),
        }
    }

    #[test]
    fn reads_back_as_the_request_it_describes() {
        let headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("X-Redner-Signature".to_owned(), "sha256=00".to_owned()),
        ];
        let body = br#"{"a":"caf\u00e9"}"#;
        let event = api_gateway_v2(&request(&headers, body));
        assert_eq!(
            event["requestContext"]["time"],
            "23/Nov/2025:12:34:56 +0000"
        );
        assert_eq!(event["requestContext"]["timeEpoch"], 1_763_901_296_000_i64);
        // lambda_http, which the functions use, reads it as this request.
        let req = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(req.method(), "POST");
        assert_eq!(req.uri().path(), "/webhooks/redner");
        assert_eq!(req.uri().query(), Some("token=a%2Bb"));
        assert_eq!(req.headers()["x-redner-signature"], "sha256=00");
        assert_eq!(req.headers()["content-length"], body.len().to_string());
        assert_eq!(req.body().as_ref(), body);
    }

    #[test]
    fn binary_bodies_travel_base64() {
        let body = [0xff, 0xfe, b'{'];
        let event = api_gateway_v2(&request(&[], &body));
        assert_eq!(event["isBase64Encoded"], true);
        let req = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(req.body().as_ref(), body);
    }
}
