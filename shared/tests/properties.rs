//! Properties of every verification scheme, over arbitrary bodies, keys and
//! timestamps: what a sender holding the key signs verifies, and flipping
//! any one bit of the body, the signature, the signed timestamp or the key
//! makes it fail. Each case flips one randomly chosen bit of each.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::net::IpAddr;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair,
    EcdsaSigningAlgorithm, KeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeZone as _, Utc};
use hookgate::providers::{redner, syncso};
use hookgate::verify::es256::SIGNATURE_HEADER;
use hookgate::verify::hmac::sign;
use hookgate::verify::token::HEADER as TOKEN_HEADER;
use hookgate::verify::{
    AuthError, Es256Scheme, HmacScheme, Inbound, Secret, SignatureFormat, TimestampedScheme,
    TokenScheme, Verification, Verifier,
};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use proptest::sample::Index;

const CASES: u32 = 256;

/// `bytes` with one bit, picked by `bit`, flipped.
fn flip(bytes: &[u8], bit: Index) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let i = bit.index(out.len() * 8);
    out[i / 8] ^= 1 << (i % 8);
    out
}

fn verify(
    scheme: &dyn Verifier,
    headers: &[(&'static str, String)],
    query: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Verification, AuthError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    let req = Inbound {
        headers: &map,
        query,
        source_ip: None::<IpAddr>,
        body,
        now,
    };
    scheme.verify(&req).map(|v| {
        assert_eq!(v.body(), body);
        v.verification()
    })
}

fn at(t: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(t, 0).unwrap()
}

/// How the plain HMAC header is written: Redner's `sha256=<hex>`, or one
/// of the forms sync.so's `X-Signature-Primary` takes.
fn hmac_value(format: SignatureFormat, style: u8, tag: &[u8]) -> String {
    if format == redner::SIGNATURE {
        return format!("sha256={}", hex::encode(tag));
    }
    match style % 3 {
        0 => hex::encode(tag),
        1 => STANDARD.encode(tag),
        _ => format!("sha256={}", hex::encode_upper(tag)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn hmac(
        body in prop::collection::vec(any::<u8>(), 0..512),
        key in prop::collection::vec(any::<u8>(), 1..100),
        other in prop::collection::vec(any::<u8>(), 1..100),
        primary in any::<bool>(),
        style in any::<u8>(),
        bits in any::<[Index; 3]>(),
    ) {
        prop_assume!(key != other);
        let format = if primary { syncso::SIGNATURE_PRIMARY } else { redner::SIGNATURE };
        let now = Utc::now();
        let tag = sign(&key, &[&body]);
        let value = |tag: &[u8]| vec![(format.header, hmac_value(format, style, tag))];
        // Rotation: the signing key is the second one configured.
        let both = HmacScheme::new(format, vec![Secret::new(other.clone()), Secret::new(key.clone())], "KEYS").unwrap();
        prop_assert_eq!(verify(&both, &value(&tag), None, &body, now).map(|v| v.key_index), Ok(1));

        let only = HmacScheme::new(format, vec![Secret::new(key.clone())], "KEYS").unwrap();
        let no_match = Err(AuthError::NoMatch(format.header));
        if !body.is_empty() {
            let flipped = flip(&body, bits[0]);
            prop_assert_eq!(verify(&only, &value(&tag), None, &flipped, now), no_match.clone());
        }
        let flipped = flip(&tag, bits[1]);
        prop_assert_eq!(verify(&only, &value(&flipped), None, &body, now), no_match.clone());
        let forged = sign(&flip(&key, bits[2]), &[&body]);
        prop_assert_eq!(verify(&only, &value(&forged), None, &body, now), no_match);
    }

    #[test]
    fn timestamped(
        body in prop::collection::vec(any::<u8>(), 0..512),
        key in prop::collection::vec(any::<u8>(), 1..100),
        t in 0i64..=4_102_444_800,
        tolerance in 1u64..=86_400,
        skew in any::<u64>(),
        edge in any::<Option<bool>>(),
        bits in any::<[Index; 3]>(),
        t_bit in 0u32..64,
    ) {
        let header = syncso::SYNC_SIGNATURE;
        let scheme = TimestampedScheme::new(header, vec![Secret::new(key.clone())], "KEYS", tolerance).unwrap();
        // Anywhere within the window, often right on one of its edges.
        let tol = tolerance as i64;
        let delta = match edge {
            Some(late) => if late { tol } else { -tol },
            None => (skew % (2 * tolerance + 1)) as i64 - tol,
        };
        let now = at(t + delta);
        let value = |t: i64, tag: &[u8]| vec![(header, format!("t={t},v1={}", hex::encode(tag)))];
        let tag = sign(&key, &[t.to_string().as_bytes(), b".", &body]);
        prop_assert_eq!(
            verify(&scheme, &value(t, &tag), None, &body, now),
            Ok(Verification { scheme: TimestampedScheme::NAME, key_index: 0, signed_at: Some(t) })
        );
        prop_assert_eq!(
            verify(&scheme, &[(header, TimestampedScheme::header_value(&key, t, &body))], None, &body, now)
                .map(|v| v.signed_at),
            Ok(Some(t))
        );

        // One second past either edge, the same delivery is stale.
        for outside in [t - tol - 1, t + tol + 1] {
            prop_assert_eq!(verify(&scheme, &value(t, &tag), None, &body, at(outside)), Err(AuthError::Stale));
        }

        let no_match = Err(AuthError::NoMatch(header));
        if !body.is_empty() {
            let flipped = flip(&body, bits[0]);
            prop_assert_eq!(verify(&scheme, &value(t, &tag), None, &flipped, now), no_match.clone());
        }
        let flipped = flip(&tag, bits[1]);
        prop_assert_eq!(verify(&scheme, &value(t, &flipped), None, &body, now), no_match.clone());
        // Another `t` under the same tag: stale, unmatched, or (negative)
        // malformed, but never accepted.
        let moved = t ^ (1i64 << t_bit);
        prop_assert!(verify(&scheme, &value(moved, &tag), None, &body, now).is_err());
        let forged = TimestampedScheme::header_value(&flip(&key, bits[2]), t, &body);
        prop_assert_eq!(verify(&scheme, &[(header, forged)], None, &body, now), no_match);
    }

    #[test]
    fn es256(
        body in prop::collection::vec(any::<u8>(), 0..512),
        secret in any::<[u8; 32]>(),
        raw in any::<bool>(),
        bits in any::<[Index; 4]>(),
    ) {
        let Some((key, pem)) = p256_key(&secret, raw) else {
            // Zero or past the group order: not a private key.
            return Ok(());
        };
        let scheme = Es256Scheme::from_pem(&pem).unwrap();
        let now = Utc::now();
        let sig = key.sign(&SystemRandom::new(), &body).unwrap().as_ref().to_vec();
        let value = |sig: &[u8]| vec![(SIGNATURE_HEADER, hex::encode(sig))];
        prop_assert_eq!(verify(&scheme, &value(&sig), None, &body, now).map(|v| v.key_index), Ok(0));

        if !body.is_empty() {
            let flipped = flip(&body, bits[0]);
            prop_assert_eq!(
                verify(&scheme, &value(&sig), None, &flipped, now),
                Err(AuthError::NoMatch(SIGNATURE_HEADER))
            );
        }
        // A flipped signature may stop being DER at all; either way it fails.
        prop_assert!(verify(&scheme, &value(&flip(&sig, bits[1])), None, &body, now).is_err());
        // The configured public key with a bit of the point flipped: refused
        // at start, or it does not verify. The flip is in the coordinates
        // (the SPKI's last 64 bytes): the bytes before them are encoding, and
        // a flip there may spell the same key (form byte 0x04 becomes 0x06 or
        // 0x07, the hybrid form of the same point), not another one.
        let mut spki = pem_rfc7468::decode_vec(pem.as_bytes()).unwrap().1;
        let coords = spki.len() - 64;
        let point = flip(&spki[coords..], bits[2]);
        spki[coords..].copy_from_slice(&point);
        let flipped = pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &spki).unwrap();
        if let Ok(other) = Es256Scheme::from_pem(&flipped) {
            prop_assert!(verify(&other, &value(&sig), None, &body, now).is_err());
        }
        // A signer whose private key differs by one bit is someone else.
        if let Some((stranger, _)) = p256_key(&flip(&secret, bits[3]), raw) {
            let forged = stranger.sign(&SystemRandom::new(), &body).unwrap().as_ref().to_vec();
            prop_assert_eq!(
                verify(&scheme, &value(&forged), None, &body, now),
                Err(AuthError::NoMatch(SIGNATURE_HEADER))
            );
        }
    }

    #[test]
    fn token(
        token in "[!-+\\--~]{16,64}",
        in_query in any::<bool>(),
        bits in any::<[Index; 2]>(),
    ) {
        let scheme = TokenScheme::new(&[Secret::new(token.as_bytes())], "TOKENS", None, "CIDRS").unwrap();
        let now = Utc::now();
        let present = |t: &[u8]| -> Result<Verification, AuthError> {
            if in_query {
                let query: String = ["token=".to_owned()]
                    .into_iter()
                    .chain(form_urlencoded::byte_serialize(t).map(str::to_owned))
                    .collect();
                verify(&scheme, &[], Some(&query), b"{}", now)
            } else {
                // A flipped byte may not be a header value; the query
                // carries any bytes.
                match std::str::from_utf8(t).ok().filter(|s| HeaderValue::from_str(s).is_ok() && !s.contains(',') && s.trim() == *s) {
                    Some(s) => verify(&scheme, &[(TOKEN_HEADER, s.to_owned())], None, b"{}", now),
                    None => {
                        let query: String = form_urlencoded::byte_serialize(t).collect();
                        verify(&scheme, &[], Some(&format!("token={query}")), b"{}", now)
                    }
                }
            }
        };
        prop_assert_eq!(present(token.as_bytes()).map(|v| v.key_index), Ok(0));
        let flipped = flip(token.as_bytes(), bits[0]);
        prop_assert_eq!(present(&flipped), Err(AuthError::NoMatch("token")));
        let other = TokenScheme::new(&[Secret::new(flip(token.as_bytes(), bits[1]))], "TOKENS", None, "CIDRS").unwrap();
        let query = form_urlencoded::Serializer::new(String::new()).append_pair("token", &token).finish();
        prop_assert_eq!(
            verify(&other, &[], Some(&query), b"{}", now),
            Err(AuthError::NoMatch("token"))
        );
    }
}

/// A P-256 signing key with private scalar `secret` (DER or `r||s`
/// signatures) and its public key as PEM; `None` if `secret` is not a
/// valid scalar.
fn p256_key(secret: &[u8], raw: bool) -> Option<(EcdsaKeyPair, String)> {
    // RFC 5915 ECPrivateKey { version 1, privateKey, [0] prime256v1 },
    // without the optional public key, which AWS-LC derives.
    let der = [
        &[0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20][..],
        secret,
        &[
            0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
        ],
    ]
    .concat();
    let alg: &'static EcdsaSigningAlgorithm = if raw {
        &ECDSA_P256_SHA256_FIXED_SIGNING
    } else {
        &ECDSA_P256_SHA256_ASN1_SIGNING
    };
    let key = EcdsaKeyPair::from_private_key_der(alg, &der).ok()?;
    let spki = key.public_key().as_der().unwrap();
    let pem = pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, spki.as_ref())
        .unwrap();
    Some((key, pem))
}
