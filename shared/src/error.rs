//! Every way a request can be refused, mapped to its status and JSON body
//! in one place.
//!
//! Expected refusals are responses, not `Err`s: the Lambda runtime reports
//! an `Err` as a failed invocation, which is reserved for bugs. The caller
//! gets a short code and sentence; causes (auth failure reason, SDK error)
//! go to the log only.

use http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::json::{Detail, JsonError};
use crate::metrics::Answer;
use crate::sink::SinkError;
use crate::verify::AuthError;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    /// Not a POST.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body exceeds `MAX_BODY_BYTES`.
    #[error("body of {0} bytes is over the limit")]
    BodyTooLarge(usize),
    /// The envelope would not fit in one queue message.
    #[error("envelope of {0} bytes does not fit in a queue message")]
    EnvelopeTooLarge(usize),
    /// Authentication failed.
    #[error("unauthorized: {0}")]
    Unauthorized(#[from] AuthError),
    /// The body is not strict JSON (and there is no quarantine queue).
    #[error("invalid JSON: {0}")]
    InvalidJson(#[from] JsonError),
    /// The JSON lacks what normalization needs (and there is no quarantine
    /// queue).
    #[error("invalid payload: {} problem(s)", .0.len())]
    InvalidPayload(Vec<Detail>),
    /// The queue did not take the message.
    #[error("queue unavailable: {0}")]
    QueueUnavailable(#[from] SinkError),
    /// A bug: something that should not fail did.
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a [Detail]>,
}

impl Rejection {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::BodyTooLarge(_) | Self::EnvelopeTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            // 401 rather than 403: the caller failed to prove who it is.
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::InvalidJson(_) => StatusCode::BAD_REQUEST,
            Self::InvalidPayload(_) => StatusCode::UNPROCESSABLE_ENTITY,
            // 503 tells the provider to retry: the event is not lost.
            Self::QueueUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The counters of the request's metrics record: every 4xx is
    /// `Rejected`, a 401 also `RejectedAuth` (what a rotation gone wrong or
    /// a probe shows as); a queue failure and a bug have their own. The
    /// reason itself is the record's `error` field.
    pub fn counters(&self) -> &'static [&'static str] {
        match self {
            Self::Unauthorized(_) => &["Rejected", "RejectedAuth"],
            Self::QueueUnavailable(_) => &["EnqueueFailures"],
            Self::Internal(_) => &["InternalErrors"],
            Self::MethodNotAllowed
            | Self::BodyTooLarge(_)
            | Self::EnvelopeTooLarge(_)
            | Self::InvalidJson(_)
            | Self::InvalidPayload(_) => &["Rejected"],
        }
    }

    /// The request record's `outcome`: `rejected` (the caller's fault),
    /// `enqueue_failed` (the provider retries) or `error` (a bug).
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::QueueUnavailable(_) => "enqueue_failed",
            Self::Internal(_) => "error",
            _ => "rejected",
        }
    }

    /// How the request record shows this refusal, with `cause` (this
    /// rejection's text) for the log.
    pub fn answer<'a>(&self, cause: &'a str) -> Answer<'a> {
        Answer::Refused {
            status: self.status().as_u16(),
            error: self.code(),
            cause,
            outcome: self.outcome(),
            counters: self.counters(),
        }
    }

    /// The `error` code in the body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MethodNotAllowed => "method_not_allowed",
            Self::BodyTooLarge(_) | Self::EnvelopeTooLarge(_) => "payload_too_large",
            Self::Unauthorized(_) => "unauthorized",
            Self::InvalidJson(_) => "invalid_json",
            Self::InvalidPayload(_) => "invalid_payload",
            Self::QueueUnavailable(_) => "queue_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    /// The sentence for a person.
    fn message(&self) -> String {
        match self {
            Self::MethodNotAllowed => "Only POST is accepted.".into(),
            Self::BodyTooLarge(_) => {
                "The request body is larger than this endpoint accepts.".into()
            }
            Self::EnvelopeTooLarge(_) => {
                "The event is too large to fit in one queue message.".into()
            }
            Self::Unauthorized(_) => "The request could not be authenticated.".into(),
            Self::InvalidJson(e) => e.to_string(),
            Self::InvalidPayload(_) => {
                "The JSON does not match the expected payload; see detail.".into()
            }
            Self::QueueUnavailable(_) => "The event could not be queued; retry later.".into(),
            Self::Internal(_) => "An internal error occurred.".into(),
        }
    }

    /// The response to send.
    pub fn to_response(&self) -> Response<Body> {
        let message = self.message();
        let detail = match self {
            Self::InvalidPayload(d) => Some(d.as_slice()),
            _ => None,
        };
        let body = ErrorBody {
            error: self.code(),
            message: &message,
            detail,
        };
        let mut resp = json_response(self.status(), &body);
        let headers = resp.headers_mut();
        match self {
            Self::MethodNotAllowed => {
                headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
            }
            Self::QueueUnavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        resp
    }
}

/// A JSON response.
pub(crate) fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    // Serializing these plain structs cannot fail; fall back to a bare body
    // rather than panic if it ever did.
    let text =
        serde_json::to_string(body).unwrap_or_else(|_| r#"{"error":"internal_error"}"#.into());
    let mut resp = Response::new(Body::Text(text));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
