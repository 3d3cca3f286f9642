//! Providers: each knows its verification scheme, its payload schema and how
//! its events map onto the envelope. Everything else is shared.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::config::{ConfigError, Source};
use crate::envelope::{ErrorInfo, Outcome, Output, Resource};
use crate::json::Detail;
use crate::verify::{AuthError, Inbound, Verified};

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

    /// Authenticates the raw request.
    fn verify<'a>(&self, req: &Inbound<'a>) -> Result<Verified<'a>, AuthError>;

    /// Reads the strict-parsed JSON `text` (any JSON value) of a verified
    /// body and maps it onto the envelope's fields. Only the fields the
    /// envelope uses are read, leniently; every problem with a required one
    /// is reported. Needs no keys, so a delivery can be normalized again
    /// without any configured.
    fn normalize(text: &str, verified: &Verified<'_>) -> Result<Normalized, Vec<Detail>>;
}

/// A provider as code that does not know its type sees it: the quarantine
/// replay, and the tests that check every part of the project names every
/// provider.
#[derive(Clone, Copy)]
pub struct Registered {
    /// [`Provider::SLUG`].
    pub slug: &'static str,
    /// [`Provider::SECRET_VARS`].
    pub secret_vars: &'static [crate::secrets::SecretVar],
    /// [`Provider::normalize`].
    pub normalize: fn(&str, &Verified<'_>) -> Result<Normalized, Vec<Detail>>,
}

impl Registered {
    const fn of<P: Provider>() -> Self {
        Self {
            slug: P::SLUG,
            secret_vars: P::SECRET_VARS,
            normalize: P::normalize,
        }
    }
}

impl fmt::Debug for Registered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registered")
            .field("slug", &self.slug)
            .finish_non_exhaustive()
    }
}

/// Every provider hookgate has. A new one is added here; a test checks that
/// the template, env.json, the sample events, the schemas and the test
/// harness name every provider listed.
pub const REGISTRY: [Registered; 4] = [
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
