//! Verification schemes: proving that a request's raw bytes come from the
//! provider before anything reads them.
//!
//! Each scheme is a type built once at cold start from configuration (keys
//! parsed, secrets checked) and then shared by every request. A scheme holds
//! a list of keys so one can be rotated without downtime: a request passes
//! if any key matches. All comparisons are constant-time.
//!
//! Passing verification is the only way to obtain a [`Verified`] body, so
//! code that normalizes an unauthenticated body cannot be written.

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use http::HeaderMap;

pub mod es256;
pub mod hmac;
pub mod timestamped;
pub mod token;

pub use self::es256::Es256Scheme;
pub use self::hmac::{HmacScheme, SignatureFormat};
pub use self::timestamped::TimestampedScheme;
pub use self::token::TokenScheme;

/// What a scheme may look at: the request as received, nothing parsed.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The raw query string, without the `?`.
    pub query: Option<&'a str>,
    /// The caller's address as API Gateway saw it.
    pub source_ip: Option<IpAddr>,
    /// The raw body bytes, exactly as received.
    pub body: &'a [u8],
    /// The time of receipt, for schemes with a freshness window.
    pub now: DateTime<Utc>,
}

/// Which scheme and key accepted a request; it goes into the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    /// The scheme's name, e.g. `hmac-sha256`.
    pub scheme: &'static str,
    /// Index of the configured key that matched.
    pub key_index: usize,
    /// A signed timestamp (Unix seconds) when the scheme carries one.
    pub signed_at: Option<i64>,
}

/// A body that passed verification. Only this crate makes one: a scheme of
/// this module once it verified the body, or the quarantine replay for a
/// body that was verified on receipt.
#[derive(Clone, Copy)]
pub struct Verified<'a> {
    body: &'a [u8],
    verification: Verification,
}

impl<'a> Verified<'a> {
    pub(crate) fn new(body: &'a [u8], verification: Verification) -> Self {
        Self { body, verification }
    }

    /// The authenticated raw bytes.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// How the body was authenticated.
    pub fn verification(&self) -> Verification {
        self.verification
    }
}

impl fmt::Debug for Verified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the body: it may hold personal data.
        f.debug_struct("Verified")
            .field("body_len", &self.body.len())
            .field("verification", &self.verification)
            .finish()
    }
}

/// Why a request was not authenticated. Logged, never sent to the caller:
/// telling a forger which check failed helps the forger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The credential header or parameter is absent.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// The credential is present but not in the expected form.
    #[error("{0} is malformed")]
    Malformed(&'static str),
    /// The credential is well formed but no configured key matches.
    #[error("no configured key matches {0}")]
    NoMatch(&'static str),
    /// The signed timestamp is outside the tolerance window.
    #[error("the signed timestamp is outside the tolerance window")]
    Stale,
    /// The request's algorithm label names an algorithm other than the scheme's.
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(String),
    /// The caller's address is not in the allow-list.
    #[error("source address is not allowed")]
    SourceNotAllowed,
}

/// What a sender adds to a request to authenticate it: what a scheme's
/// `sign` makes, the inverse of its `verify`. The CLI, the tests, fuzzing
/// and the benchmarks make every credential this way.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Signed {
    /// Headers, names in lower case.
    pub headers: Vec<(&'static str, String)>,
    /// A query parameter: its name and its value, not yet percent-encoded.
    pub query: Option<(&'static str, String)>,
}

impl Signed {
    /// One header.
    pub fn header(name: &'static str, value: String) -> Self {
        Self {
            headers: vec![(name, value)],
            query: None,
        }
    }

    /// One query parameter.
    pub fn query(name: &'static str, value: String) -> Self {
        Self {
            headers: Vec::new(),
            query: Some((name, value)),
        }
    }

    /// The query parameter as a query string carries it, form-urlencoded.
    pub fn query_string(&self) -> Option<String> {
        self.query.as_ref().map(|(name, value)| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair(name, value)
                .finish()
        })
    }
}

impl fmt::Debug for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: a token is its own credential.
        let headers: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Signed")
            .field("headers", &headers)
            .field("query", &self.query.as_ref().map(|(name, _)| *name))
            .finish()
    }
}

/// A verification scheme.
pub trait Verifier: Send + Sync + fmt::Debug {
    /// Authenticates `req`, returning the verified body.
    fn verify<'a>(&self, req: &Inbound<'a>) -> Result<Verified<'a>, AuthError>;
}

/// The one value of header `name`. API Gateway joins repeated headers with
/// commas, so a comma (or a second header line) means more values than the
/// credential's format allows.
pub(crate) fn single_header<'a>(
    headers: &'a HeaderMap,
    name: &'static str,
) -> Result<Option<&'a str>, AuthError> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::Malformed(name));
    }
    let value = first
        .to_str()
        .map_err(|_| AuthError::Malformed(name))?
        .trim();
    if value.contains(',') {
        return Err(AuthError::Malformed(name));
    }
    Ok(Some(value))
}

/// A secret byte string whose `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(Box<[u8]>);

impl Secret {
    /// Wraps a secret.
    pub fn new(bytes: impl Into<Box<[u8]>>) -> Self {
        Self(bytes.into())
    }

    /// The secret's bytes, for keying a MAC or comparing in constant time.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
