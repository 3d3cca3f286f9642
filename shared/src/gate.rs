//! The request pipeline, the same for every provider. Order matters: nothing
//! is parsed before it is authenticated.
//!
//! method -> body size -> content type -> authenticate raw bytes -> strict
//! JSON -> provider schema -> envelope (must fit the queue) -> SQS -> 200.

use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SubsecRound, Utc};
use http::{Method, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use sha2::{Digest, Sha256};

use crate::config::{Common, ConfigError, Env, Source};
use crate::envelope::{
    Data, Envelope, Outcome, SPEC_VERSION, VerificationInfo, body_is_sqs_safe, event_id, sqs_clean,
    to_sqs_json, to_sqs_json_with_payload,
};
use crate::error::{Rejection, json_response};
use crate::json::parse_strict;
use crate::metrics::{RequestMetrics, counter_for};
use crate::providers::Provider;
use crate::secrets::{SECRET_ID_SUFFIX, SecretStore, secret_ids};
use crate::sink::{FifoIds, Message, Sink};
use crate::verify::Inbound;

/// A source of the current time; injectable so tests are exact.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Everything a function needs, read once at cold start.
#[derive(Debug)]
pub struct Config<P> {
    /// Queue and limits.
    pub common: Common,
    /// The provider with its verification keys.
    pub provider: P,
    /// Where its secrets come from, when they live in Secrets Manager.
    pub secrets: Option<SecretStore>,
}

impl<P: Provider> Config<P> {
    /// Reads the process environment, and the Secrets Manager secrets that
    /// `<VAR>_SECRET_ID` variables name.
    pub async fn load() -> Result<Self, ConfigError> {
        Self::load_from(Arc::new(Env)).await
    }

    /// Like [`Config::load`], from any source.
    pub async fn load_from(src: Arc<dyn Source + Send + Sync>) -> Result<Self, ConfigError> {
        let common = Common::from_source(&*src)?;
        match SecretStore::load(Arc::clone(&src), P::SECRET_VARS).await? {
            None => Ok(Self {
                common,
                provider: P::from_source(&*src)?,
                secrets: None,
            }),
            Some((store, values)) => {
                let provider = P::from_source(&store.with_values(&values))?;
                Ok(Self {
                    common,
                    provider,
                    secrets: Some(store),
                })
            }
        }
    }

    /// Reads plain variables only (no Secrets Manager), e.g. from a map.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        if let Some((var, _)) = secret_ids(src, P::SECRET_VARS)?.first() {
            return Err(ConfigError::new(
                format!("{}{SECRET_ID_SUFFIX}", var.name),
                "names a Secrets Manager secret, which only Config::load reads",
            ));
        }
        Ok(Self {
            common: Common::from_source(src)?,
            provider: P::from_source(src)?,
            secrets: None,
        })
    }
}

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
}

/// An event ready for the queue.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The message to send.
    pub message: Message,
    /// The event id.
    pub id: String,
    /// The envelope `type`.
    pub event_type: String,
    /// The normalized outcome.
    pub outcome: Outcome,
}

/// One provider's webhook endpoint in front of one sink.
pub struct Gate<P, S> {
    common: Common,
    // Swapped whole when a secret rotation is picked up.
    provider: RwLock<Arc<P>>,
    secrets: Option<SecretStore>,
    sink: S,
    clock: Clock,
}

impl<P: std::fmt::Debug, S> std::fmt::Debug for Gate<P, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("common", &self.common)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl<P: Provider, S: Sink> Gate<P, S> {
    /// A gate for `config`, sending to `sink`, on the system clock.
    pub fn new(config: Config<P>, sink: S) -> Self {
        Self {
            common: config.common,
            provider: RwLock::new(Arc::new(config.provider)),
            secrets: config.secrets,
            sink,
            clock: Arc::new(Utc::now),
        }
    }

    /// The same gate on another clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The sink.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Handles one request. Never fails and never panics: every outcome,
    /// including a queue failure, is a response.
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let started = Instant::now();
        let ctx = Context::of(&req);
        let mut prepared = self.prepare_with(&req, &ctx);
        if matches!(prepared, Err(Rejection::Unauthorized(_))) // Boxed: the SDK's read future is deep, and this path is rare.
            && Box::pin(self.refresh_secrets()).await
        {
            prepared = self.prepare_with(&req, &ctx);
        }
        let mut sqs_ms = None;
        let result = match prepared {
            Ok(Prepared {
                message,
                id,
                event_type,
                outcome,
            }) => {
                let sent = Instant::now();
                let send = self.sink.send(message).await;
                sqs_ms = Some(sent.elapsed().as_secs_f64() * 1000.0);
                match send {
                    Ok(()) => Ok((id, event_type, outcome)),
                    Err(e) => Err(Rejection::from(e)),
                }
            }
            Err(rejection) => Err(rejection),
        };
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let provider = P::SLUG;
        let request_id = ctx.request_id.as_deref().unwrap_or("");
        let mut metrics = RequestMetrics {
            provider,
            outcome: "rejected",
            counter: "Accepted",
            request_ms: latency_ms,
            sqs_ms,
            event_id: None,
            request_id,
        };
        let response = match &result {
            Ok((id, event_type, outcome)) => {
                tracing::info!(
                    provider,
                    event_type = %event_type,
                    outcome = outcome.as_str(),
                    event_id = %id,
                    request_id,
                    status = 200,
                    latency_ms,
                    "accepted"
                );
                metrics.outcome = outcome.as_str();
                metrics.event_id = Some(id);
                json_response(StatusCode::OK, &AcceptedBody { id })
            }
            Err(r) => {
                let status = r.status().as_u16();
                if r.status().is_server_error() {
                    tracing::error!(provider, request_id, status, error = r.code(), cause = %r, latency_ms, "refused");
                } else {
                    tracing::info!(provider, request_id, status, error = r.code(), cause = %r, latency_ms, "refused");
                }
                metrics.counter = counter_for(Some(r.code()));
                metrics.outcome = match r {
                    Rejection::QueueUnavailable(_) => "enqueue_failed",
                    Rejection::Internal(_) => "error",
                    _ => "rejected",
                };
                r.to_response()
            }
        };
        metrics.emit(Utc::now());
        response
    }

    /// Re-reads secrets kept in Secrets Manager (rate-limited) and rebuilds
    /// the provider with them; true when the keys may have changed.
    async fn refresh_secrets(&self) -> bool {
        let Some(store) = &self.secrets else {
            return false;
        };
        let Some(values) = store.refresh().await else {
            return false;
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
        check_content_type(req)?;
        let received_at = (self.clock)().trunc_subsecs(3);
        let inbound = Inbound {
            headers: req.headers(),
            query: req.uri().query(),
            source_ip: ctx.source_ip,
            body,
            now: received_at,
        };
        let provider = self.provider();
        let verified = provider.verify(&inbound)?;
        let text = parse_strict(verified.body())?;
        let normalized = provider
            .normalize(text, &verified)
            .map_err(Rejection::InvalidPayload)?;

        let id = event_id(P::SLUG, verified.body());
        // The JSON text goes into the envelope as it is (see below); a body
        // SQS cannot carry travels base64-encoded instead.
        let sqs_safe = body_is_sqs_safe(text);
        let payload_base64 = (!sqs_safe).then(|| STANDARD.encode(verified.body()));
        let verification = verified.verification();
        let event_type = format!("{}.{}", P::SLUG, normalized.type_suffix);
        let outcome = normalized.outcome;
        let fifo = self
            .sink
            .is_fifo()
            .then(|| fifo_ids(P::SLUG, &normalized.subject, &id));
        let envelope = Envelope {
            specversion: SPEC_VERSION.into(),
            id: id.clone(),
            source: format!("hookgate/{}", P::SLUG),
            event_type: event_type.clone(),
            subject: normalized.subject,
            time: normalized.time.unwrap_or(received_at),
            datacontenttype: "application/json".into(),
            data: Data {
                provider: P::SLUG.into(),
                event: normalized.event,
                outcome,
                resource: normalized.resource,
                status: normalized.status,
                outputs: normalized.outputs,
                error: normalized.error,
                received_at,
                request_id: ctx.request_id.clone(),
                verification: VerificationInfo {
                    scheme: verification.scheme.into(),
                    key_index: verification.key_index,
                },
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
                ("provider", P::SLUG.to_owned()),
                ("type", sqs_clean(&event_type).into_owned()),
                ("outcome", outcome.as_str().to_owned()),
            ],
            fifo,
            trace_header: ctx.trace_header.clone(),
        };
        if message.size() > self.sink.max_message_bytes() {
            return Err(Rejection::EnvelopeTooLarge(message.size()));
        }
        Ok(Prepared {
            message,
            id,
            event_type,
            outcome,
        })
    }
}

/// Absent, or `application/json` / `application/*+json` with any parameters.
fn check_content_type(req: &Request) -> Result<(), Rejection> {
    let mut values = req.headers().get_all(header::CONTENT_TYPE).iter();
    let Some(value) = values.next() else {
        return Ok(());
    };
    if values.next().is_some() {
        return Err(Rejection::UnsupportedMediaType);
    }
    let value = value
        .to_str()
        .map_err(|_| Rejection::UnsupportedMediaType)?;
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let ok = match essence.strip_prefix("application/") {
        Some("json") => true,
        Some(sub) => {
            sub.len() > "+json".len()
                && sub.ends_with("+json")
                && sub
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"/()<>@,;:\\\"[]?={}".contains(&b))
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Rejection::UnsupportedMediaType)
    }
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
