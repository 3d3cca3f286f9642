//! HMAC-SHA256 over the raw body, carried in one header (Redner's
//! `X-Redner-Signature`, sync.so's `X-Signature-Primary`).
//!
//! Only full 32-byte tags are accepted: a truncated tag is a forgery made
//! easier, never a provider's format.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{AuthError, Inbound, Secret, Signed, Verification, Verified, Verifier, single_header};
use crate::config::{ConfigError, Vars};

type HmacSha256 = Hmac<Sha256>;

/// Length of an HMAC-SHA256 tag.
pub const TAG_LEN: usize = 32;

/// Whether the header value carries a prefix such as `sha256=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// The value must start with this prefix (ASCII case-insensitive).
    Required(&'static str),
    /// The value may start with this prefix.
    Optional(&'static str),
}

/// How the tag is encoded in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 64 hex digits, either case.
    Hex,
    /// 64 hex digits, or base64 (standard or URL-safe, padded or not).
    HexOrBase64,
}

/// Where and how a provider puts its HMAC tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureFormat {
    /// The header's name.
    pub header: &'static str,
    /// The prefix rule.
    pub prefix: Prefix,
    /// The tag encoding.
    pub encoding: Encoding,
}

impl SignatureFormat {
    /// Decodes a header value into a tag, or says why it cannot be one.
    pub fn decode(&self, value: &str) -> Result<[u8; TAG_LEN], AuthError> {
        let malformed = AuthError::Malformed(self.header);
        let encoded = match self.prefix {
            Prefix::Required(p) => strip_prefix_ci(value, p).ok_or(malformed.clone())?,
            Prefix::Optional(p) => strip_prefix_ci(value, p).unwrap_or(value),
        };
        decode_tag(encoded, self.encoding).ok_or(malformed)
    }

    /// What a sender holding `key` puts on `body`: the tag in lowercase hex,
    /// after the prefix when one is required.
    pub fn sign(&self, key: &[u8], body: &[u8]) -> Signed {
        let tag = hex::encode(sign(key, &[body]));
        let value = match self.prefix {
            Prefix::Required(p) => format!("{p}{tag}"),
            Prefix::Optional(_) => tag,
        };
        Signed::header(self.header, value)
    }
}

fn strip_prefix_ci<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| value.get(prefix.len()..))
        .flatten()
}

/// Decodes a 32-byte tag; anything else (truncated, padded out, not the
/// encoding) is `None`.
pub(crate) fn decode_tag(encoded: &str, encoding: Encoding) -> Option<[u8; TAG_LEN]> {
    let mut tag = [0u8; TAG_LEN];
    if encoded.len() == 2 * TAG_LEN && hex::decode_to_slice(encoded, &mut tag).is_ok() {
        return Some(tag);
    }
    if encoding == Encoding::Hex {
        return None;
    }
    // At most 44 characters can encode 32 bytes; refuse longer input before
    // decoding so a huge header costs nothing.
    if encoded.len() > 44 {
        return None;
    }
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| {
            let mut out = [0u8; TAG_LEN + 3];
            match engine.decode_slice(encoded, &mut out) {
                Ok(TAG_LEN) => out.get(..TAG_LEN)?.try_into().ok(),
                _ => None,
            }
        })
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub fn sign(key: &[u8], parts: &[&[u8]]) -> [u8; TAG_LEN] {
    mac(key, parts).finalize().into_bytes().into()
}

fn mac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for part in parts {
        mac.update(part);
    }
    mac
}

/// The index of the first key whose tag over `parts` equals `tag`, compared
/// in constant time.
pub(crate) fn matching_key(keys: &[Secret], parts: &[&[u8]], tag: &[u8]) -> Option<usize> {
    keys.iter()
        .position(|key| mac(key.expose(), parts).verify_slice(tag).is_ok())
}

/// `keys` for a scheme, or the error naming `var`, which held them: a list
/// with no key, or an empty key, would let no delivery in.
pub(crate) fn usable_keys(keys: Vec<Secret>, var: &str) -> Result<Vec<Secret>, ConfigError> {
    if keys.is_empty() {
        return Err(ConfigError::new(var, "holds no secret"));
    }
    if keys.iter().any(|k| k.expose().is_empty()) {
        return Err(ConfigError::new(var, "holds an empty secret"));
    }
    Ok(keys)
}

/// Parses a comma-separated secret list from `var`; absent or empty fails.
pub fn secrets_from(vars: Vars<'_>, var: &str, hint: &str) -> Result<Vec<Secret>, ConfigError> {
    let list = vars
        .list(var)?
        .ok_or_else(|| ConfigError::new(var, format!("is not set: {hint}")))?;
    Ok(list
        .into_iter()
        .map(|s| Secret::new(s.into_bytes()))
        .collect())
}

/// HMAC-SHA256 of the raw body in one header.
#[derive(Debug, Clone)]
pub struct HmacScheme {
    format: SignatureFormat,
    keys: Vec<Secret>,
}

impl HmacScheme {
    /// The scheme's name in the envelope.
    pub const NAME: &'static str = "hmac-sha256";

    /// A scheme over `keys`, read from the variable `var`; no key may be
    /// empty, and there must be one.
    pub fn new(format: SignatureFormat, keys: Vec<Secret>, var: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            format,
            keys: usable_keys(keys, var)?,
        })
    }

    /// The header this scheme reads.
    pub fn header(&self) -> &'static str {
        self.format.header
    }
}

impl Verifier for HmacScheme {
    fn verify<'a>(&self, req: &Inbound<'a>) -> Result<Verified<'a>, AuthError> {
        let header = self.format.header;
        let value = single_header(req.headers, header)?.ok_or(AuthError::Missing(header))?;
        let tag = self.format.decode(value)?;
        let key_index =
            matching_key(&self.keys, &[req.body], &tag).ok_or(AuthError::NoMatch(header))?;
        Ok(Verified::new(
            req.body,
            Verification {
                scheme: Self::NAME,
                key_index,
                signed_at: None,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    const REDNER: SignatureFormat = SignatureFormat {
        header: "x-redner-signature",
        prefix: Prefix::Required("sha256="),
        encoding: Encoding::Hex,
    };
    const LOOSE: SignatureFormat = SignatureFormat {
        header: "x-signature-primary",
        prefix: Prefix::Optional("sha256="),
        encoding: Encoding::HexOrBase64,
    };

    fn scheme(format: SignatureFormat, keys: &[&str]) -> HmacScheme {
        HmacScheme::new(
            format,
            keys.iter().map(|k| Secret::new(k.as_bytes())).collect(),
            "KEYS",
        )
        .unwrap()
    }

    fn check(s: &HmacScheme, values: &[&str], body: &[u8]) -> Result<usize, AuthError> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(s.header(), HeaderValue::from_str(v).unwrap());
        }
        let req = Inbound {
            headers: &headers,
            query: None,
            source_ip: None,
            body,
            now: chrono::Utc::now(),
        };
        s.verify(&req).map(|v| v.verification().key_index)
    }

    #[test]
    fn known_answer() {
        // RFC 4231 test case 2: key "Jefe".
        let tag = sign(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Redner's documented computation: 'sha256=' + hmac(secret, body).hexdigest(),
        // as computed by Python's hmac module for this secret and body.
        let body = br#"{"event":"job.completed","timestamp":"2025-11-23T12:34:56Z","data":{"jobId":"job_abc123","status":"merged"}}"#;
        assert_eq!(
            hex::encode(sign(b"whsec_test", &[body])),
            "f8c414dce8065b0836ce997a72abc4f683c44af5a7f4c649adb8b591aa22adbd"
        );
    }

    #[test]
    fn sign_makes_what_verify_accepts() {
        let body = b"{\"a\":1}";
        let signed = REDNER.sign(b"k", body);
        let (name, value) = &signed.headers[0];
        assert_eq!(*name, REDNER.header);
        assert_eq!(
            *value,
            format!("sha256={}", hex::encode(sign(b"k", &[body])))
        );
        assert_eq!(check(&scheme(REDNER, &["k"]), &[value], body), Ok(0));
        let loose = LOOSE.sign(b"k", body);
        assert_eq!(loose.headers[0].1, hex::encode(sign(b"k", &[body])));
        assert_eq!(
            check(&scheme(LOOSE, &["k"]), &[&loose.headers[0].1], body),
            Ok(0)
        );
    }

    #[test]
    fn accepts_valid_and_rotated() {
        let s = scheme(REDNER, &["old-secret", "new-secret"]);
        let body = b"{\"a\":1}";
        let new = format!("sha256={}", hex::encode(sign(b"new-secret", &[body])));
        let old = format!(
            "SHA256={}",
            hex::encode(sign(b"old-secret", &[body])).to_uppercase()
        );
        assert_eq!(check(&s, &[&new], body), Ok(1));
        assert_eq!(check(&s, &[&old], body), Ok(0));
        assert_eq!(check(&s, &[&format!("  {new} ")], body), Ok(1));
    }

    #[test]
    fn any_bit_flip_fails() {
        let secret = "s3cret";
        let body = b"{\"event\":\"job.created\"}".to_vec();
        let tag = sign(secret.as_bytes(), &[&body]);
        let s = scheme(REDNER, &[secret]);
        for i in 0..body.len() * 8 {
            let mut b = body.clone();
            b[i / 8] ^= 1 << (i % 8);
            let v = format!("sha256={}", hex::encode(tag));
            assert_eq!(check(&s, &[&v], &b), Err(AuthError::NoMatch(REDNER.header)));
        }
        for i in 0..TAG_LEN * 8 {
            let mut t = tag;
            t[i / 8] ^= 1 << (i % 8);
            let v = format!("sha256={}", hex::encode(t));
            assert!(check(&s, &[&v], &body).is_err());
        }
        let key = secret.as_bytes();
        for i in 0..key.len() * 8 {
            let mut k = key.to_vec();
            k[i / 8] ^= 1 << (i % 8);
            let v = format!("sha256={}", hex::encode(sign(&k, &[&body])));
            assert!(check(&s, &[&v], &body).is_err());
        }
    }

    #[test]
    fn malformed_headers_fail() {
        let s = scheme(REDNER, &["k"]);
        let body = b"{}";
        let hexed = hex::encode(sign(b"k", &[body]));
        let good = format!("sha256={hexed}");
        assert_eq!(check(&s, &[], body), Err(AuthError::Missing(REDNER.header)));
        let malformed = Err(AuthError::Malformed(REDNER.header));
        for bad in [
            "",
            "sha256=",
            "garbage",
            hexed.as_str(),                      // prefix required
            &good[..good.len() - 2],             // truncated
            &format!("{good}00"),                // too long
            &format!("sha1={hexed}"),            // wrong prefix
            &format!("{good},{good}"),           // comma-joined repeat
            &format!("sha256={}", &hexed[..32]), // truncated tag
        ] {
            assert_eq!(check(&s, &[bad], body), malformed, "{bad:?}");
        }
        assert_eq!(check(&s, &[&good, &good], body), malformed);
    }

    #[test]
    fn loose_format_takes_hex_or_base64() {
        let s = scheme(LOOSE, &["k"]);
        let body = b"{}";
        let tag = sign(b"k", &[body]);
        for v in [
            hex::encode(tag),
            format!("sha256={}", hex::encode(tag)),
            STANDARD.encode(tag),
            STANDARD_NO_PAD.encode(tag),
            URL_SAFE.encode(tag),
            format!("sha256={}", STANDARD.encode(tag)),
        ] {
            assert_eq!(check(&s, &[&v], body), Ok(0), "{v}");
        }
        assert!(check(&s, &[&STANDARD.encode(&tag[..16])], body).is_err());
        assert!(check(&s, &[&STANDARD.encode([tag, tag].concat())], body).is_err());
    }

    #[test]
    fn empty_key_list_is_refused() {
        let err = |keys| {
            HmacScheme::new(REDNER, keys, "KEYS")
                .unwrap_err()
                .to_string()
        };
        assert_eq!(err(vec![]), "KEYS holds no secret");
        assert_eq!(err(vec![Secret::new(*b"")]), "KEYS holds an empty secret");
        assert_eq!(format!("{:?}", Secret::new(*b"hunter2")), "[redacted]");
    }
}
