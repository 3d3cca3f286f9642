//! The Lambda glue: API Gateway HTTP API events (payload format 2.0) in,
//! responses out.
//!
//! lambda_http's own adapter turns events into `http::Request`s with
//! `expect`s: an event whose raw query string or path holds a character a
//! URI may not (a space or a `"`, which some clients send unencoded) makes
//! it panic, and the provider sees a 502. hookgate percent-encodes those
//! characters first (decoding gives the same values back). It also builds
//! an absolute URI from the `Host` and `X-Forwarded-Proto` headers, which
//! the caller writes, and panics when they do not make one (`Host:
//! exa mple`, `Host: example.999`, `X-Forwarded-Proto: ht tp`): hookgate
//! drops such a header first, so the URI falls back to the API's own domain
//! name and `https`. A last-resort guard remains, so an event that still
//! cannot be converted is answered, not crashed on.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::http::header::HOST;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::error::Rejection;
use crate::gate::Gate;
use crate::providers::Provider;
use crate::sink::Sink;

/// Serves `gate` on the Lambda runtime until the runtime stops.
pub async fn serve<P: Provider, S: Sink + 'static>(
    gate: Gate<P, S>,
) -> Result<(), lambda_runtime::Error> {
    let gate = Arc::new(gate);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| {
            let gate = Arc::clone(&gate);
            async move { Ok::<_, Infallible>(invoke(&gate, event).await) }
        },
    ))
    .await
}

/// Handles one invocation; never fails.
pub async fn invoke<P: Provider, S: Sink>(
    gate: &Gate<P, S>,
    event: LambdaEvent<ApiGatewayV2httpRequest>,
) -> ApiGatewayV2httpResponse {
    let LambdaEvent { payload, context } = event;
    let response = match to_request(payload) {
        Some(req) => gate.handle(req.with_lambda_context(context)).await,
        None => {
            tracing::error!(
                provider = P::SLUG,
                "the invocation event could not be read as an HTTP request"
            );
            Rejection::Internal("unreadable invocation event".into()).to_response()
        }
    };
    to_api_gateway(response)
}

/// The event as an `http::Request`, or `None` if lambda_http cannot make one.
pub fn to_request(mut event: ApiGatewayV2httpRequest) -> Option<Request> {
    event.raw_query_string = event.raw_query_string.map(|q| encode_uri_part(&q));
    event.raw_path = event.raw_path.map(|p| encode_uri_part(&p));
    drop_unusable_authority(&mut event);
    // The conversion is lambda_http's and panics on input it cannot take;
    // a panic here is a refusal, not a crash of the function.
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        Request::from(LambdaRequest::ApiGatewayV2(event))
    }))
    .ok()
}

const X_FORWARDED_PROTO: &str = "x-forwarded-proto";

/// Removes a `Host` or `X-Forwarded-Proto` header lambda_http could not turn
/// into a URI, and an unusable `domainName`, which it falls back to.
///
/// hookgate reads neither (a function does not route on the URI), so
/// dropping them changes nothing but the URI lambda_http builds; a caller
/// who sends them cannot make the function fail (a 500, which the provider
/// would retry) instead of answering.
fn drop_unusable_authority(event: &mut ApiGatewayV2httpRequest) {
    let proto_ok = event.headers.get(X_FORWARDED_PROTO).is_none_or(|v| {
        v.to_str()
            .is_ok_and(|p| p.eq_ignore_ascii_case("https") || p.eq_ignore_ascii_case("http"))
    });
    if !proto_ok {
        event.headers.remove(X_FORWARDED_PROTO);
    }
    let scheme = event
        .headers
        .get(X_FORWARDED_PROTO)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("https")
        .to_owned();
    let path = event.raw_path.clone().unwrap_or_default();
    // lambda_http ignores a Host that is not visible ASCII; it uses any other.
    let host_used = match event.headers.get(HOST).map(|v| v.to_str()) {
        Some(Ok(host)) if makes_uri(&scheme, host, &path) => true,
        Some(Ok(_)) => {
            event.headers.remove(HOST);
            false
        }
        _ => false,
    };
    if !host_used
        && event
            .request_context
            .domain_name
            .as_deref()
            .is_some_and(|d| !makes_uri(&scheme, d, &path))
    {
        event.request_context.domain_name = None;
    }
}

/// Whether `host` is a URI authority (host and optional port, no user
/// info) from which lambda_http builds `<scheme>://<host><path>` without
/// panicking: the URL parser (which also checks IP literals and IDNA) takes
/// it, and so does `http::Uri`.
fn makes_uri(scheme: &str, host: &str, path: &str) -> bool {
    !host.contains('@')
        && host.parse::<http::uri::Authority>().is_ok()
        && url::Url::parse(&format!("{scheme}://{host}{path}"))
            .is_ok_and(|u| u.as_str().parse::<http::Uri>().is_ok())
}

/// Percent-encodes every byte that may not appear literally in a URI path or
/// query (RFC 3986), leaving everything else, `%` included, as it is.
fn encode_uri_part(s: &str) -> String {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b);
    if s.bytes().all(allowed) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for b in s.bytes() {
        if allowed(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The handler's response in API Gateway's payload 2.0 response format.
pub fn to_api_gateway(response: Response<Body>) -> ApiGatewayV2httpResponse {
    let (parts, body) = response.into_parts();
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    out.headers = parts.headers;
    match body {
        Body::Empty => {}
        Body::Text(text) => out.body = Some(Body::Text(text)),
        Body::Binary(bytes) => {
            use base64::Engine as _;
            out.body = Some(Body::Text(
                base64::engine::general_purpose::STANDARD.encode(bytes),
            ));
            out.is_base64_encoded = true;
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_query_strings_and_paths_still_make_requests() {
        for (query, path) in [
            ("token=a b", "/webhooks/x"),
            ("token=\"quoted\"&x=<y>", "/webhooks/x y"),
            ("token=%zz|{}^`\\", "/webhooks/\"x\""),
            ("token=é", "/webhooks/é"),
        ] {
            let mut event = ApiGatewayV2httpRequest::default();
            event.raw_query_string = Some(query.into());
            event.raw_path = Some(path.into());
            event.request_context.http.method = http::Method::POST;
            let req = to_request(event).unwrap_or_else(|| panic!("{query} {path}"));
            let got: String = form_urlencoded_values(req.uri().query().unwrap_or(""));
            let want: String = form_urlencoded_values(&encode_uri_part(query));
            assert_eq!(got, want);
        }
    }

    fn form_urlencoded_values(q: &str) -> String {
        form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| format!("{k}={v};"))
            .collect()
    }

    fn event_with(
        headers: &[(&'static str, &str)],
        domain: Option<&str>,
    ) -> ApiGatewayV2httpRequest {
        let mut event = ApiGatewayV2httpRequest::default();
        event.raw_path = Some("/webhooks/x".into());
        event.raw_query_string = Some("token=abc".into());
        event.request_context.http.method = http::Method::POST;
        event.request_context.domain_name = domain.map(str::to_owned);
        for (name, value) in headers {
            event
                .headers
                .append(*name, http::HeaderValue::from_str(value).unwrap());
        }
        event
    }

    #[test]
    fn a_caller_host_that_makes_no_uri_falls_back_to_the_domain_name() {
        let domain = "api.execute-api.us-east-1.amazonaws.com";
        for host in [
            "exa mple.com",
            "example.999",
            "1.2.3.256",
            "a{b}.com",
            "user@example.com",
            "example.com/path",
            "example.com:99999",
            "[::1",
            "xn--a.com",
            "",
        ] {
            let req = to_request(event_with(&[("host", host)], Some(domain)))
                .unwrap_or_else(|| panic!("Host {host:?} made no request"));
            assert_eq!(req.uri().host(), Some(domain), "{host:?}");
            assert_eq!(req.uri().query(), Some("token=abc"), "{host:?}");
            assert!(req.headers().get("host").is_none(), "{host:?}");
            // Without a domain name, the URI is the path alone.
            let req = to_request(event_with(&[("host", host)], None)).unwrap();
            assert_eq!(req.uri().path(), "/webhooks/x", "{host:?}");
        }
    }

    #[test]
    fn a_caller_scheme_that_makes_no_uri_is_dropped() {
        for proto in ["ht tp", "javascript:", "ftp", "https, http", "h{}"] {
            let event = event_with(
                &[("host", "example.com"), ("x-forwarded-proto", proto)],
                None,
            );
            let req = to_request(event).unwrap_or_else(|| panic!("{proto:?} made no request"));
            assert_eq!(req.uri().scheme_str(), Some("https"), "{proto:?}");
            assert_eq!(req.uri().host(), Some("example.com"), "{proto:?}");
            assert!(req.headers().get("x-forwarded-proto").is_none());
        }
    }

    #[test]
    fn usable_hosts_and_schemes_are_kept() {
        for (host, proto) in [
            ("example.com", "https"),
            ("example.com:8443", "HTTP"),
            ("127.0.0.1:9000", "http"),
            ("[2001:db8::1]", "https"),
        ] {
            let event = event_with(&[("host", host), ("x-forwarded-proto", proto)], None);
            let req = to_request(event).unwrap();
            assert_eq!(req.headers()["host"], host);
            assert_eq!(req.headers()["x-forwarded-proto"], proto);
            assert_eq!(
                req.uri().scheme_str(),
                Some(proto.to_ascii_lowercase().as_str())
            );
        }
    }

    #[test]
    fn encoding_keeps_what_a_uri_allows() {
        assert_eq!(encode_uri_part("token=abc%20d&e=f"), "token=abc%20d&e=f");
        assert_eq!(encode_uri_part("a b\"c"), "a%20b%22c");
        // Decoding gives the original value back.
        let decoded: Vec<(String, String)> =
            form_urlencoded::parse(encode_uri_part("token=a\"b c").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        assert_eq!(decoded, [("token".to_owned(), "a\"b c".to_owned())]);
    }

    #[test]
    fn responses_keep_status_headers_and_body() {
        let resp = Rejection::MethodNotAllowed.to_response();
        let out = to_api_gateway(resp);
        assert_eq!(out.status_code, 405);
        assert_eq!(out.headers["allow"], "POST");
        assert!(matches!(out.body, Some(Body::Text(ref t)) if t.contains("method_not_allowed")));
        assert!(!out.is_base64_encoded);
    }
}
