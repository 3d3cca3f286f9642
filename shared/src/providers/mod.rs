//! Providers: each knows its verification scheme, its payload schema and how
//! its events map onto the envelope. Everything else is shared.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::config::{ConfigError, Source};
use crate::envelope::{ErrorInfo, Outcome, Output, Resource};
use crate::gate::{AnyGate, Clock, Gate};
use crate::json::Detail;
use crate::sink::MemorySink;
use crate::verify::es256::{KeyError, SigningKey};
use crate::verify::{AuthError, Inbound, Secret, Signed, Verified};

pub mod namirial;
pub mod panjaya;
pub mod redner;
pub mod syncso;

pub use namirial::Namirial;
pub use panjaya::Panjaya;
pub use redner::Redner;
pub use syncso::Syncso;

/// What a provider extracts from a verified, schema-checked payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The provider's own event name (or status, where it sends no event).
    pub event: String,
    /// The envelope `type` after `<slug>.`.
    pub type_suffix: String,
    /// The provider's resource id; never empty.
    pub subject: String,
    /// When it happened, if the provider says (else receipt time is used).
    pub time: Option<DateTime<Utc>>,
    /// The normalized outcome.
    pub outcome: Outcome,
    /// What the event is about.
    pub resource: Resource,
    /// The provider's own status, if any.
    pub status: Option<String>,
    /// Produced files.
    pub outputs: Vec<Output>,
    /// The provider's error, on failures.
    pub error: Option<ErrorInfo>,
}

/// What a sender of a provider's deliveries holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A shared secret that keys an HMAC.
    Secret,
    /// A shared token, sent as it is.
    Token,
    /// The private half of a key pair; the function holds the public half.
    PrivateKey,
}

impl CredentialKind {
    /// Its name in messages and in the CLI's flags: `secret`, `token`, `key`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::Token => "token",
            Self::PrivateKey => "key",
        }
    }
}

/// A sender's credential, loaded.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A shared secret or token.
    Shared(Secret),
    /// A private key.
    PrivateKey(Arc<SigningKey>),
}

/// One way a provider authenticates a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Its name, as the CLI's `--style` takes it.
    pub name: &'static str,
    /// What it sends, for help and documentation.
    pub about: &'static str,
    /// The function setting (variable, value) without which it is refused.
    pub requires: Option<(&'static str, &'static str)>,
}

/// A provider's sample delivery, for the tests, fuzzing and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// A valid delivery. `{n}` stands for a number that makes it unique
    /// (its resource id ends with it, so the event id differs); `{text}`
    /// for the content of a JSON string in a free-text field.
    pub template: &'static str,
    /// What `{text}` usually is.
    pub text: &'static str,
    /// Valid JSON whose resource id has the wrong type: authenticated but
    /// unusable, so quarantined (or a 422 without a quarantine queue).
    pub unusable: &'static str,
}

impl Sample {
    /// The valid delivery numbered `n`.
    pub fn valid(&self, n: u64) -> String {
        self.with_text(n, self.text)
    }

    /// The valid delivery numbered `n` carrying `text`.
    pub fn with_text(&self, n: u64, text: &str) -> String {
        self.template
            .replace("{n}", &n.to_string())
            .replace("{text}", text)
    }
}

/// How a provider's deliveries are made: what the CLI, the tests, fuzzing
/// and the benchmarks need to send one as the provider does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sender {
    /// The provider's name as people write it.
    pub name: &'static str,
    /// What a sender holds.
    pub credential: CredentialKind,
    /// The ways it authenticates a delivery; the first is its usual one.
    pub styles: &'static [Style],
    /// For a credential that carries a signed time, which goes stale: the
    /// variable that sets how far from the function's clock it may be.
    pub signed_time: Option<&'static str>,
    /// Whether its credential covers the body, so a changed body is caught.
    pub covers_body: bool,
    /// A sample delivery.
    pub sample: Sample,
}

impl Sender {
    /// The style named `name`, or the usual one when `name` is `None`.
    pub fn style(&self, name: Option<&str>) -> Result<&'static Style, SignError> {
        let styles = self.styles;
        match name {
            None => styles.first().ok_or(SignError::Style(String::new())),
            Some(name) => styles
                .iter()
                .find(|s| s.name == name)
                .ok_or_else(|| SignError::Style(name.to_owned())),
        }
    }
}

/// Why a delivery could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The credential is not of the kind the provider's sender holds.
    #[error("a {0} is needed")]
    Credential(&'static str),
    /// No style of that name.
    #[error("no signing style {0:?}")]
    Style(String),
    /// The private key could not sign.
    #[error("the private key {0}")]
    Key(#[from] KeyError),
}

impl Credential {
    /// The shared secret or token, or the error a provider needing `kind`
    /// gives for a private key.
    pub fn shared(&self, kind: CredentialKind) -> Result<&[u8], SignError> {
        match self {
            Self::Shared(s) => Ok(s.expose()),
            Self::PrivateKey(_) => Err(SignError::Credential(kind.name())),
        }
    }

    /// What the function's credential variable holds to accept this
    /// credential: the secret or token itself, or the public key's PEM.
    pub fn configured_as(&self) -> Result<String, KeyError> {
        match self {
            Self::Shared(s) => Ok(String::from_utf8_lossy(s.expose()).into_owned()),
            Self::PrivateKey(k) => k.public_pem(),
        }
    }

    /// The private key, or the error for a shared secret.
    pub fn private_key(&self) -> Result<&SigningKey, SignError> {
        match self {
            Self::PrivateKey(k) => Ok(k),
            Self::Shared(_) => Err(SignError::Credential(CredentialKind::PrivateKey.name())),
        }
    }
}

/// One webhook provider.
pub trait Provider: Send + Sync + Sized + fmt::Debug + 'static {
    /// The slug: package, binary, `source`, `type` prefix, attribute, id.
    const SLUG: &'static str;

    /// The variables holding its secrets or keys: each may instead name a
    /// Secrets Manager secret in `<VAR>_SECRET_ID`.
    const SECRET_VARS: &'static [crate::secrets::SecretVar];

    /// Builds the provider (its verification keys above all) from
    /// configuration; any problem fails the cold start.
    fn from_source(src: &dyn Source) -> Result<Self, ConfigError>;

    /// How its deliveries are made.
    const SENDER: Sender;

    /// Authenticates the raw request.
    fn verify<'a>(&self, req: &Inbound<'a>) -> Result<Verified<'a>, AuthError>;

    /// Authenticates `body` as the provider's sender does, in `style` (one
    /// of [`Sender::styles`]) at Unix time `now`: the inverse of
    /// [`Provider::verify`], and the one way the project makes a credential.
    fn sign(
        credential: &Credential,
        style: &Style,
        body: &[u8],
        now: i64,
    ) -> Result<Signed, SignError>;

    /// Reads the strict-parsed JSON `text` (any JSON value) of a verified
    /// body and maps it onto the envelope's fields. Only the fields the
    /// envelope uses are read, leniently; every problem with a required one
    /// is reported. Needs no keys, so a delivery can be normalized again
    /// without any configured.
    fn normalize(text: &str, verified: &Verified<'_>) -> Result<Normalized, Vec<Detail>>;
}

/// A provider as code that does not know its type sees it: the quarantine
/// replay, the CLI, the test harness, fuzzing, the benchmarks, and the
/// tests that check every part of the project names every provider.
#[derive(Clone, Copy)]
pub struct Registered {
    /// [`Provider::SLUG`].
    pub slug: &'static str,
    /// [`Provider::SECRET_VARS`].
    pub secret_vars: &'static [crate::secrets::SecretVar],
    /// [`Provider::SENDER`].
    pub sender: Sender,
    /// [`Provider::normalize`].
    pub normalize: fn(&str, &Verified<'_>) -> Result<Normalized, Vec<Detail>>,
    /// [`Provider::sign`].
    pub sign: fn(&Credential, &Style, &[u8], i64) -> Result<Signed, SignError>,
    /// A gate configured from a source, sending to a [`MemorySink`], on a
    /// clock: for code that runs every provider in one process.
    pub gate: fn(&dyn Source, MemorySink, Clock) -> Result<AnyGate, ConfigError>,
}

impl Registered {
    const fn of<P: Provider>() -> Self {
        Self {
            slug: P::SLUG,
            secret_vars: P::SECRET_VARS,
            sender: P::SENDER,
            normalize: P::normalize,
            sign: P::sign,
            gate: memory_gate::<P>,
        }
    }

    /// The variable holding the function's credentials (or keys).
    pub fn credential_var(&self) -> &'static str {
        self.secret_vars.first().map_or("", |v| v.name)
    }

    /// Signs `body` in the style named `style` (the usual one for `None`).
    pub fn sign_as(
        &self,
        credential: &Credential,
        style: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<Signed, SignError> {
        (self.sign)(credential, self.sender.style(style)?, body, now)
    }
}

fn memory_gate<P: Provider>(
    src: &dyn Source,
    sink: MemorySink,
    clock: Clock,
) -> Result<AnyGate, ConfigError> {
    let config = crate::config::Config::<P>::from_source(src)?;
    Ok(Box::new(Gate::new(config, sink).with_clock(clock)))
}

impl fmt::Debug for Registered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registered")
            .field("slug", &self.slug)
            .finish_non_exhaustive()
    }
}

/// Every provider hookgate has: a new one is one line here. The CLI, the
/// test harness, fuzzing, the load run, the benchmarks and the scripts that
/// write the sample events, env.json and the schemas' provider lists read
/// it; a test checks that the template, env.json, the events, the schemas
/// and the README name every provider listed.
pub static REGISTRY: &[Registered] = &[
    Registered::of::<Panjaya>(),
    Registered::of::<Syncso>(),
    Registered::of::<Namirial>(),
    Registered::of::<Redner>(),
];

/// The registered provider named `slug`.
pub fn registered(slug: &str) -> Option<&'static Registered> {
    REGISTRY.iter().find(|r| r.slug == slug)
}

/// Logs a value hookgate does not know yet and returns `Outcome::Unknown`,
/// so new provider values are forwarded rather than refused.
pub(crate) fn unknown(provider: &str, what: &str, value: &str) -> Outcome {
    tracing::warn!(
        provider,
        field = what,
        value = %crate::envelope::sqs_clean(value),
        "unknown value forwarded with outcome unknown"
    );
    Outcome::Unknown
}

/// Reads a provider timestamp: RFC 3339, or a zone-less date-time (read as
/// UTC) in the forms the providers use. `None` if it is none of these.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    const NAIVE: [&str; 5] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y%m%d%H%M%S",
        "%Y%m%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ];
    NAIVE
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .map(|n| n.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Ev, fixed_now};
    use crate::verify::es256::test_key;

    /// A credential of `kind` and the settings that make a function of
    /// `r` accept it in every style.
    fn credential_and_vars(r: &Registered) -> (Credential, Vec<(&'static str, String)>) {
        let credential = match r.sender.credential {
            CredentialKind::PrivateKey => Credential::PrivateKey(test_key::signing_key()),
            _ => Credential::Shared(Secret::new(*b"registry-test-credential-0123")),
        };
        let mut vars = vec![
            (
                "QUEUE_URL",
                "http://127.0.0.1:1/123456789012/events".to_owned(),
            ),
            (r.credential_var(), credential.configured_as().unwrap()),
        ];
        vars.extend(
            r.sender
                .styles
                .iter()
                .filter_map(|s| s.requires)
                .map(|(var, value)| (var, value.to_owned())),
        );
        (credential, vars)
    }

    fn request(r: &Registered, signed: &Signed, body: &[u8]) -> lambda_http::Request {
        let headers: serde_json::Map<String, serde_json::Value> = signed
            .headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone().into()))
            .collect();
        let path = format!("/webhooks/{}", r.slug);
        let query = signed.query_string().unwrap_or_default();
        Ev {
            path: &path,
            query: &query,
            headers: headers.into(),
            body,
            ..Ev::default()
        }
        .request()
    }

    #[tokio::test]
    async fn every_sender_signs_what_its_function_accepts() {
        let now = fixed_now().timestamp();
        for r in REGISTRY {
            let (credential, vars) = credential_and_vars(r);
            let src: std::collections::HashMap<&str, &str> =
                vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let sink = MemorySink::default();
            let gate = (r.gate)(&src, sink.clone(), Arc::new(fixed_now)).unwrap();
            assert_eq!(gate.slug(), r.slug);
            let body = r.sender.sample.valid(7);
            for style in r.sender.styles {
                let signed = (r.sign)(&credential, style, body.as_bytes(), now).unwrap();
                let resp = gate.handle(request(r, &signed, body.as_bytes())).await;
                assert_eq!(resp.status(), 200, "{} {}", r.slug, style.name);
                assert_eq!(sink.take().len(), 1, "{} {}", r.slug, style.name);
            }
            // Unsigned: refused. Another body under the same credential:
            // refused exactly when the credential covers the body.
            let unsigned = gate.handle(request(r, &Signed::default(), body.as_bytes()));
            assert_eq!(unsigned.await.status(), 401, "{}", r.slug);
            let signed = r.sign_as(&credential, None, body.as_bytes(), now).unwrap();
            let other = r.sender.sample.valid(8);
            let resp = gate.handle(request(r, &signed, other.as_bytes())).await;
            let want = if r.sender.covers_body { 401 } else { 200 };
            assert_eq!(resp.status(), want, "{}", r.slug);
            if r.sender.signed_time.is_some() {
                let stale = r
                    .sign_as(&credential, None, body.as_bytes(), now - 3600)
                    .unwrap();
                let resp = gate.handle(request(r, &stale, body.as_bytes())).await;
                assert_eq!(resp.status(), 401, "{}", r.slug);
            }
            // The unusable sample is authenticated but cannot be normalized.
            let unusable = r.sender.sample.unusable.as_bytes();
            let signed = r.sign_as(&credential, None, unusable, now).unwrap();
            let resp = gate.handle(request(r, &signed, unusable)).await;
            assert_eq!(resp.status(), 422, "{}", r.slug);
            // The wrong kind of credential, and an unknown style, say so.
            let wrong = match credential {
                Credential::Shared(_) => Credential::PrivateKey(test_key::signing_key()),
                Credential::PrivateKey(_) => Credential::Shared(Secret::new(*b"x")),
            };
            assert!(matches!(
                r.sign_as(&wrong, None, b"{}", now),
                Err(SignError::Credential(_))
            ));
            assert!(matches!(
                r.sign_as(&credential, Some("no-such-style"), b"{}", now),
                Err(SignError::Style(_))
            ));
            drop(sink.take());
        }
    }

    #[test]
    fn samples_fill_in_their_number_and_text() {
        for r in REGISTRY {
            let sample = r.sender.sample;
            let (a, b) = (sample.valid(1), sample.valid(2));
            assert_ne!(a, b, "{}", r.slug);
            assert!(!a.contains("{n}") && !a.contains("{text}"), "{a}");
            assert!(
                sample.with_text(1, "q\\u00e9").contains("q\\u00e9"),
                "{}",
                r.slug
            );
            let parsed: serde_json::Value = serde_json::from_str(&a).unwrap();
            assert!(parsed.is_object(), "{}", r.slug);
        }
    }

    #[test]
    fn times() {
        let at = |s: &str| parse_time(s).map(|t| t.to_rfc3339());
        let noon = Some("2025-11-23T12:34:56+00:00".to_owned());
        assert_eq!(at("2025-11-23T12:34:56Z"), noon);
        assert_eq!(at("2025-11-23T14:34:56+02:00"), noon);
        assert_eq!(at("2025-11-23T12:34:56"), noon);
        assert_eq!(at("20251123123456"), noon);
        assert_eq!(at("20251123 12:34:56"), noon);
        assert_eq!(
            at("2021-07-20T08:08:21.132394"),
            Some("2021-07-20T08:08:21.132394+00:00".into())
        );
        assert_eq!(at("2025-11-23"), Some("2025-11-23T00:00:00+00:00".into()));
        for bad in ["", "yesterday", "2025-13-45T00:00:00Z", "99999999999999"] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }
}
