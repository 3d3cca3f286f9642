//! Wycheproof's HMAC-SHA256 vectors through `HmacScheme`, sent as header
//! values the way a request carries them (Redner's `sha256=<hex>`, and
//! sync.so's hex or base64).
//!
//! Vectors with a full 32-byte tag must go the way the vector says. Every
//! vector with a truncated tag is refused, the valid ones included: a
//! truncated tag is correct HMAC, but hookgate accepts only full tags, as
//! no provider sends less and each byte dropped makes forging easier.
//!
//! A vector with an empty key cannot be run through the scheme: an empty
//! secret is a configuration mistake, so the scheme refuses to be built
//! with one, and that refusal is what such a vector checks. (The vector
//! file shipped now has no empty key; the check stands for when it does.)
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hookgate::providers::{redner, syncso};
use hookgate::verify::hmac::{TAG_LEN, sign};
use hookgate::verify::{AuthError, HmacScheme, Inbound, Secret, SignatureFormat, Verifier};
use http::{HeaderMap, HeaderValue};
use wycheproof::TestResult;
use wycheproof::mac::{TestName, TestSet};

fn check(
    scheme: &HmacScheme,
    format: SignatureFormat,
    value: &str,
    msg: &[u8],
) -> Result<(), AuthError> {
    let mut headers = HeaderMap::new();
    headers.insert(format.header, HeaderValue::from_str(value).unwrap());
    let req = Inbound {
        headers: &headers,
        query: None,
        source_ip: None,
        body: msg,
        now: chrono::Utc::now(),
    };
    scheme
        .verify(&req)
        .map(|v| assert_eq!(v.verification().key_index, 0))
}

/// The header values a sender could write `tag` as, in `format`.
fn values(format: SignatureFormat, tag: &[u8]) -> Vec<String> {
    let mut out = vec![format!("sha256={}", hex::encode(tag))];
    if format == syncso::SIGNATURE_PRIMARY {
        out.push(hex::encode_upper(tag));
        out.push(STANDARD.encode(tag));
    }
    out
}

#[test]
fn wycheproof_hmac_sha256() {
    let set = TestSet::load(TestName::HmacSha256).unwrap();
    let (mut full_valid, mut full_invalid, mut cut_valid, mut cut_invalid, mut empty_keys) =
        (0, 0, 0, 0, 0);
    for group in &set.test_groups {
        for t in &group.tests {
            let what = format!("tcId {} ({}), {}-byte tag", t.tc_id, t.comment, t.tag.len());
            for format in [redner::SIGNATURE, syncso::SIGNATURE_PRIMARY] {
                let Ok(scheme) =
                    HmacScheme::new(format, vec![Secret::new(t.key.as_slice())], "KEYS")
                else {
                    assert!(t.key.is_empty(), "{what}: a non-empty key refused");
                    continue;
                };
                assert!(!t.key.is_empty(), "{what}: an empty key accepted");
                for value in values(format, &t.tag) {
                    let got = check(&scheme, format, &value, &t.msg);
                    if t.tag.len() != TAG_LEN {
                        // Refused for its form, before any MAC is computed.
                        assert_eq!(got, Err(AuthError::Malformed(format.header)), "{what}");
                        continue;
                    }
                    match t.result {
                        TestResult::Valid => assert_eq!(got, Ok(()), "{what}"),
                        TestResult::Invalid => {
                            assert_eq!(got, Err(AuthError::NoMatch(format.header)), "{what}");
                        }
                        TestResult::Acceptable => {}
                    }
                }
            }
            if t.key.is_empty() {
                empty_keys += 1;
                continue;
            }
            let full = t.tag.len() == TAG_LEN;
            let valid = t.result == TestResult::Valid;
            if valid {
                // The vector's tag is the start of this crate's MAC: a
                // truncated valid tag is refused although it is right.
                let mac = sign(&t.key, &[&t.msg]);
                assert_eq!(&mac[..t.tag.len()], t.tag.as_slice(), "{what}");
            }
            match (full, valid) {
                (true, true) => full_valid += 1,
                (true, false) => full_invalid += 1,
                (false, true) => cut_valid += 1,
                (false, false) => cut_invalid += 1,
            }
        }
    }
    // The whole file ran, and it holds every kind of vector.
    assert_eq!(
        full_valid + full_invalid + cut_valid + cut_invalid + empty_keys,
        set.number_of_tests
    );
    for (kind, n) in [
        ("full valid", full_valid),
        ("full invalid", full_invalid),
        ("truncated valid", cut_valid),
        ("truncated invalid", cut_invalid),
    ] {
        assert!(n > 10, "{kind}: only {n}");
    }
}
