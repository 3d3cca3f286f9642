//! The four providers as a caller sees them: how each one's function is
//! configured, how it authenticates a delivery, and a valid delivery that can
//! be made unique (for load runs, where every delivery needs its own id).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use hookgate::verify::TimestampedScheme;
use hookgate::verify::hmac::sign;

use crate::apigw::Event;

/// Panjaya's repository test key pair (never a production key).
pub const PANJAYA_PRIVATE: &str =
    include_str!("../../shared/tests/fixtures/panjaya/TEST-ONLY-private-key.pem");
/// The public half, as `PANJAYA_PUBLIC_KEYS` takes it.
pub const PANJAYA_PUBLIC: &str =
    include_str!("../../shared/tests/fixtures/panjaya/TEST-ONLY-public-key.pem");

/// One provider's function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// ES256 over the body, `X-Signature`.
    Panjaya,
    /// Timestamped HMAC, `Sync-Signature`.
    Syncso,
    /// A shared token in the query string.
    Namirial,
    /// HMAC over the body, `X-Redner-Signature`.
    Redner,
}

impl Provider {
    /// All four, in a fixed order.
    pub const ALL: [Self; 4] = [Self::Panjaya, Self::Syncso, Self::Namirial, Self::Redner];

    /// The slug: binary name, `source` suffix, id prefix.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Panjaya => "panjaya",
            Self::Syncso => "syncso",
            Self::Namirial => "namirial",
            Self::Redner => "redner",
        }
    }

    /// The variables that configure its credentials.
    pub fn env(self) -> Vec<(&'static str, &'static str)> {
        match self {
            Self::Panjaya => vec![("PANJAYA_PUBLIC_KEYS", PANJAYA_PUBLIC)],
            Self::Syncso => vec![("SYNCSO_WEBHOOK_SECRETS", "whsec_old,whsec_current")],
            Self::Namirial => vec![(
                "NAMIRIAL_TOKENS",
                "old-token-0123456789,new-token-abcdefghij",
            )],
            Self::Redner => vec![("REDNER_WEBHOOK_SECRETS", "whsec_previous,whsec_current")],
        }
    }

    /// The header that carries the credential (`None`: the query string does).
    pub fn credential_header(self) -> Option<&'static str> {
        match self {
            Self::Panjaya => Some("x-signature"),
            Self::Syncso => Some("sync-signature"),
            Self::Namirial => None,
            Self::Redner => Some("x-redner-signature"),
        }
    }

    /// The credential for `body`, as the provider makes it with the secrets
    /// of [`Provider::env`]: a header value, or for Namirial the query string.
    pub fn credential(self, body: &[u8]) -> String {
        self.credential_with(body, b"whsec_current", "new-token-abcdefghij")
    }

    /// Like [`Provider::credential`], with another HMAC secret and token
    /// (Panjaya always signs with the repository's test key).
    pub fn credential_with(self, body: &[u8], secret: &[u8], token: &str) -> String {
        match self {
            Self::Panjaya => hex::encode(panjaya_sign(body)),
            Self::Syncso => {
                TimestampedScheme::header_value(secret, chrono::Utc::now().timestamp(), body)
            }
            Self::Namirial => format!("token={token}"),
            Self::Redner => format!("sha256={}", hex::encode(sign(secret, &[body]))),
        }
    }

    /// The provider whose slug is `slug`.
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.slug() == slug)
    }

    /// An authenticated POST of `body`.
    pub fn signed(self, body: impl Into<Vec<u8>>) -> Event {
        let body = body.into();
        let credential = self.credential(&body);
        self.with_credential(body, &credential)
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
        match self {
            Self::Panjaya => format!(
                r#"{{"event":"version_ready","asset_id":"asset_{n}","version_id":"ver_{n}","version_locale":"es-ES"}}"#
            ),
            Self::Syncso => format!(
                r#"{{"id":"gen_{n}","status":"COMPLETED","createdAt":"2025-11-23T12:30:00Z","model":"lipsync-2","input":[{{"type":"video","url":"https://example.com/v.mp4"}}],"outputUrl":"https://example.com/out.mp4","error":null}}"#
            ),
            Self::Namirial => format!(
                r#"{{"event_type":"REQUEST_ENROLLED","sent_at":"20251123123456","request":{{"status":"ISSUED","profile":"PFnubeQAFCiudadano","registration_authority":152,"pk":{n}}}}}"#
            ),
            Self::Redner => format!(
                r#"{{"event":"job.completed","timestamp":"2025-11-23T12:34:56Z","data":{{"jobId":"job_{n}","status":"merged","apiProduct":"dub"}}}}"#
            ),
        }
    }

    /// A valid delivery carrying `text` (JSON string content, escapes
    /// included, written into the body as is) in a free-text field and in
    /// the resource id where that is a string.
    pub fn with_text(self, text: &str) -> String {
        match self {
            Self::Panjaya => format!(
                r#"{{"event":"version_ready","asset_id":"asset_{text}","version_id":"ver_1","version_locale":"{text}"}}"#
            ),
            Self::Syncso => format!(
                r#"{{"id":"gen_{text}","status":"COMPLETED","createdAt":"2025-11-23T12:30:00Z","model":"{text}","input":[{{"type":"video","url":"https://example.com/v.mp4"}}],"outputUrl":"https://example.com/out.mp4"}}"#
            ),
            Self::Namirial => format!(
                r#"{{"event_type":"REQUEST_ENROLLED","sent_at":"20251123123456","request":{{"status":"ISSUED","profile":"{text}","registration_authority":152,"pk":40213}}}}"#
            ),
            Self::Redner => format!(
                r#"{{"event":"job.completed","timestamp":"2025-11-23T12:34:56Z","data":{{"jobId":"job_{text}","status":"merged","apiProduct":"{text}"}}}}"#
            ),
        }
    }

    /// The sample with its resource id of the wrong type: valid JSON that
    /// cannot be normalized (a 422, or quarantined).
    pub fn wrong_type(self) -> &'static str {
        match self {
            Self::Panjaya => r#"{"event":"version_ready","asset_id":42,"version_id":"ver_1"}"#,
            Self::Syncso => r#"{"id":7,"status":"COMPLETED"}"#,
            Self::Namirial => {
                r#"{"event_type":"REQUEST_ENROLLED","sent_at":"20251123123456","request":{"status":"ISSUED","pk":[40213]}}"#
            }
            Self::Redner => {
                r#"{"event":"job.completed","timestamp":"2025-11-23T12:34:56Z","data":{"jobId":12,"status":"merged"}}"#
            }
        }
    }
}

fn panjaya_sign(body: &[u8]) -> Vec<u8> {
    use std::sync::LazyLock;
    static KEY: LazyLock<EcdsaKeyPair> = LazyLock::new(|| {
        let (label, der) = pem_rfc7468::decode_vec(PANJAYA_PRIVATE.as_bytes()).expect("PEM");
        assert_eq!(label, "PRIVATE KEY");
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &der).expect("PKCS#8 P-256 key")
    });
    KEY.sign(&SystemRandom::new(), body)
        .expect("sign")
        .as_ref()
        .to_vec()
}
