//! The request pipeline, the same for every provider. Order matters: nothing
//! is parsed before it is authenticated.
//!
//! method -> body size -> authenticate raw bytes -> strict JSON -> what
//! normalization reads -> envelope (must fit the queue) -> SQS -> 200.
//!
//! Once authenticated, a delivery is kept: a body that is not strict JSON,
//! or lacks what the envelope needs, goes verbatim to the quarantine queue
//! when there is one (see [`crate::quarantine`]), and the provider gets a
//! 200 so it stops retrying bytes that will never read differently.
//! Content-Type is not a reason to refuse: an authenticated body is judged
//! by its bytes.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SubsecRound, Utc};
use http::{Method, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use sha2::{Digest, Sha256};

use crate::config::{Common, Config};
use crate::envelope::{
    Data, Envelope, Outcome, SPEC_VERSION, VerificationInfo, body_is_sqs_safe, event_id, sqs_clean,
    to_sqs_json, to_sqs_json_with_payload,
};
use crate::error::{Rejection, json_response};
use crate::json::{Detail, parse_strict};
use crate::metrics::{Answer, RequestRecord};
use crate::providers::{Normalized, Provider};
use crate::quarantine::{Unusable, quarantine_message};
use crate::secrets::SecretStore;
use crate::sink::{FifoIds, Message, Sink};
use crate::verify::{AuthError, Inbound};

/// A source of the current time; injectable so tests are exact.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The request facts the pipeline and the log need beyond headers and body.
#[derive(Debug, Clone, Default)]
struct Context {
    request_id: Option<String>,
    source_ip: Option<IpAddr>,
    trace_header: Option<String>,
}

impl Context {
    fn of(req: &Request) -> Self {
        // From the front's own request context, whichever front it is.
        let (request_id, source_ip) = crate::lambda::request_facts(req);
        Self {
            request_id,
            source_ip,
            trace_header: req
                .lambda_context_ref()
                .and_then(|c| c.xray_trace_id.clone())
                .filter(|t| !t.is_empty()),
        }
    }
}

/// The 200 answer's body.
#[derive(serde::Serialize)]
struct AcceptedBody<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    quarantined: bool,
}

/// A message ready for a queue, and what it is.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The message to send.
    pub message: Message,
    /// The event id.
    pub id: String,
    /// A normalized event, or a quarantined delivery.
    pub kind: Kind,
}

impl Prepared {
    /// `message` for a queue taking at most `max_message_bytes`; one that
    /// cannot fit is a 413, never a failed send.
    pub(crate) fn fitting(
        message: Message,
        id: String,
        kind: Kind,
        max_message_bytes: usize,
    ) -> Result<Self, Rejection> {
        if message.size() > max_message_bytes {
            return Err(Rejection::EnvelopeTooLarge(message.size()));
        }
        Ok(Self { message, id, kind })
    }
}

/// Which queue a [`Prepared`] message goes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A normalized event, for the events queue.
    Event {
        /// The envelope `type`.
        event_type: String,
        /// The normalized outcome.
        outcome: Outcome,
    },
    /// An authenticated delivery that could not be normalized, for the
    /// quarantine queue.
    Quarantined {
        /// Why.
        reasons: Vec<Detail>,
    },
}

/// What is known of a delivery once it is authenticated: everything the
/// envelope or a quarantine record says besides the payload itself.
#[derive(Debug, Clone)]
pub(crate) struct Receipt<'a> {
    /// The provider slug.
    pub slug: &'static str,
    /// The authenticated raw body.
    pub body: &'a [u8],
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// The front's request id.
    pub request_id: Option<String>,
    /// How it was authenticated.
    pub verification: VerificationInfo,
    /// The X-Ray trace header.
    pub trace_header: Option<String>,
}

/// One provider's webhook endpoint in front of its queues.
pub struct Gate<P, S> {
    common: Common,
    // Swapped whole when a secret rotation is picked up.
    provider: RwLock<Arc<P>>,
    secrets: Option<SecretStore>,
    sink: S,
    quarantine: Option<S>,
    clock: Clock,
}

impl<P: std::fmt::Debug, S> std::fmt::Debug for Gate<P, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("common", &self.common)
            .field("provider", &self.provider)
            .field("quarantine", &self.quarantine.is_some())
            .finish_non_exhaustive()
    }
}

/// How long a secret refresh may hold up the request that asked for it.
const REFRESH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(1);

/// A gate whose provider is chosen at run time: what code that runs every
/// registered provider in one process holds
/// ([`Registered::gate`](crate::providers::Registered::gate)).
pub trait Handle: Send + Sync {
    /// The provider's slug.
    fn slug(&self) -> &'static str;

    /// [`Gate::handle`].
    fn handle(&self, req: Request) -> Pin<Box<dyn Future<Output = Response<Body>> + Send + '_>>;

    /// [`Gate::prepare`].
    fn prepare(&self, req: &Request) -> Result<Prepared, Rejection>;
}

/// A gate of any provider.
pub type AnyGate = Box<dyn Handle>;

impl<P: Provider, S: Sink + 'static> Handle for Gate<P, S> {
    fn slug(&self) -> &'static str {
        P::SLUG
    }

    fn handle(&self, req: Request) -> Pin<Box<dyn Future<Output = Response<Body>> + Send + '_>> {
        Box::pin(Gate::handle(self, req))
    }

    fn prepare(&self, req: &Request) -> Result<Prepared, Rejection> {
        Gate::prepare(self, req)
    }
}

impl<P: Provider, S: Sink> Gate<P, S> {
    /// A gate for `config`, sending events to `sink`, on the system clock,
    /// without a quarantine queue.
    pub fn new(config: Config<P>, sink: S) -> Self {
        Self {
            common: config.common,
            provider: RwLock::new(Arc::new(config.provider)),
            secrets: config.secrets,
            sink,
            quarantine: None,
            clock: Arc::new(Utc::now),
        }
    }

    /// The same gate, keeping deliveries it cannot normalize in `quarantine`
    /// (`None`: refusing them with 400 or 422).
    pub fn with_quarantine(mut self, quarantine: Option<S>) -> Self {
        self.quarantine = quarantine;
        self
    }

    /// The same gate on another clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The events sink.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// The quarantine sink, if there is one.
    pub fn quarantine(&self) -> Option<&S> {
        self.quarantine.as_ref()
    }

    /// Handles one request. Never fails and never panics: every outcome,
    /// including a queue failure, is a response.
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let started = Instant::now();
        let ctx = Context::of(&req);
        let mut prepared = self.prepare_with(&req, &ctx);
        // Only a well-formed credential that matched no key may be signed
        // with a rotated secret; a missing or malformed one never triggers a
        // read, so a caller cannot make Secrets Manager calls for free.
        if matches!(prepared, Err(Rejection::Unauthorized(AuthError::NoMatch(_))))
            // Boxed: the SDK's read future is deep, and this path is rare.
            && Box::pin(self.refresh_secrets()).await
        {
            prepared = self.prepare_with(&req, &ctx);
        }
        let mut sqs_ms = None;
        let result = match prepared {
            Ok(Prepared { message, id, kind }) => {
                let sink = match kind {
                    Kind::Event { .. } => Some(&self.sink),
                    Kind::Quarantined { .. } => self.quarantine.as_ref(),
                };
                let sent = Instant::now();
                let send = match sink {
                    Some(sink) => sink.send(message).await.map_err(Rejection::from),
                    // prepare_with quarantines only when there is a queue.
                    None => Err(Rejection::Internal("quarantined without a queue".into())),
                };
                sqs_ms = Some(sent.elapsed().as_secs_f64() * 1000.0);
                send.map(|()| (id, kind))
            }
            Err(rejection) => Err(rejection),
        };
        let request_ms = started.elapsed().as_secs_f64() * 1000.0;
        let request_id = ctx.request_id.as_deref().unwrap_or("");
        // One record per request, which is also its metrics record: see
        // crate::metrics.
        let (response, cause, reasons);
        let answer = match &result {
            Ok((
                id,
                Kind::Event {
                    event_type,
                    outcome,
                },
            )) => {
                response = json_response(
                    StatusCode::OK,
                    &AcceptedBody {
                        id,
                        quarantined: false,
                    },
                );
                Answer::Accepted {
                    event_type,
                    outcome: outcome.as_str(),
                    event_id: id,
                }
            }
            Ok((id, Kind::Quarantined { reasons: details })) => {
                response = json_response(
                    StatusCode::OK,
                    &AcceptedBody {
                        id,
                        quarantined: true,
                    },
                );
                reasons = crate::quarantine::describe(details);
                Answer::Quarantined {
                    event_id: id,
                    reasons: &reasons,
                }
            }
            Err(r) => {
                response = r.to_response();
                cause = r.to_string();
                r.answer(&cause)
            }
        };
        RequestRecord {
            provider: P::SLUG,
            request_id,
            answer,
            request_ms,
            sqs_ms,
        }
        .emit(Utc::now());
        response
    }

    /// Re-reads secrets kept in Secrets Manager (rate-limited, and within
    /// [`REFRESH_DEADLINE`]) and rebuilds the provider with them; true when
    /// the keys may have changed.
    async fn refresh_secrets(&self) -> bool {
        let Some(store) = &self.secrets else {
            return false;
        };
        let values = match tokio::time::timeout(REFRESH_DEADLINE, store.refresh()).await {
            Ok(Some(values)) => values,
            Ok(None) => return false,
            Err(_) => {
                tracing::error!(
                    provider = P::SLUG,
                    deadline_ms = REFRESH_DEADLINE.as_millis() as u64,
                    "re-reading secrets took too long; keeping the current ones"
                );
                return false;
            }
        };
        match P::from_source(&store.with_values(&values)) {
            Ok(provider) => {
                *self.provider.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(provider);
                true
            }
            Err(e) => {
                tracing::error!(provider = P::SLUG, error = %e, "re-read secrets are unusable; keeping the current ones");
                false
            }
        }
    }

    fn provider(&self) -> Arc<P> {
        Arc::clone(&self.provider.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Runs every step but the send: from the request to the message.
    pub fn prepare(&self, req: &Request) -> Result<Prepared, Rejection> {
        self.prepare_with(req, &Context::of(req))
    }

    fn prepare_with(&self, req: &Request, ctx: &Context) -> Result<Prepared, Rejection> {
        if req.method() != Method::POST {
            return Err(Rejection::MethodNotAllowed);
        }
        let body: &[u8] = req.body().as_ref();
        if body.len() > self.common.max_body_bytes {
            return Err(Rejection::BodyTooLarge(body.len()));
        }
        let received_at = (self.clock)().trunc_subsecs(3);
        let inbound = Inbound {
            headers: req.headers(),
            query: req.uri().query(),
            source_ip: ctx.source_ip,
            body,
            now: received_at,
        };
        let verified = self.provider().verify(&inbound)?;
        let verification = verified.verification();
        let receipt = Receipt {
            slug: P::SLUG,
            body: verified.body(),
            received_at,
            request_id: ctx.request_id.clone(),
            verification: VerificationInfo {
                scheme: verification.scheme.into(),
                key_index: verification.key_index,
            },
            trace_header: ctx.trace_header.clone(),
        };
        let read = parse_strict(verified.body())
            .map_err(Unusable::Json)
            .and_then(|text| {
                P::normalize(text, &verified)
                    .map(|n| (text, n))
                    .map_err(Unusable::Payload)
            });
        match read {
            Ok((text, normalized)) => event_message(
                &receipt,
                text,
                normalized,
                self.sink.is_fifo(),
                self.sink.max_message_bytes(),
            ),
            Err(unusable) => match &self.quarantine {
                Some(q) => quarantine_message(
                    &receipt,
                    content_type(req),
                    unusable.reasons(),
                    q.is_fifo(),
                    q.max_message_bytes(),
                ),
                None => Err(unusable.into_rejection()),
            },
        }
    }
}

/// The request's Content-Type, for the quarantine record: written with
/// what SQS cannot carry escaped.
fn content_type(req: &Request) -> Option<String> {
    let value = req.headers().get(header::CONTENT_TYPE)?;
    Some(sqs_clean(&String::from_utf8_lossy(value.as_bytes())).into_owned())
}

/// The events-queue message for a normalized delivery. `text` is the body
/// as strict-parsed JSON; it goes into the envelope as it is.
pub(crate) fn event_message(
    receipt: &Receipt<'_>,
    text: &str,
    normalized: Normalized,
    fifo: bool,
    max_message_bytes: usize,
) -> Result<Prepared, Rejection> {
    let slug = receipt.slug;
    let id = event_id(slug, receipt.body);
    // A body SQS cannot carry travels base64-encoded instead.
    let sqs_safe = body_is_sqs_safe(text);
    let payload_base64 = (!sqs_safe).then(|| STANDARD.encode(receipt.body));
    let event_type = format!("{slug}.{}", normalized.type_suffix);
    let outcome = normalized.outcome;
    let fifo = fifo.then(|| fifo_ids(slug, &normalized.subject, &id));
    let envelope = Envelope {
        specversion: SPEC_VERSION.into(),
        id: id.clone(),
        source: format!("hookgate/{slug}"),
        event_type: event_type.clone(),
        subject: normalized.subject,
        time: normalized.time.unwrap_or(receipt.received_at),
        datacontenttype: "application/json".into(),
        data: Data {
            provider: slug.into(),
            event: normalized.event,
            outcome,
            resource: normalized.resource,
            status: normalized.status,
            outputs: normalized.outputs,
            error: normalized.error,
            received_at: receipt.received_at,
            request_id: receipt.request_id.clone(),
            verification: receipt.verification.clone(),
            payload: None,
            payload_base64,
        },
    };
    let body = if sqs_safe {
        to_sqs_json_with_payload(&envelope, text)
    } else {
        to_sqs_json(&envelope)
    }
    .map_err(|e| Rejection::Internal(format!("serializing the envelope: {e}")))?;
    let message = Message {
        body,
        attributes: vec![
            ("provider", slug.to_owned()),
            ("type", sqs_clean(&event_type).into_owned()),
            ("outcome", outcome.as_str().to_owned()),
        ],
        fifo,
        trace_header: receipt.trace_header.clone(),
    };
    Prepared::fitting(
        message,
        id,
        Kind::Event {
            event_type,
            outcome,
        },
        max_message_bytes,
    )
}

/// FIFO ids: messages about one resource stay in order; the event id
/// deduplicates retried deliveries.
pub fn fifo_ids(slug: &str, subject: &str, id: &str) -> FifoIds {
    const MAX: usize = 128;
    let plain = format!("{slug}:{subject}");
    // SQS allows alphanumerics and punctuation, at most 128 characters.
    let group_id = if plain.len() <= MAX && plain.bytes().all(|b| b.is_ascii_graphic()) {
        plain
    } else {
        format!("{slug}:{}", hex::encode(Sha256::digest(subject.as_bytes())))
    };
    FifoIds {
        group_id,
        deduplication_id: id.to_owned(),
    }
}

#[cfg(test)]
mod tests;
