//! API Gateway HTTP API events (payload format 2.0) for a signed delivery:
//! the JSON Lambda hands a function for one request, for `sam local invoke
//! -e` and `cargo lambda invoke --data-file`. The event itself is the
//! library's (`hookgate::apigw`, which the tests send too); this adds the
//! headers API Gateway puts on every request.

use hookgate::apigw::{DOMAIN, HttpApiRequest};
use serde_json::Value;

/// The event JSON for `req` (headers as the caller sent them), with the
/// headers API Gateway adds. A body that is not UTF-8 travels
/// base64-encoded with `isBase64Encoded`, as API Gateway sends it.
pub fn api_gateway_v2(req: &HttpApiRequest<'_>) -> Value {
    let source_ip = req.source_ip.unwrap_or_default();
    // What API Gateway adds to every request, then the caller's own.
    let mut headers: Vec<(String, String)> = [
        ("host", DOMAIN.to_owned()),
        ("content-length", req.body.len().to_string()),
        ("user-agent", "hookgate-cli".to_owned()),
        ("x-forwarded-for", source_ip.to_owned()),
        ("x-forwarded-port", "443".to_owned()),
        ("x-forwarded-proto", "https".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (name, value) in req.headers {
        let name = name.to_ascii_lowercase();
        match headers.iter_mut().find(|(n, _)| *n == name) {
            // A repeated header arrives joined with commas; the caller's
            // own value replaces what API Gateway would have set.
            Some((_, prev)) if !is_default(&name) => *prev = format!("{prev},{value}"),
            Some((_, prev)) => *prev = value.clone(),
            None => headers.push((name, value.clone())),
        }
    }
    HttpApiRequest {
        headers: &headers,
        ..req.clone()
    }
    .event()
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
    use chrono::DateTime;

    use super::*;

    fn request<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> HttpApiRequest<'a> {
        HttpApiRequest {
            method: "POST",
            path: "/webhooks/redner",
            headers,
            query: "token=a%2Bb",
            body,
            base64: false,
            source_ip: Some("203.0.113.9"),
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
