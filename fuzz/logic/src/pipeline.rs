//! The whole pipeline, from a request no one could have signed: every
//! provider's gate holds credentials no input carries.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hookgate::lambda::to_request;
use lambda_http::aws_lambda_events::alb::AlbTargetGroupRequest;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayProxyRequest, ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
};
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{Body, Request, RequestExt};

use crate::input::{Http, uri_safe};
use crate::keys::{self, Gate, block_on};

/// Source addresses the flags pick from (flag bits 4-5): none, an IPv4, an
/// IPv4-mapped IPv6, an IPv6 address.
fn source_ip(r: &Http<'_>) -> Option<&'static str> {
    [
        None,
        Some("203.0.113.9"),
        Some("::ffff:203.0.113.9"),
        Some("2001:db8::1"),
    ][usize::from((r.flags >> 4) & 3)]
}

/// A `lambda_http::Request` built directly from the fuzzer's request, sent
/// to every provider's gate.
///
/// Input: flags, then a request (see [`crate::input`]). The method is used
/// as written when it is a valid token (else POST); a target `http::Uri`
/// refuses is percent-encoded. Flag 0: the body is text when it is UTF-8
/// (else binary); flag 1: an empty body is `Body::Empty`; flag 2: an API
/// Gateway request context is attached (with the source address of flags
/// 4-5).
///
/// Properties: no panic; never a 2xx; every answer is JSON with an `error`
/// code and a message; the only refusals are those that come before or at
/// authentication (405, 413, 401); nothing is enqueued.
pub fn pipeline(data: &[u8]) {
    let Some(r) = Http::parse(data) else { return };
    let method = http::Method::from_bytes(r.method).unwrap_or(http::Method::POST);
    let uri = http::Uri::try_from(r.target)
        .or_else(|_| http::Uri::try_from(uri_safe(r.target)))
        .unwrap_or_else(|_| http::Uri::from_static("/"));
    let body = if r.body.is_empty() && r.flag(1) {
        Body::Empty
    } else if r.flag(0)
        && let Ok(text) = std::str::from_utf8(r.body)
    {
        Body::Text(text.to_owned())
    } else {
        Body::Binary(r.body.to_vec())
    };
    let make = || {
        let mut req = Request::new(body.clone());
        *req.method_mut() = method.clone();
        *req.uri_mut() = uri.clone();
        *req.headers_mut() = r.headers.clone();
        if r.flag(2) {
            let mut ctx = ApiGatewayV2httpRequestContext::default();
            ctx.request_id = Some("fuzz".into());
            ctx.http.method = method.clone();
            ctx.http.source_ip = source_ip(&r).map(str::to_owned);
            req = req.with_request_context(RequestContext::ApiGatewayV2(ctx));
        }
        req
    };
    for gate in keys::unknown() {
        refused(gate, make());
    }
}

/// An API Gateway (payload 2.0) event built from the fuzzer's request,
/// converted by `hookgate::lambda::to_request` as the Lambda entry point
/// does, then sent to every provider's gate.
///
/// Input: flags, then a request. The target's path (a `/` is added in
/// front if missing, as API Gateway always sends one) and query become
/// `rawPath` and `rawQueryString` as written; headers, `Host` and
/// `X-Forwarded-Proto` included, are the event's headers. Flag 0: the body
/// is sent base64-encoded (`isBase64Encoded`), else as text (UTF-8
/// replacement where it is not); flag 1: the request context carries a
/// `domainName`; flag 2: the stage is `$default` rather than absent; flags
/// 4-5: the source address. Flag 3 sends the same request as a REST API
/// (payload 1.0) event instead, flag 6 (without 3) as an ALB event, with
/// the query's values decoded for REST and as sent for ALB, as those
/// fronts do.
///
/// Properties: everything `pipeline` checks, and no 500: every event a
/// front could send for a caller's request converts to a request.
pub fn lambda_event(data: &[u8]) {
    let Some(r) = Http::parse(data) else { return };
    let target = String::from_utf8_lossy(r.target);
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target.as_ref(), None),
    };
    let mut event = ApiGatewayV2httpRequest::default();
    event.raw_path = Some(if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    });
    event.raw_query_string = query.map(str::to_owned);
    event.headers = r.headers.clone();
    event.request_context.http.method =
        http::Method::from_bytes(r.method).unwrap_or(http::Method::POST);
    event.request_context.http.source_ip = source_ip(&r).map(str::to_owned);
    event.request_context.request_id = Some("fuzz".into());
    if r.flag(1) {
        event.request_context.domain_name =
            Some("example.execute-api.us-east-1.amazonaws.com".into());
    }
    if r.flag(2) {
        event.request_context.stage = Some("$default".into());
    }
    if r.flag(0) {
        event.body = Some(STANDARD.encode(r.body));
        event.is_base64_encoded = true;
    } else if !r.body.is_empty() {
        event.body = Some(String::from_utf8_lossy(r.body).into_owned());
    }
    let gates = keys::unknown();
    let make = || {
        let front = if r.flag(3) {
            LambdaRequest::ApiGatewayV1(rest_event(&event, query))
        } else if r.flag(6) {
            LambdaRequest::Alb(alb_event(&event, query))
        } else {
            LambdaRequest::ApiGatewayV2(event.clone())
        };
        to_request(front).unwrap_or_else(|| {
            panic!(
                "an event of a front became no request (a 500): {event:?}, REST {}, ALB {}",
                r.flag(3),
                r.flag(6)
            )
        })
    };
    for gate in gates {
        refused(gate, make());
    }
}

/// The query string's parameters, values decoded (`decode`) or as sent.
fn query_map(query: Option<&str>, decode: bool) -> QueryMap {
    let mut map: std::collections::HashMap<String, Vec<String>> = Default::default();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = if decode {
            form_urlencoded::parse(pair.as_bytes())
                .next()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .unwrap_or_default()
        } else {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.to_owned(), v.to_owned())
        };
        map.entry(k).or_default().push(v);
    }
    QueryMap::from(map)
}

/// The HTTP API event's request as a REST API sends it.
fn rest_event(v2: &ApiGatewayV2httpRequest, query: Option<&str>) -> ApiGatewayProxyRequest {
    let mut e = ApiGatewayProxyRequest::default();
    e.http_method = v2.request_context.http.method.clone();
    e.path = v2.raw_path.clone();
    e.headers = v2.headers.clone();
    e.multi_value_query_string_parameters = query_map(query, true);
    e.request_context.http_method = e.http_method.clone();
    e.request_context.request_id = v2.request_context.request_id.clone();
    e.request_context.domain_name = v2.request_context.domain_name.clone();
    e.request_context.stage = v2.request_context.stage.clone();
    e.request_context.identity.source_ip = v2.request_context.http.source_ip.clone();
    e.body = v2.body.clone();
    e.is_base64_encoded = v2.is_base64_encoded;
    e
}

/// The HTTP API event's request as an ALB sends it.
fn alb_event(v2: &ApiGatewayV2httpRequest, query: Option<&str>) -> AlbTargetGroupRequest {
    let mut e = AlbTargetGroupRequest::default();
    e.http_method = v2.request_context.http.method.clone();
    e.path = v2.raw_path.clone();
    e.headers = v2.headers.clone();
    e.query_string_parameters = query_map(query, false);
    e.request_context.elb.target_group_arn =
        Some("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1".into());
    e.body = v2.body.clone();
    e.is_base64_encoded = v2.is_base64_encoded;
    e
}

fn refused(gate: &Gate, req: Request) {
    let slug = gate.provider.slug;
    let resp = block_on(gate.gate.handle(req));
    let status = resp.status();
    let answer: serde_json::Value =
        serde_json::from_slice(resp.body().as_ref()).expect("every answer is JSON");
    assert!(
        !status.is_success(),
        "{slug}: an unauthenticated request answered {status}"
    );
    let code = answer["error"].as_str().expect("an error code");
    let want = match status.as_u16() {
        401 => "unauthorized",
        405 => "method_not_allowed",
        413 => "payload_too_large",
        other => panic!("{slug}: an unauthenticated request answered {other}: {answer}"),
    };
    assert_eq!(code, want);
    assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        gate.sink.take().is_empty(),
        "{slug}: an unauthenticated request enqueued"
    );
}
