//! The events of every AWS HTTP front, made from real samples: a front's
//! sample event keeps its request context (request id, source address,
//! stage, domain) and takes the method, headers, query and body of a
//! delivery built as an HTTP API event ([`crate::apigw::Event`]).
//!
//! The samples are committed copies under `tests/fixtures/fronts/`; its
//! README says where each one comes from.

use serde_json::{Map, Value, json};

/// One AWS front and the shape of its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// API Gateway HTTP API, payload format 2.0.
    HttpApiV2,
    /// API Gateway HTTP API, payload format 1.0.
    HttpApiV1,
    /// API Gateway REST API, Lambda proxy integration.
    RestApi,
    /// Application Load Balancer, multi-value headers off.
    AlbSingle,
    /// Application Load Balancer, multi-value headers on.
    AlbMulti,
    /// Lambda function URL.
    FunctionUrl,
}

/// What the answer of a front looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `headers` only (repeated headers comma-joined).
    HttpApi,
    /// Every header in `multiValueHeaders`, `headers` empty.
    Proxy,
    /// Both, and a `statusDescription`.
    Alb,
}

impl Front {
    /// Every front, in a fixed order.
    pub const ALL: [Self; 6] = [
        Self::HttpApiV2,
        Self::HttpApiV1,
        Self::RestApi,
        Self::AlbSingle,
        Self::AlbMulti,
        Self::FunctionUrl,
    ];

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::HttpApiV2 => "HTTP API 2.0",
            Self::HttpApiV1 => "HTTP API 1.0",
            Self::RestApi => "REST API",
            Self::AlbSingle => "ALB single-value",
            Self::AlbMulti => "ALB multi-value",
            Self::FunctionUrl => "function URL",
        }
    }

    /// The front's sample event, as committed.
    pub fn sample(self) -> &'static str {
        match self {
            // aws_lambda_events 1.2.1 src/fixtures/example-apigw-v2-request-no-authorizer.json
            Self::HttpApiV2 => include_str!("../fixtures/fronts/http-api-v2.json"),
            // The API Gateway Developer Guide's payload format 1.0 example.
            Self::HttpApiV1 => include_str!("../fixtures/fronts/http-api-v1.json"),
            // aws_lambda_events 1.2.1 src/fixtures/example-apigw-request.json
            Self::RestApi => include_str!("../fixtures/fronts/rest-api.json"),
            // aws_lambda_events 1.2.1 src/fixtures/example-alb-lambda-target-request-headers-only.json
            Self::AlbSingle => include_str!("../fixtures/fronts/alb-single-value.json"),
            // aws_lambda_events 1.2.1 src/fixtures/example-alb-lambda-target-request-multivalue-headers.json
            Self::AlbMulti => include_str!("../fixtures/fronts/alb-multi-value.json"),
            // lambda_http 1.3.2 tests/data/lambda_function_url_request.json
            Self::FunctionUrl => include_str!("../fixtures/fronts/function-url.json"),
        }
    }

    /// The request id the front's context carries (`None`: ALB has none).
    pub fn request_id(self) -> Option<&'static str> {
        match self {
            Self::HttpApiV2 => Some("LV7fzho-PHcEJPw="),
            Self::HttpApiV1 => Some("id="),
            Self::RestApi => Some("deef4878-7910-11e6-8f14-25afc3e9ae33"),
            Self::AlbSingle | Self::AlbMulti => None,
            Self::FunctionUrl => Some("MIZRNhJtIAMEMDw="),
        }
    }

    /// Whether the front tells the function the caller's address.
    pub fn has_source_ip(self) -> bool {
        !matches!(self, Self::AlbSingle | Self::AlbMulti)
    }

    /// The shape of the answer the front expects.
    pub fn shape(self) -> Shape {
        match self {
            Self::HttpApiV2 | Self::FunctionUrl => Shape::HttpApi,
            Self::HttpApiV1 | Self::RestApi => Shape::Proxy,
            Self::AlbSingle | Self::AlbMulti => Shape::Alb,
        }
    }

    /// `delivery` (an HTTP API 2.0 event, e.g. from
    /// [`crate::providers::Provider::signed`]) as this front would send it:
    /// the sample's request context, the delivery's method, headers, query,
    /// body and source address (where the front records one).
    pub fn event(self, delivery: &Value) -> Value {
        let mut event: Value = serde_json::from_str(self.sample()).expect("a JSON sample");
        let method = delivery["requestContext"]["http"]["method"].clone();
        let source_ip = delivery["requestContext"]["http"]["sourceIp"].clone();
        let headers = delivery["headers"].as_object().cloned().unwrap_or_default();
        let query = delivery["rawQueryString"].as_str().unwrap_or_default();
        let obj = event.as_object_mut().expect("an object");
        obj.insert("body".into(), delivery["body"].clone());
        obj.insert(
            "isBase64Encoded".into(),
            delivery["isBase64Encoded"].clone(),
        );
        match self {
            Self::HttpApiV2 | Self::FunctionUrl => {
                obj.insert("headers".into(), Value::Object(headers));
                obj.insert("rawQueryString".into(), json!(query));
                obj.remove("cookies");
                obj.remove("queryStringParameters");
                let http = &mut obj["requestContext"]["http"];
                http["method"] = method;
                http["sourceIp"] = source_ip;
            }
            Self::HttpApiV1 | Self::RestApi => {
                // Both fields, as API Gateway sends them; parameter values
                // decoded.
                obj.insert("headers".into(), Value::Object(headers.clone()));
                obj.insert("multiValueHeaders".into(), multi(&headers));
                let (single, many) = decoded_query(query);
                obj.insert("queryStringParameters".into(), single);
                obj.insert("multiValueQueryStringParameters".into(), many);
                obj.insert("httpMethod".into(), method.clone());
                let ctx = &mut obj["requestContext"];
                ctx["httpMethod"] = method;
                ctx["identity"]["sourceIp"] = source_ip;
            }
            Self::AlbSingle => {
                // ALB passes query values as the client encoded them.
                obj.insert("headers".into(), Value::Object(headers));
                obj.insert("queryStringParameters".into(), or_empty(raw_query(query).0));
                obj.insert("httpMethod".into(), method);
            }
            Self::AlbMulti => {
                obj.insert("multiValueHeaders".into(), multi(&headers));
                obj.insert(
                    "multiValueQueryStringParameters".into(),
                    or_empty(raw_query(query).1),
                );
                obj.insert("httpMethod".into(), method);
            }
        }
        event
    }
}

/// Headers as `{"name": ["value"]}`.
fn multi(headers: &Map<String, Value>) -> Value {
    Value::Object(
        headers
            .iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect(),
    )
}

/// A query string as single- and multi-value parameter maps of decoded
/// values (API Gateway's REST and 1.0 events).
fn decoded_query(query: &str) -> (Value, Value) {
    let pairs: Vec<(String, String)> = form_pairs(query)
        .into_iter()
        .map(|(k, v)| (decode(&k), decode(&v)))
        .collect();
    maps(pairs)
}

/// The same with values left as written (ALB).
fn raw_query(query: &str) -> (Value, Value) {
    maps(form_pairs(query))
}

/// ALB sends `{}` where API Gateway sends `null`.
fn or_empty(v: Value) -> Value {
    if v.is_null() { json!({}) } else { v }
}

fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn maps(pairs: Vec<(String, String)>) -> (Value, Value) {
    if pairs.is_empty() {
        return (Value::Null, Value::Null);
    }
    let mut single = Map::new();
    let mut many: Map<String, Value> = Map::new();
    for (k, v) in pairs {
        single.insert(k.clone(), json!(v));
        match many.get_mut(&k).and_then(Value::as_array_mut) {
            Some(list) => list.push(json!(v)),
            None => {
                many.insert(k, json!([v]));
            }
        }
    }
    (Value::Object(single), Value::Object(many))
}
