//! The quarantine: where an authenticated delivery goes when it cannot be
//! normalized (not strict JSON, or without what the envelope needs).
//!
//! Once a delivery is authenticated, refusing it loses the event: the
//! provider retries the same bytes, gets the same answer, and gives up. So
//! with `QUARANTINE_QUEUE_URL` set, such a delivery is kept verbatim on the
//! quarantine queue with the reasons it could not be normalized, and the
//! provider gets a 200. The events queue only ever carries normalized
//! events. After an upgrade, [`replay`] runs a kept delivery through the
//! current normalization again (the `hookgate quarantine replay` command).
//!
//! The record is a CloudEvents 1.0 event of type `hookgate.quarantined`
//! whose `id` is the delivery's event id, so a replayed event keeps the id
//! it would have had.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::envelope::{SPEC_VERSION, VerificationInfo, body_is_sqs_safe, event_id, to_sqs_json};
use crate::error::Rejection;
use crate::gate::{Kind, Prepared, Receipt, event_message, fifo_ids};
use crate::json::{Detail, JsonError, LocPart, parse_strict};
use crate::providers;
use crate::sink::Message;
use crate::verify::{Verification, Verified};

/// JSON's insignificant whitespace.
const JSON_SPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// The CloudEvents `type` of a quarantine record.
pub const QUARANTINED_TYPE: &str = "hookgate.quarantined";

/// One quarantined delivery, as it sits on the quarantine queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuarantineRecord {
    /// Always `1.0`.
    pub specversion: String,
    /// The delivery's event id: hex SHA-256 of `<slug>\n<raw body>`.
    pub id: String,
    /// `hookgate/<slug>`.
    pub source: String,
    /// Always `hookgate.quarantined`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it was received.
    pub time: DateTime<Utc>,
    /// Always `application/json` (the record's own data).
    pub datacontenttype: String,
    /// The delivery and why it was kept.
    pub data: QuarantineData,
}

/// What a quarantine record keeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuarantineData {
    /// The provider slug.
    pub provider: String,
    /// Why it could not be normalized, as a 422 would have said.
    pub reasons: Vec<Detail>,
    /// When hookgate received the delivery.
    pub received_at: DateTime<Utc>,
    /// The front's request id.
    pub request_id: Option<String>,
    /// How it was authenticated on receipt.
    pub verification: VerificationInfo,
    /// The request's Content-Type, if it had one.
    pub content_type: Option<String>,
    /// The body, verbatim, when it is strict JSON that SQS can carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Box<RawValue>>,
    /// The body, base64, otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_base64: Option<String>,
}

impl QuarantineRecord {
    /// The delivery's raw body bytes.
    pub fn body(&self) -> Option<Vec<u8>> {
        match (&self.data.payload, &self.data.payload_base64) {
            (Some(p), _) => Some(p.get().as_bytes().to_vec()),
            (None, Some(b)) => STANDARD.decode(b).ok(),
            (None, None) => None,
        }
    }
}

/// Why an authenticated body cannot be normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// Not strict JSON.
    Json(JsonError),
    /// JSON without what the envelope needs.
    Payload(Vec<Detail>),
}

impl Unusable {
    /// The reasons, in the 422 detail's shape; bad JSON is one entry at `body`.
    pub fn reasons(&self) -> Vec<Detail> {
        match self {
            Self::Json(e) => vec![Detail {
                loc: vec![LocPart::Key("body".into())],
                msg: e.to_string(),
                kind: "json_invalid".into(),
            }],
            Self::Payload(details) => details.clone(),
        }
    }

    /// The answer when there is no quarantine queue: 400 or 422.
    pub fn into_rejection(self) -> Rejection {
        match self {
            Self::Json(e) => Rejection::InvalidJson(e),
            Self::Payload(details) => Rejection::InvalidPayload(details),
        }
    }
}

/// The quarantine message for a delivery received as `receipt`.
pub(crate) fn quarantine_message(
    receipt: &Receipt<'_>,
    content_type: Option<String>,
    reasons: Vec<Detail>,
    fifo: bool,
    max_message_bytes: usize,
) -> Result<Prepared, Rejection> {
    let id = event_id(receipt.slug, receipt.body);
    // Verbatim only what is one strict JSON document SQS can carry: a body
    // with duplicate keys embedded as is would make the record itself
    // ambiguous JSON.
    // Whitespace around the document is kept too (base64 then), so that the
    // body, and with it the event id, survives byte for byte; and a bare
    // `null` would read back as no payload at all.
    let verbatim = parse_strict(receipt.body)
        .ok()
        .filter(|text| {
            body_is_sqs_safe(text)
                && !text.starts_with(JSON_SPACE)
                && !text.ends_with(JSON_SPACE)
                && *text != "null"
        })
        .and_then(|text| RawValue::from_string(text.to_owned()).ok());
    let payload_base64 = verbatim.is_none().then(|| STANDARD.encode(receipt.body));
    let record = QuarantineRecord {
        specversion: SPEC_VERSION.into(),
        id: id.clone(),
        source: format!("hookgate/{}", receipt.slug),
        event_type: QUARANTINED_TYPE.into(),
        time: receipt.received_at,
        datacontenttype: "application/json".into(),
        data: QuarantineData {
            provider: receipt.slug.into(),
            reasons: reasons.clone(),
            received_at: receipt.received_at,
            request_id: receipt.request_id.clone(),
            verification: receipt.verification.clone(),
            content_type,
            payload: verbatim,
            payload_base64,
        },
    };
    let body = to_sqs_json(&record)
        .map_err(|e| Rejection::Internal(format!("serializing the quarantine record: {e}")))?;
    let message = Message {
        body,
        attributes: vec![
            ("provider", receipt.slug.to_owned()),
            ("type", QUARANTINED_TYPE.to_owned()),
        ],
        fifo: fifo.then(|| fifo_ids(receipt.slug, "quarantined", &id)),
        trace_header: receipt.trace_header.clone(),
    };
    Prepared::fitting(
        message,
        id,
        Kind::Quarantined { reasons },
        max_message_bytes,
    )
}

/// Why a quarantine record cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The message is not a quarantine record this version can read.
    #[error("not a hookgate quarantine record: {0}")]
    NotARecord(String),
    /// The record names a provider this version does not have.
    #[error("unknown provider {0:?}")]
    UnknownProvider(String),
    /// The record's id is not the id of its body: it was not written by
    /// hookgate, or was changed since.
    #[error("the record's id does not match its body")]
    IdMismatch,
    /// The body still cannot be normalized.
    #[error("still cannot be normalized: {}", describe(.0))]
    StillUnusable(Vec<Detail>),
    /// The event does not fit the target queue, or could not be written.
    #[error("{0}")]
    Unsendable(String),
}

/// `loc: msg` for each reason, for a person.
pub fn describe(reasons: &[Detail]) -> String {
    reasons
        .iter()
        .map(|d| {
            let loc: Vec<String> = d
                .loc
                .iter()
                .map(|p| match p {
                    LocPart::Key(k) => k.clone(),
                    LocPart::Index(i) => i.to_string(),
                })
                .collect();
            format!("{}: {}", loc.join("."), d.msg)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads a quarantine queue message.
pub fn read_record(message_body: &str) -> Result<QuarantineRecord, ReplayError> {
    let record: QuarantineRecord =
        serde_json::from_str(message_body).map_err(|e| ReplayError::NotARecord(e.to_string()))?;
    if record.event_type != QUARANTINED_TYPE {
        return Err(ReplayError::NotARecord(format!(
            "its type is {:?}",
            record.event_type
        )));
    }
    Ok(record)
}

/// Runs a quarantined delivery through the current parse, validation and
/// normalization, and returns the events-queue message it now makes (same
/// event id). There is no second signature check: the record was written
/// only after the delivery was authenticated, and says how.
pub fn replay(
    record: &QuarantineRecord,
    fifo: bool,
    max_message_bytes: usize,
) -> Result<Prepared, ReplayError> {
    let provider = providers::registered(&record.data.provider)
        .ok_or_else(|| ReplayError::UnknownProvider(record.data.provider.clone()))?;
    let slug = provider.slug;
    let body = record
        .body()
        .ok_or_else(|| ReplayError::NotARecord("it holds no payload".into()))?;
    if event_id(slug, &body) != record.id {
        return Err(ReplayError::IdMismatch);
    }
    let text =
        parse_strict(&body).map_err(|e| ReplayError::StillUnusable(Unusable::Json(e).reasons()))?;
    let verified = Verified::new(
        &body,
        Verification {
            scheme: "quarantine",
            key_index: record.data.verification.key_index,
            signed_at: None,
        },
    );
    let normalized = (provider.normalize)(text, &verified).map_err(ReplayError::StillUnusable)?;
    let receipt = Receipt {
        slug,
        body: &body,
        received_at: record.data.received_at,
        request_id: record.data.request_id.clone(),
        verification: record.data.verification.clone(),
        trace_header: None,
    };
    event_message(&receipt, text, normalized, fifo, max_message_bytes)
        .map_err(|e| ReplayError::Unsendable(e.to_string()))
}

#[cfg(test)]
mod tests;
