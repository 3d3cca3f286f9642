//! Payload validation: the strict JSON parser, and each provider's schema
//! and normalization reached through an authenticated request.

use std::fmt;

use hookgate::Envelope;
use hookgate::envelope::{event_id, sqs_allows};
use hookgate::json::{MAX_DEPTH, parse_strict};
use hookgate::providers::REGISTRY;
use lambda_http::{Body, Request};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::input::flags;
use crate::keys::{self, Gate, NOW, block_on};

/// `hookgate::json::parse_strict` against serde_json.
///
/// Properties: accepted text is the whole body, which serde_json reads, with
/// no duplicate key and no nesting deeper than the limit; and whatever
/// serde_json reads without a byte-order mark, duplicate or excess depth is
/// accepted.
pub fn json_strict(data: &[u8]) {
    let strict = parse_strict(data);
    let reference = reference(data);
    match (&strict, &reference) {
        (Ok(text), Ok(shape)) => {
            assert_eq!(text.as_bytes(), data);
            assert!(!shape.duplicate, "accepted a duplicate key");
            assert!(shape.depth <= MAX_DEPTH, "accepted depth {}", shape.depth);
        }
        (Ok(_), Err(e)) => panic!("accepted what serde_json refuses: {e}"),
        (Err(e), Ok(shape)) => assert!(
            data.starts_with(b"\xEF\xBB\xBF") || shape.duplicate || shape.depth > MAX_DEPTH,
            "refused plain JSON: {e}"
        ),
        (Err(_), Err(_)) => {}
    }
}

/// What the reference reading saw.
#[derive(Debug, Default)]
struct Shape {
    depth: usize,
    duplicate: bool,
}

/// Reads `data` with serde_json, counting depth and spotting duplicate keys
/// by comparing each object's keys as decoded strings.
fn reference(data: &[u8]) -> Result<Shape, String> {
    let text = std::str::from_utf8(data).map_err(|e| e.to_string())?;
    let mut de = serde_json::Deserializer::from_str(text);
    // serde_json stops at 128 levels itself; that is past the limit anyway.
    let shape = de.deserialize_any(Walk(1)).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(shape)
}

/// Visits a value at `self.0` levels of nesting (scalars count as 0).
struct Walk(usize);

impl<'de> de::DeserializeSeed<'de> for Walk {
    type Value = Shape;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = Shape;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::default())
    }
    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let mut shape = Shape {
            depth: self.0,
            duplicate: false,
        };
        while let Some(inner) = seq.next_element_seed(Walk(self.0 + 1))? {
            shape.depth = shape.depth.max(inner.depth);
            shape.duplicate |= inner.duplicate;
        }
        Ok(shape)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut shape = Shape {
            depth: self.0,
            duplicate: false,
        };
        let mut keys: Vec<String> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let inner = map.next_value_seed(Walk(self.0 + 1))?;
            shape.depth = shape.depth.max(inner.depth);
            shape.duplicate |= inner.duplicate || keys.contains(&key);
            keys.push(key);
        }
        Ok(shape)
    }
}

/// One provider's schema and normalization, through a request signed with
/// the known credentials, so every body reaches them.
///
/// Input: flags, then the body. Bits 0-1, then 4-7 above them, pick the
/// registered provider (modulo their number: in registry order, bits 0-1
/// alone pick Panjaya, sync.so, Namirial, Redner); bit 2 its second
/// signing style where it has one (sync.so's `X-Signature-Primary`,
/// Namirial's `X-Webhook-Token`).
///
/// Properties: the answer is JSON; it is 200 (exactly one message
/// enqueued), 400 exactly when the strict parser refuses the body, 422 with
/// details, or 413; never 401 or 5xx. An enqueued envelope reads back
/// as `Envelope` with the body's id, the provider's source and type prefix,
/// a non-empty subject, the body as payload, and only characters SQS takes.
pub fn payload(data: &[u8]) {
    let Some((f, body)) = flags(data) else { return };
    let gates = keys::known();
    let index = usize::from((f & 3) | ((f >> 4) << 2)) % REGISTRY.len();
    let gate = &gates[index];
    let provider = gate.provider;
    let styles = provider.sender.styles;
    let style = &styles[usize::from((f >> 2) & 1) % styles.len()];
    let signed = (provider.sign)(&keys::credential(provider), style, body, NOW).expect("signed");
    let uri = match signed.query_string() {
        Some(q) => format!("/webhooks/{}?{q}", provider.slug),
        None => format!("/webhooks/{}", provider.slug),
    };
    let mut req = http::Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/json");
    for (name, value) in &signed.headers {
        req = req.header(*name, value);
    }
    check(
        gate,
        req.body(Body::Binary(body.to_vec())).expect("a request"),
        body,
    );
}

fn check(gate: &Gate, req: Request, body: &[u8]) {
    let slug = gate.provider.slug;
    let resp = block_on(gate.gate.handle(req));
    let status = resp.status().as_u16();
    let answer: serde_json::Value =
        serde_json::from_slice(resp.body().as_ref()).expect("every answer is JSON");
    let sent = gate.sink.take();
    let strict_ok = parse_strict(body).is_ok();
    assert_eq!(
        status == 400,
        !strict_ok,
        "400 exactly for bodies the strict parser refuses"
    );
    match status {
        200 => {
            assert_eq!(sent.len(), 1, "a 200 is exactly one message");
            let msg = &sent[0];
            assert!(msg.body.chars().all(sqs_allows), "a character SQS refuses");
            for (_, v) in &msg.attributes {
                assert!(v.chars().all(sqs_allows), "an attribute SQS refuses");
            }
            let env: Envelope = serde_json::from_str(&msg.body).expect("an Envelope");
            let id = event_id(slug, body);
            assert_eq!(env.id, id);
            assert_eq!(answer["id"], id.as_str());
            assert_eq!(env.source, format!("hookgate/{slug}"));
            assert!(env.event_type.starts_with(&format!("{slug}.")));
            assert!(!env.subject.is_empty(), "an empty subject");
            assert_eq!(env.data.provider, slug);
            let payload = env.payload_bytes().expect("a payload");
            // `payload` holds the JSON value (no whitespace around it);
            // `payload_base64`, for bodies SQS cannot carry, the raw body.
            let want = if env.data.payload.is_some() {
                body.trim_ascii()
            } else {
                body
            };
            assert_eq!(payload.as_slice(), want, "the payload is the body");
        }
        400 | 413 | 422 => {
            assert!(sent.is_empty(), "a refusal enqueued something");
            let code = answer["error"].as_str().expect("an error code");
            let want = match status {
                400 => "invalid_json",
                413 => "payload_too_large",
                _ => "invalid_payload",
            };
            assert_eq!(code, want);
            if status == 422 {
                assert!(answer["detail"].as_array().is_some_and(|d| !d.is_empty()));
            }
        }
        _ => panic!("authenticated JSON body answered {status}: {answer}"),
    }
}
