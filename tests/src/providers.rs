//! The registered providers as a caller sees them: how each one's function
//! is configured, how its sender authenticates a delivery, and a valid
//! delivery that can be made unique (for load runs, where every delivery
//! needs its own id).
//!
//! Nothing here names a provider: each one's sender, samples and credential
//! variable come from its module in the library, through the registry, so
//! every test written over [`Provider::all`] covers a new provider too.

use std::future::Future;

use hookgate::providers::{Credential, CredentialKind, REGISTRY, Registered};
use hookgate::verify::es256::test_key;
use hookgate::verify::{Secret, Signed};

use crate::apigw::Event;

/// The shared secrets a test function holds, old and current, and the
/// current one, which the harness signs with.
const SECRETS: (&str, &str) = ("whsec_previous,whsec_current", "whsec_current");
/// The same for tokens.
const TOKENS: (&str, &str) = (
    "old-token-0123456789,new-token-abcdefghij",
    "new-token-abcdefghij",
);

/// One registered provider's function.
#[derive(Debug, Clone, Copy)]
pub struct Provider(&'static Registered);

impl PartialEq for Provider {
    fn eq(&self, other: &Self) -> bool {
        self.slug() == other.slug()
    }
}

impl Eq for Provider {}

impl Provider {
    /// Every registered provider, in registry order.
    pub fn all() -> impl Iterator<Item = Self> {
        REGISTRY.iter().map(Self)
    }

    /// The provider whose slug is `slug`.
    pub fn from_slug(slug: &str) -> Option<Self> {
        hookgate::providers::registered(slug).map(Self)
    }

    /// The provider `slug`, for a test about that provider alone.
    pub fn named(slug: &str) -> Self {
        Self::from_slug(slug).unwrap_or_else(|| panic!("no provider {slug:?}"))
    }

    /// The slug: binary name, `source` suffix, id prefix.
    pub fn slug(self) -> &'static str {
        self.0.slug
    }

    /// The library's description of it.
    pub fn registered(self) -> &'static Registered {
        self.0
    }

    /// What its sender holds.
    pub fn credential_kind(self) -> CredentialKind {
        self.0.sender.credential
    }

    /// The variables that configure its credentials: two, for a rotation,
    /// of which the harness signs with the second.
    pub fn env(self) -> Vec<(&'static str, &'static str)> {
        let value = match self.credential_kind() {
            CredentialKind::Secret => SECRETS.0,
            CredentialKind::Token => TOKENS.0,
            CredentialKind::PrivateKey => test_key::PUBLIC_PEM,
        };
        vec![(self.0.credential_var(), value)]
    }

    /// The credential its sender holds, matching [`Provider::env`].
    pub fn sender_credential(self) -> Credential {
        self.credential_of(SECRETS.1, TOKENS.1)
    }

    /// A credential of the kind its sender holds: `secret` or `token`, or
    /// the test key pair's private half.
    pub fn credential_of(self, secret: &str, token: &str) -> Credential {
        match self.credential_kind() {
            CredentialKind::Secret => Credential::Shared(Secret::new(secret.as_bytes())),
            CredentialKind::Token => Credential::Shared(Secret::new(token.as_bytes())),
            CredentialKind::PrivateKey => Credential::PrivateKey(test_key::signing_key()),
        }
    }

    /// What its sender adds to `body`, signed now, with `credential`.
    pub fn sign_with(self, credential: &Credential, body: &[u8]) -> Signed {
        self.0
            .sign_as(credential, None, body, chrono::Utc::now().timestamp())
            .expect("the harness signs as the provider does")
    }

    /// The header that carries the credential (`None`: the query string does).
    pub fn credential_header(self) -> Option<&'static str> {
        self.sign_with(&self.sender_credential(), b"{}")
            .headers
            .first()
            .map(|(name, _)| *name)
    }

    /// The credential for `body`, as the provider makes it with the secrets
    /// of [`Provider::env`]: a header value, or the query string.
    pub fn credential(self, body: &[u8]) -> String {
        self.credential_with(&self.sender_credential(), body)
    }

    /// Like [`Provider::credential`], with another credential.
    pub fn credential_with(self, credential: &Credential, body: &[u8]) -> String {
        let signed = self.sign_with(credential, body);
        match (signed.headers.first(), signed.query_string()) {
            (Some((_, value)), _) => value.clone(),
            (None, Some(query)) => query,
            (None, None) => String::new(),
        }
    }

    /// An authenticated POST of `body`.
    pub fn signed(self, body: impl Into<Vec<u8>>) -> Event {
        let body = body.into();
        let signed = self.sign_with(&self.sender_credential(), &body);
        let mut event = Event::post(self.slug(), body);
        for (name, value) in &signed.headers {
            event = event.header(name, value);
        }
        match signed.query_string() {
            Some(query) => event.query(&query),
            None => event,
        }
    }

    /// A POST of `body` carrying `credential` (made for any body).
    pub fn with_credential(self, body: impl Into<Vec<u8>>, credential: &str) -> Event {
        let event = Event::post(self.slug(), body);
        match self.credential_header() {
            Some(header) => event.header(header, credential),
            None => event.query(credential),
        }
    }

    /// A POST of `body` with no credential at all.
    pub fn unsigned(self, body: impl Into<Vec<u8>>) -> Event {
        Event::post(self.slug(), body)
    }

    /// A valid delivery; `n` makes it (and so its event id) unique.
    pub fn sample(self, n: u64) -> String {
        self.0.sender.sample.valid(n)
    }

    /// A valid delivery carrying `text` (JSON string content, escapes
    /// included, written into the body as is) in a free-text field.
    pub fn with_text(self, text: &str) -> String {
        self.0.sender.sample.with_text(1, text)
    }

    /// Valid JSON with its resource id of the wrong type: authenticated but
    /// unusable (a 422, or quarantined).
    pub fn wrong_type(self) -> &'static str {
        self.0.sender.sample.unusable
    }
}

/// Runs `check` for every registered provider, all at once; a failure is
/// the failing provider's panic.
pub async fn each<F, Fut>(check: F)
where
    F: Fn(Provider) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for p in Provider::all() {
        set.spawn(check(p));
    }
    while let Some(done) = set.join_next().await {
        if let Err(e) = done {
            match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("a provider's check did not finish: {e}"),
            }
        }
    }
}
