//! The message consumers read: a CloudEvents 1.0 event in structured JSON
//! mode, so any CloudEvents SDK can read it, and a Rust consumer can read it
//! with this very type.
//!
//! The provider's JSON is embedded verbatim (never re-serialized: numbers,
//! key order and escapes survive). SQS only carries the XML character set;
//! [`to_sqs_json`] escapes the two BMP code points outside it (U+FFFE and
//! U+FFFF: surrogates cannot occur in Rust strings, and control characters
//! are already escaped by JSON) in every string it writes, and a raw body
//! that holds them travels base64-encoded in `payload_base64` instead.

use std::io;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

/// CloudEvents spec version.
pub const SPEC_VERSION: &str = "1.0";

/// What happened, in one vocabulary for every provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The resource was created or queued.
    Created,
    /// Work is under way.
    Processing,
    /// Someone must act (review, enrol, QC).
    ActionRequired,
    /// Finished successfully.
    Succeeded,
    /// Finished unsuccessfully.
    Failed,
    /// Canceled before finishing.
    Canceled,
    /// A value hookgate does not know yet; read `data.event` and `data.status`.
    Unknown,
}

impl Outcome {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Processing => "processing",
            Self::ActionRequired => "action_required",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::Unknown => "unknown",
        }
    }
}

/// The provider resource an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// What kind of thing: `job`, `asset`, `version`, `generation`, ...
    pub kind: String,
    /// The provider's id for it.
    pub id: String,
    /// The id of the resource it belongs to, if any.
    pub parent: Option<String>,
}

/// A file the provider produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Output {
    /// Where to fetch it.
    pub url: String,
    /// When the URL stops working, if the provider says.
    pub expires_at: Option<DateTime<Utc>>,
    /// Its size, if the provider says.
    pub size_bytes: Option<u64>,
}

/// A provider-reported failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// The provider's error code.
    pub code: Option<String>,
    /// The provider's error message.
    pub message: Option<String>,
}

/// How the delivery was authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationInfo {
    /// `hmac-sha256`, `hmac-sha256-timestamped`, `es256` or `token`.
    pub scheme: String,
    /// Which configured key or secret matched.
    pub key_index: usize,
}

/// The normalized event data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// The provider slug.
    pub provider: String,
    /// The provider's own event name or status.
    pub event: String,
    /// The normalized outcome.
    pub outcome: Outcome,
    /// What the event is about.
    pub resource: Resource,
    /// The provider's own status value, if any.
    pub status: Option<String>,
    /// Produced files.
    #[serde(default)]
    pub outputs: Vec<Output>,
    /// The provider's error, on failures.
    pub error: Option<ErrorInfo>,
    /// When hookgate received the delivery.
    pub received_at: DateTime<Utc>,
    /// The API Gateway request id.
    pub request_id: Option<String>,
    /// How it was authenticated.
    pub verification: VerificationInfo,
    /// The provider's JSON, exactly as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Box<RawValue>>,
    /// The provider's body, base64, when it holds characters SQS cannot carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_base64: Option<String>,
}

/// One event on the queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    /// Always `1.0`.
    pub specversion: String,
    /// Hex SHA-256 of `<slug>\n<raw body>`: the same delivery, the same id.
    pub id: String,
    /// `hookgate/<slug>`.
    pub source: String,
    /// `<slug>.<native event>`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The provider's resource id; never empty.
    pub subject: String,
    /// When it happened, else when it was received.
    pub time: DateTime<Utc>,
    /// Always `application/json`.
    pub datacontenttype: String,
    /// The normalized data.
    pub data: Data,
}

impl Envelope {
    /// The provider's raw body bytes, from `payload` or `payload_base64`.
    pub fn payload_bytes(&self) -> Option<Vec<u8>> {
        use base64::Engine as _;
        match (&self.data.payload, &self.data.payload_base64) {
            (Some(p), _) => Some(p.get().as_bytes().to_vec()),
            (None, Some(b)) => base64::engine::general_purpose::STANDARD.decode(b).ok(),
            (None, None) => None,
        }
    }
}

/// The deterministic event id: hex SHA-256 of `<slug>\n<raw body>`.
pub fn event_id(slug: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(slug.as_bytes());
    h.update(b"\n");
    h.update(body);
    hex::encode(h.finalize())
}

/// Whether SQS can carry `c` (XML 1.0 characters: `#x9 #xA #xD
/// #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF`).
pub fn sqs_allows(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `s` with every character SQS cannot carry written as a `\uXXXX` escape.
pub fn sqs_clean(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().all(sqs_allows) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if sqs_allows(c) {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        }
    }
    out.into()
}

/// A serde_json formatter that also escapes what SQS cannot carry.
struct SqsFormatter;

impl serde_json::ser::Formatter for SqsFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // JSON already escaped control characters; only U+FFFE and U+FFFF
        // (both UTF-8 EF BF BE/BF) remain outside SQS's set.
        if !fragment.as_bytes().contains(&0xEF) {
            return w.write_all(fragment.as_bytes());
        }
        let mut rest = fragment;
        while let Some(pos) = rest.find(['\u{FFFE}', '\u{FFFF}']) {
            let (head, tail) = rest.split_at(pos);
            w.write_all(head.as_bytes())?;
            let c = tail.chars().next().unwrap_or('\u{FFFE}');
            write!(w, "\\u{:04x}", u32::from(c))?;
            rest = tail.get(c.len_utf8()..).unwrap_or("");
        }
        w.write_all(rest.as_bytes())
    }
}

/// Serializes `value` as compact JSON that SQS can carry. Raw payloads are
/// written as they are: keep one only if [`body_is_sqs_safe`] holds.
pub fn to_sqs_json<T: Serialize>(value: &T) -> serde_json::Result<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, SqsFormatter);
    value.serialize(&mut ser)?;
    // Only whole UTF-8 strings and ASCII escapes were written.
    String::from_utf8(buf).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// Serializes `envelope`, whose `data` holds neither `payload` nor
/// `payload_base64`, exactly as [`to_sqs_json`] would with `payload` set to
/// the JSON text `raw`; `raw` is copied into the output as it is, without
/// being parsed again or copied into a `RawValue` first. `raw` must be one
/// valid JSON value (what [`crate::json::parse_strict`] returns) for which
/// [`body_is_sqs_safe`] holds; whitespace around it is not kept.
pub fn to_sqs_json_with_payload(envelope: &Envelope, raw: &str) -> serde_json::Result<String> {
    use serde::ser::Error as _;
    let raw = raw.trim_matches([' ', '\t', '\n', '\r']);
    if envelope.data.payload.is_some() || envelope.data.payload_base64.is_some() {
        return Err(serde_json::Error::custom(
            "the envelope already has a payload",
        ));
    }
    let mut buf = Vec::with_capacity(768 + raw.len());
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, SqsFormatter);
    envelope.serialize(&mut ser)?;
    // `data` is the envelope's last member, and `payload` is written last
    // in `data` when `payload_base64` is absent: it goes just before the two
    // closing braces.
    if !buf.ends_with(b"}}") {
        return Err(serde_json::Error::custom(
            "unexpected envelope serialization",
        ));
    }
    buf.truncate(buf.len() - 2);
    buf.extend_from_slice(b",\"payload\":");
    buf.extend_from_slice(raw.as_bytes());
    buf.extend_from_slice(b"}}");
    String::from_utf8(buf).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// Whether a (valid UTF-8) body can be embedded as is.
pub fn body_is_sqs_safe(body: &str) -> bool {
    let bytes = body.as_bytes();
    // In UTF-8 the characters SQS refuses are the single-byte controls other
    // than tab, LF and CR, and U+FFFE and U+FFFF (EF BF BE, EF BF BF; 0xEF
    // is never a continuation byte). A branch-free scan rules most bodies in
    // at memory speed; only a body with such a byte is looked at closely.
    let suspect = bytes
        .iter()
        .fold(false, |acc, &b| acc | (b < 0x20) | (b == 0xEF));
    !suspect
        || bytes.iter().enumerate().all(|(i, &b)| match b {
            b'\t' | b'\n' | b'\r' => true,
            0..=0x1F => false,
            0xEF => !matches!(bytes.get(i + 1..i + 3), Some([0xBF, 0xBE | 0xBF])),
            _ => true,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_id_is_sha256_of_slug_newline_body() {
        // printf 'redner\n{}' | sha256sum
        assert_eq!(
            event_id("redner", b"{}"),
            "f7a64dfe04e9d9b38e4d856cfb6a52c6ed0182b5c3bf8428998f9b2b0672ef88"
        );
        assert_ne!(event_id("redner", b"{}"), event_id("syncso", b"{}"));
        assert_eq!(event_id("redner", b"{}").len(), 64);
    }

    #[test]
    fn sqs_character_set() {
        for ok in [
            '\t',
            '\n',
            '\r',
            ' ',
            'é',
            '\u{D7FF}',
            '\u{E000}',
            '\u{FFFD}',
            '\u{10000}',
            '\u{10FFFF}',
        ] {
            assert!(sqs_allows(ok), "{ok:?}");
        }
        for bad in [
            '\0', '\u{1}', '\u{8}', '\u{B}', '\u{1F}', '\u{FFFE}', '\u{FFFF}',
        ] {
            assert!(!sqs_allows(bad), "{bad:?}");
        }
        assert_eq!(sqs_clean("a\u{FFFE}b\u{1}"), "a\\ufffeb\\u0001");
        assert_eq!(sqs_clean("plain"), "plain");
    }

    #[test]
    fn body_check_matches_the_character_set() {
        for s in [
            "",
            "{}",
            "{\"a\":\"é\u{FFFD}\u{10FFFF}\"}\n",
            "\t\r\n",
            "\u{1}",
            "x\u{1F}",
            "\u{7F}",
            "\u{FFFE}",
            "a\u{FFFF}",
            "\u{FFFD}\u{FFFE}",
            "\u{F000}\u{FFEF}\u{FFBF}",
            "\u{EFBF}",
            "\u{E000}",
        ] {
            assert_eq!(body_is_sqs_safe(s), s.chars().all(sqs_allows), "{s:?}");
        }
    }

    #[test]
    fn spliced_payload_serializes_as_the_derived_envelope() {
        let received_at = DateTime::from_timestamp_millis(1_763_901_297_120).unwrap();
        let envelope = |payload: Option<Box<RawValue>>| Envelope {
            specversion: SPEC_VERSION.into(),
            id: event_id("redner", b"{}"),
            source: "hookgate/redner".into(),
            event_type: "redner.job.\u{FFFE}".into(),
            subject: "job_1".into(),
            time: received_at,
            datacontenttype: "application/json".into(),
            data: Data {
                provider: "redner".into(),
                event: "job.completed".into(),
                outcome: Outcome::Succeeded,
                resource: Resource {
                    kind: "job".into(),
                    id: "job_1".into(),
                    parent: None,
                },
                status: Some("merged".into()),
                outputs: vec![Output {
                    url: "https://example.com/x".into(),
                    expires_at: Some(received_at),
                    size_bytes: Some(1),
                }],
                error: None,
                received_at,
                request_id: Some("r".into()),
                verification: VerificationInfo {
                    scheme: "hmac-sha256".into(),
                    key_index: 0,
                },
                payload,
                payload_base64: None,
            },
        };
        for raw in [
            "{}",
            " {\"a\" : [1, 2.50, \"\\u00e9\"]}\n",
            "[1]",
            "\"s\"",
            "null",
        ] {
            let derived = to_sqs_json(&envelope(Some(
                RawValue::from_string(raw.to_owned()).unwrap(),
            )))
            .unwrap();
            let spliced = to_sqs_json_with_payload(&envelope(None), raw).unwrap();
            assert_eq!(spliced, derived);
            // (A `null` payload reads back as `None`, spliced or not.)
            let back: Envelope = serde_json::from_str(&spliced).unwrap();
            let want = Some(raw.trim()).filter(|r| *r != "null");
            assert_eq!(back.data.payload.as_ref().map(|p| p.get()), want);
        }
        let with = envelope(Some(RawValue::from_string("{}".into()).unwrap()));
        assert!(to_sqs_json_with_payload(&with, "{}").is_err());
    }

    #[test]
    fn sqs_json_escapes_noncharacters() {
        let s = to_sqs_json(&["x\u{FFFE}y\u{FFFF}z", "\u{1}é"]).unwrap();
        assert_eq!(s, r#"["x\ufffey\uffffz","\u0001é"]"#);
        let back: Vec<String> = serde_json::from_str(&s).unwrap();
        assert_eq!(back, ["x\u{FFFE}y\u{FFFF}z", "\u{1}é"]);
        assert!(s.chars().all(sqs_allows));
    }
}
