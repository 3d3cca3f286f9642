//! The Lambda glue: the event of any AWS HTTP front in, the response shape
//! that front expects out.
//!
//! One handler serves every front (DESIGN, "Every AWS HTTP front"): API
//! Gateway HTTP API (payload 2.0, and 1.0), REST API, Application Load
//! Balancer (single- and multi-value headers) and Lambda function URLs
//! (whose events are payload 2.0). lambda_http's `LambdaRequest` tells them
//! apart; the answer takes the shape of the front that asked, as
//! lambda_http's own adapter would give it.
//!
//! lambda_http's conversion of an event into an `http::Request` uses
//! `expect`s: an event whose raw query string or path holds a character a
//! URI may not (a space or a `"`, which some clients send unencoded) makes
//! it panic, and the provider sees a 502. hookgate percent-encodes those
//! characters first (decoding gives the same values back). It also builds
//! an absolute URI from the `Host` and `X-Forwarded-Proto` headers, which
//! the caller writes, and panics when they do not make one (`Host:
//! exa mple`, `Host: example.999`, `X-Forwarded-Proto: ht tp`): hookgate
//! drops such a header first, so the URI falls back to the front's own
//! domain name (or the path alone) and `https`. A last-resort guard
//! remains, so an event that still cannot be converted is answered, not
//! crashed on.

use std::convert::Infallible;
use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use http::HeaderMap;
use lambda_http::aws_lambda_events::alb::AlbTargetGroupResponse;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use lambda_http::http::header::HOST;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::value::RawValue;

use crate::error::Rejection;
use crate::gate::Gate;
use crate::providers::Provider;
use crate::sink::Sink;

/// Serves `gate` on the Lambda runtime until the runtime stops.
pub async fn serve<P: Provider, S: Sink + 'static>(
    gate: Gate<P, S>,
) -> Result<(), lambda_runtime::Error> {
    let gate = Arc::new(gate);
    // The event is taken as raw JSON and read here, not by the runtime: an
    // event no front could have sent is then answered (500), never an
    // invocation error.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let gate = Arc::clone(&gate);
        async move { Ok::<_, Infallible>(invoke(&gate, event).await) }
    }))
    .await
}

/// The front an event came from; it decides the shape of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// API Gateway HTTP API with payload 2.0, and Lambda function URLs
    /// (which send the same event).
    HttpApi,
    /// API Gateway REST API, and HTTP API with payload 1.0 (the same event
    /// shape).
    Proxy,
    /// Application Load Balancer, with or without multi-value headers.
    Alb,
}

impl Front {
    /// The front of `event` (`None` for one hookgate does not serve, such as
    /// a WebSocket or VPC Lattice event).
    pub fn of(event: &LambdaRequest) -> Option<Self> {
        match event {
            LambdaRequest::ApiGatewayV2(_) => Some(Self::HttpApi),
            LambdaRequest::ApiGatewayV1(_) => Some(Self::Proxy),
            LambdaRequest::Alb(_) => Some(Self::Alb),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

/// An answer in the shape its front expects.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum FrontResponse {
    /// HTTP API payload 2.0 and function URLs: repeated headers joined with
    /// commas in `headers`.
    HttpApi(ApiGatewayV2httpResponse),
    /// REST API and HTTP API payload 1.0: every header in
    /// `multiValueHeaders` (the front merges both fields, so `headers` stays
    /// empty lest a header be sent twice).
    Proxy(ApiGatewayProxyResponse),
    /// ALB: both `headers` and `multiValueHeaders` filled, so the answer
    /// suits a target group with multi-value headers on or off, and a
    /// `statusDescription`, which ALB requires.
    Alb(AlbTargetGroupResponse),
}

impl FrontResponse {
    /// The HTTP status.
    pub fn status(&self) -> i64 {
        match self {
            Self::HttpApi(r) => r.status_code,
            Self::Proxy(r) => r.status_code,
            Self::Alb(r) => r.status_code,
        }
    }
}

/// Handles one invocation; never fails.
pub async fn invoke<P: Provider, S: Sink>(
    gate: &Gate<P, S>,
    event: LambdaEvent<Box<RawValue>>,
) -> FrontResponse {
    let LambdaEvent { payload, context } = event;
    let event = serde_json::from_str::<LambdaRequest>(payload.get()).ok();
    let front = event.as_ref().and_then(Front::of);
    let request = match (event, front) {
        (Some(event), Some(_)) => to_request(event),
        _ => None,
    };
    let response = match request {
        Some(req) => gate.handle(req.with_lambda_context(context)).await,
        None => {
            tracing::error!(
                provider = P::SLUG,
                "the invocation event could not be read as an HTTP request"
            );
            Rejection::Internal("unreadable invocation event".into()).to_response()
        }
    };
    // An event of no known front gets the HTTP API shape: its `statusCode`,
    // `headers` and `body` are what every front reads.
    to_front(front.unwrap_or(Front::HttpApi), response)
}

/// The event as an `http::Request`, or `None` if lambda_http cannot make one.
pub fn to_request(mut event: LambdaRequest) -> Option<Request> {
    match &mut event {
        LambdaRequest::ApiGatewayV2(e) => {
            e.raw_query_string = e.raw_query_string.take().map(|q| encode_uri_part(&q));
            e.raw_path = e.raw_path.take().map(|p| encode_uri_part(&p));
            let path = e.raw_path.clone().unwrap_or_default();
            drop_unusable_authority(
                &mut e.headers,
                Some(&mut e.request_context.domain_name),
                &path,
            );
        }
        // The path is parsed as a URL, which encodes what a URI may not
        // hold, and the query is rebuilt from decoded parameters: only the
        // authority can still fail.
        LambdaRequest::ApiGatewayV1(e) => {
            let path = e.path.clone().unwrap_or_default();
            drop_unusable_authority(
                &mut e.headers,
                Some(&mut e.request_context.domain_name),
                &path,
            );
        }
        LambdaRequest::Alb(e) => {
            let path = e.path.clone().unwrap_or_default();
            drop_unusable_authority(&mut e.headers, None, &path);
        }
        #[allow(unreachable_patterns)]
        _ => {}
    }
    // The conversion is lambda_http's and panics on input it cannot take;
    // a panic here is a refusal, not a crash of the function.
    std::panic::catch_unwind(AssertUnwindSafe(|| Request::from(event))).ok()
}

/// The request id and source address the front recorded for `req`, from
/// the front's own request context.
///
/// The source address is the peer of the front's connection. Never one
/// from a header such as `X-Forwarded-For`, which the caller writes: a
/// source-IP allow-list (Namirial's) would otherwise admit anyone who
/// claims an allowed address.
///
/// An Application Load Balancer's request context holds no source address:
/// ALB puts the client's address only in `X-Forwarded-For`, where, in the
/// default `append` mode, it follows whatever the client wrote there, in
/// `preserve` mode it is missing, and in `remove` mode there is no header at
/// all. The function cannot see which mode the target group uses, so behind
/// an ALB the source address is unknown (`None`), and an allow-list refuses
/// every request: behind an ALB, filter sources with the load balancer's
/// security group or AWS WAF instead, and leave the allow-list empty. ALB
/// gives no request id either; the Lambda invocation's id stands in, which
/// is also the one in the function's log lines.
pub(crate) fn request_facts(req: &Request) -> (Option<String>, Option<IpAddr>) {
    let (request_id, source_ip) = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => {
            (c.request_id.clone(), c.http.source_ip.as_deref())
        }
        Some(RequestContext::ApiGatewayV1(c)) => {
            (c.request_id.clone(), c.identity.source_ip.as_deref())
        }
        Some(RequestContext::Alb(_)) => (
            req.lambda_context_ref()
                .map(|c| c.request_id.clone())
                .filter(|id| !id.is_empty()),
            None,
        ),
        _ => (None, None),
    };
    (request_id, source_ip.and_then(|ip| ip.trim().parse().ok()))
}

const X_FORWARDED_PROTO: &str = "x-forwarded-proto";

/// Removes a `Host` or `X-Forwarded-Proto` header lambda_http could not turn
/// into a URI, and an unusable domain name (from the request context, when
/// the front has one), which it falls back to.
///
/// hookgate reads neither (a function does not route on the URI), so
/// dropping them changes nothing but the URI lambda_http builds; a caller
/// who sends them cannot make the function fail (a 500, which the provider
/// would retry) instead of answering.
fn drop_unusable_authority(
    headers: &mut HeaderMap,
    domain_name: Option<&mut Option<String>>,
    path: &str,
) {
    let proto_ok = headers.get(X_FORWARDED_PROTO).is_none_or(|v| {
        v.to_str()
            .is_ok_and(|p| p.eq_ignore_ascii_case("https") || p.eq_ignore_ascii_case("http"))
    });
    if !proto_ok {
        headers.remove(X_FORWARDED_PROTO);
    }
    let scheme = headers
        .get(X_FORWARDED_PROTO)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("https")
        .to_owned();
    // lambda_http ignores a Host that is not visible ASCII; it uses any other.
    let host_used = match headers.get(HOST).map(|v| v.to_str()) {
        Some(Ok(host)) if makes_uri(&scheme, host, path) => true,
        Some(Ok(_)) => {
            headers.remove(HOST);
            false
        }
        _ => false,
    };
    if let Some(domain) = domain_name
        && !host_used
        && domain
            .as_deref()
            .is_some_and(|d| !makes_uri(&scheme, d, path))
    {
        *domain = None;
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

/// What may stand literally in a URI path or query (RFC 3986: unreserved,
/// sub-delims, `:`, `@`, `/`, `?`), and `%`, left as it is.
const URI_PART: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@')
    .remove(b'/')
    .remove(b'?')
    .remove(b'%');

/// Percent-encodes every byte that may not appear literally in a URI path or
/// query, leaving everything else, `%` included, as it is.
fn encode_uri_part(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, URI_PART).to_string()
}

/// The handler's response in the shape `front` expects.
pub fn to_front(front: Front, response: Response<Body>) -> FrontResponse {
    let (parts, body) = response.into_parts();
    let status_code = i64::from(parts.status.as_u16());
    let (body, is_base64_encoded) = match body {
        Body::Empty => (None, false),
        Body::Text(text) => (Some(Body::Text(text)), false),
        Body::Binary(bytes) => {
            use base64::Engine as _;
            let text = base64::engine::general_purpose::STANDARD.encode(bytes);
            (Some(Body::Text(text)), true)
        }
        _ => (None, false),
    };
    match front {
        Front::HttpApi => {
            let mut out = ApiGatewayV2httpResponse::default();
            out.status_code = status_code;
            out.headers = parts.headers;
            out.body = body;
            out.is_base64_encoded = is_base64_encoded;
            FrontResponse::HttpApi(out)
        }
        Front::Proxy => {
            let mut out = ApiGatewayProxyResponse::default();
            out.status_code = status_code;
            out.multi_value_headers = parts.headers;
            out.body = body;
            out.is_base64_encoded = is_base64_encoded;
            FrontResponse::Proxy(out)
        }
        Front::Alb => {
            let mut out = AlbTargetGroupResponse::default();
            out.status_code = status_code;
            out.status_description = Some(format!(
                "{} {}",
                parts.status.as_u16(),
                parts.status.canonical_reason().unwrap_or_default()
            ));
            out.headers = parts.headers.clone();
            out.multi_value_headers = parts.headers;
            out.body = body;
            out.is_base64_encoded = is_base64_encoded;
            FrontResponse::Alb(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;

    use super::*;

    fn v2(event: ApiGatewayV2httpRequest) -> LambdaRequest {
        LambdaRequest::ApiGatewayV2(event)
    }

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
            let req = to_request(v2(event)).unwrap_or_else(|| panic!("{query} {path}"));
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
            let req = to_request(v2(event_with(&[("host", host)], Some(domain))))
                .unwrap_or_else(|| panic!("Host {host:?} made no request"));
            assert_eq!(req.uri().host(), Some(domain), "{host:?}");
            assert_eq!(req.uri().query(), Some("token=abc"), "{host:?}");
            assert!(req.headers().get("host").is_none(), "{host:?}");
            // Without a domain name, the URI is the path alone.
            let req = to_request(v2(event_with(&[("host", host)], None))).unwrap();
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
            let req = to_request(v2(event)).unwrap_or_else(|| panic!("{proto:?} made no request"));
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
            let req = to_request(v2(event)).unwrap();
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
        let FrontResponse::HttpApi(out) = to_front(Front::HttpApi, resp) else {
            panic!("not an HTTP API answer");
        };
        assert_eq!(out.status_code, 405);
        assert_eq!(out.headers["allow"], "POST");
        assert!(matches!(out.body, Some(Body::Text(ref t)) if t.contains("method_not_allowed")));
        assert!(!out.is_base64_encoded);
    }

    /// The committed copies of each front's sample events (see
    /// tests/fixtures/fronts/README.md for where each comes from).
    const FRONTS: [(&str, &str, Front); 6] = [
        (
            "http-api-v2",
            include_str!("../../tests/fixtures/fronts/http-api-v2.json"),
            Front::HttpApi,
        ),
        (
            "http-api-v1",
            include_str!("../../tests/fixtures/fronts/http-api-v1.json"),
            Front::Proxy,
        ),
        (
            "rest-api",
            include_str!("../../tests/fixtures/fronts/rest-api.json"),
            Front::Proxy,
        ),
        (
            "alb-single-value",
            include_str!("../../tests/fixtures/fronts/alb-single-value.json"),
            Front::Alb,
        ),
        (
            "alb-multi-value",
            include_str!("../../tests/fixtures/fronts/alb-multi-value.json"),
            Front::Alb,
        ),
        (
            "function-url",
            include_str!("../../tests/fixtures/fronts/function-url.json"),
            Front::HttpApi,
        ),
    ];

    #[test]
    fn every_front_is_recognized_and_converted() {
        for (name, json, front) in FRONTS {
            let event: LambdaRequest =
                serde_json::from_str(json).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(Front::of(&event), Some(front), "{name}");
            assert!(to_request(event).is_some(), "{name}");
        }
    }

    #[test]
    fn request_id_and_source_come_from_each_fronts_context() {
        let want = [
            ("http-api-v2", Some("LV7fzho-PHcEJPw="), Some("1.2.3.4")),
            ("http-api-v1", Some("id="), Some("192.0.2.1")),
            (
                "rest-api",
                Some("deef4878-7910-11e6-8f14-25afc3e9ae33"),
                Some("192.168.196.186"),
            ),
            // ALB: no source address (X-Forwarded-For is the caller's to
            // write), and the invocation's request id.
            ("alb-single-value", Some("invocation-1"), None),
            ("alb-multi-value", Some("invocation-1"), None),
            (
                "function-url",
                Some("MIZRNhJtIAMEMDw="),
                Some("65.78.31.245"),
            ),
        ];
        for ((name, json, _), (name2, id, ip)) in FRONTS.into_iter().zip(want) {
            assert_eq!(name, name2);
            let event: LambdaRequest = serde_json::from_str(json).unwrap();
            let mut ctx = lambda_runtime::Context::default();
            ctx.request_id = "invocation-1".into();
            let req = to_request(event).unwrap().with_lambda_context(ctx);
            // Every fixture that has X-Forwarded-For carries an address that
            // is not the context's, or none at all.
            let (got_id, got_ip) = request_facts(&req);
            assert_eq!(got_id.as_deref(), id, "{name}");
            assert_eq!(got_ip, ip.map(|i| i.parse::<IpAddr>().unwrap()), "{name}");
        }
    }

    #[test]
    fn a_forwarded_for_header_never_becomes_the_source() {
        for (name, json, _) in FRONTS {
            let read = || serde_json::from_str::<LambdaRequest>(json).unwrap();
            let before = request_facts(&to_request(read()).unwrap()).1;
            let mut req = to_request(read()).unwrap();
            req.headers_mut().insert(
                "x-forwarded-for",
                http::HeaderValue::from_static("10.9.8.7"),
            );
            req.headers_mut()
                .insert("x-real-ip", http::HeaderValue::from_static("10.9.8.7"));
            assert_eq!(request_facts(&req).1, before, "{name}");
        }
    }

    #[test]
    fn each_front_gets_its_own_response_shape() {
        let ok = || {
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .header("x-twice", "a")
                .header("x-twice", "b")
                .body(Body::Text(r#"{"id":"x"}"#.into()))
                .unwrap()
        };
        let v2 = serde_json::to_value(to_front(Front::HttpApi, ok())).unwrap();
        assert_eq!(v2["statusCode"], 200);
        assert_eq!(v2["headers"]["content-type"], "application/json");
        assert!(v2.get("statusDescription").is_none());

        let v1 = serde_json::to_value(to_front(Front::Proxy, ok())).unwrap();
        assert_eq!(v1["statusCode"], 200);
        // REST merges both fields: everything in one, nothing sent twice.
        assert_eq!(v1["headers"], serde_json::json!({}));
        assert_eq!(
            v1["multiValueHeaders"]["content-type"],
            serde_json::json!(["application/json"])
        );
        assert_eq!(
            v1["multiValueHeaders"]["x-twice"],
            serde_json::json!(["a", "b"])
        );
        assert!(v1.get("cookies").is_none());

        let alb = serde_json::to_value(to_front(Front::Alb, ok())).unwrap();
        assert_eq!(alb["statusCode"], 200);
        assert_eq!(alb["statusDescription"], "200 OK");
        assert_eq!(alb["headers"]["content-type"], "application/json");
        assert_eq!(
            alb["multiValueHeaders"]["content-type"],
            serde_json::json!(["application/json"])
        );
        assert_eq!(
            alb["multiValueHeaders"]["x-twice"],
            serde_json::json!(["a", "b"])
        );
        assert_eq!(alb["body"], r#"{"id":"x"}"#);
        assert_eq!(alb["isBase64Encoded"], false);
    }

    /// A REST API (payload 1.0) or ALB event with what a caller controls
    /// set to `path`, `host`, `proto` and a `token` query value.
    fn v1_and_alb(path: &str, host: &str, proto: &str, token: &str) -> [LambdaRequest; 2] {
        let headers = serde_json::json!({"host": host, "x-forwarded-proto": proto});
        let rest = serde_json::json!({
            "httpMethod": "POST",
            "path": path,
            "headers": headers,
            "queryStringParameters": {"token": token},
            "requestContext": {
                "httpMethod": "POST",
                "stage": "prod",
                "requestId": "r",
                "domainName": "api.execute-api.us-east-1.amazonaws.com",
                "identity": {"sourceIp": "203.0.113.9"}
            },
            "body": "{}"
        });
        // ALB passes query values as the client encoded them.
        let alb = serde_json::json!({
            "httpMethod": "POST",
            "path": path,
            "headers": headers,
            "queryStringParameters": {"token": form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()},
            "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1"}},
            "body": "{}"
        });
        [
            serde_json::from_value(rest).unwrap(),
            serde_json::from_value(alb).unwrap(),
        ]
    }

    #[test]
    fn odd_rest_and_alb_events_still_make_requests() {
        for (path, host, proto) in [
            ("/webhooks/x", "exa mple.com", "https"),
            ("/webhooks/x y", "example.999", "ht tp"),
            ("/webhooks/\"x\"", "user@example.com", "javascript:"),
            ("/webhooks/é", "[::1", "https, http"),
            ("/webhooks/x", "example.com:99999", "ftp"),
        ] {
            for event in v1_and_alb(path, host, proto, "a b\"c&d=é") {
                let front = Front::of(&event);
                let req = to_request(event)
                    .unwrap_or_else(|| panic!("{front:?} {path:?} {host:?} {proto:?}"));
                // The token survives as sent, whatever else was dropped.
                let token: Vec<String> =
                    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
                        .filter(|(k, _)| k == "token")
                        .map(|(_, v)| v.into_owned())
                        .collect();
                assert_eq!(token, ["a b\"c&d=é"], "{front:?} {path:?}");
            }
        }
    }

    #[test]
    fn an_event_of_no_front_is_not_read() {
        for json in ["{}", r#"{"Records":[]}"#] {
            let front = serde_json::from_str::<LambdaRequest>(json)
                .ok()
                .as_ref()
                .and_then(Front::of);
            assert_eq!(front, None, "{json}");
        }
    }
}
