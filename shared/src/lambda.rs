//! The Lambda glue: API Gateway HTTP API events (payload format 2.0) in,
//! responses out.
//!
//! lambda_http's own adapter turns events into `http::Request`s with
//! `expect`s: an event whose raw query string or path holds a character a
//! URI may not (a space or a `"`, which some clients send unencoded) makes
//! it panic, and the provider sees a 502. hookgate percent-encodes those
//! characters first (decoding gives the same values back), and keeps a
//! last-resort guard so an event that still cannot be converted is answered,
//! not crashed on.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
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
    // The conversion is lambda_http's and panics on input it cannot take;
    // a panic here is a refusal, not a crash of the function.
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        Request::from(LambdaRequest::ApiGatewayV2(event))
    }))
    .ok()
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
