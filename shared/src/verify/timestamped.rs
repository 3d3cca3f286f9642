//! Timestamped HMAC-SHA256 (sync.so's `Sync-Signature: t=<unix seconds>,v1=<hex>`).
//!
//! The tag covers `"<t>." + raw body`, so the timestamp cannot be changed
//! without the key, and a delivery captured once stops being accepted when
//! `t` leaves the tolerance window. The secret is keyed as its UTF-8 bytes,
//! `whsec_` prefix included: that is how the provider computes the tag.
//!
//! The header value is a comma-separated list of `key=value` items:
//! exactly one `t`, at least one and at most [`MAX_TAGS`] `v1` (a sender
//! rotating its own secret may send one per secret; any may match; a header
//! with more is refused, so no request can make the function compare
//! thousands of tags), and unknown keys ignored, so a
//! sender can add a future scheme (`v2`) beside `v1` without breaking
//! receivers. Ignoring them costs nothing: acceptance still needs a valid
//! `v1` over the signed `t`, which a forger cannot produce.
//!
//! API Gateway joins repeated headers with commas. This format uses commas
//! itself, so a joined duplicate cannot be split apart reliably; it shows
//! as a second `t`, which is refused, as is a second header line.

use subtle::ConstantTimeEq as _;

use super::hmac::{Encoding, TAG_LEN, decode_tag, sign, usable_keys};
use super::{AuthError, Inbound, Secret, Signed, Verification, Verified, Verifier};
use crate::config::ConfigError;

/// The most `v1` tags one header may carry.
pub const MAX_TAGS: usize = 5;

/// HMAC-SHA256 over `"<t>." + raw body`, with a freshness window on `t`.
#[derive(Debug, Clone)]
pub struct TimestampedScheme {
    header: &'static str,
    keys: Vec<Secret>,
    tolerance_seconds: u64,
}

/// A header value taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parsed<'a> {
    /// `t` exactly as sent: the tag covers these bytes, not a reformatted number.
    t_text: &'a str,
    /// `t` as Unix seconds.
    t: i64,
    /// Every `v1` tag.
    tags: Vec<[u8; TAG_LEN]>,
}

impl TimestampedScheme {
    /// The scheme's name in the envelope.
    pub const NAME: &'static str = "hmac-sha256-timestamped";

    /// The tolerance used when none is configured.
    pub const DEFAULT_TOLERANCE_SECONDS: u64 = 300;

    /// A scheme reading `header` (lowercase), over `keys` read from the
    /// variable `var` (one at least, none empty), accepting `|now - t|` up
    /// to `tolerance_seconds`.
    pub fn new(
        header: &'static str,
        keys: Vec<Secret>,
        var: &str,
        tolerance_seconds: u64,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            header,
            keys: usable_keys(keys, var)?,
            tolerance_seconds,
        })
    }

    /// The header this scheme reads.
    pub fn header(&self) -> &'static str {
        self.header
    }

    /// The header value a sender holding `key` puts on `body` at `t`.
    pub fn header_value(key: &[u8], t: i64, body: &[u8]) -> String {
        let t = t.to_string();
        let tag = sign(key, &[t.as_bytes(), b".", body]);
        format!("t={t},v1={}", hex::encode(tag))
    }

    /// What a sender holding `key` puts on `body` at Unix time `t`: the
    /// [`header_value`](Self::header_value) in `header`.
    pub fn sign(header: &'static str, key: &[u8], t: i64, body: &[u8]) -> Signed {
        Signed::header(header, Self::header_value(key, t, body))
    }

    fn parse<'a>(&self, value: &'a str) -> Result<Parsed<'a>, AuthError> {
        let malformed = || AuthError::Malformed(self.header);
        let mut t_text = None;
        let mut tags = Vec::new();
        for item in value.split(',') {
            let (key, val) = item.trim().split_once('=').ok_or_else(malformed)?;
            match key {
                // A second `t` is how a duplicated header arrives.
                "t" if t_text.is_some() => return Err(malformed()),
                "t" => t_text = Some(val),
                // Hex only: that is what the sender writes, and a second
                // encoding would only widen what a forger can try.
                "v1" if tags.len() == MAX_TAGS => return Err(malformed()),
                "v1" => tags.push(decode_tag(val, Encoding::Hex).ok_or_else(malformed)?),
                // An empty key (`=x`, or an empty item) is not a format
                // anyone sends.
                "" => return Err(malformed()),
                _ => {}
            }
        }
        let t_text = t_text.ok_or_else(malformed)?;
        // Digits only: no sign, no spaces. A value past i64 fails to parse
        // rather than wrapping.
        if t_text.is_empty() || !t_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        let t = t_text.parse::<i64>().map_err(|_| malformed())?;
        if tags.is_empty() {
            return Err(malformed());
        }
        Ok(Parsed { t_text, t, tags })
    }
}

impl Verifier for TimestampedScheme {
    fn verify<'a>(&self, req: &Inbound<'a>) -> Result<Verified<'a>, AuthError> {
        let header = self.header;
        let mut lines = req.headers.get_all(header).iter();
        let value = lines.next().ok_or(AuthError::Missing(header))?;
        if lines.next().is_some() {
            return Err(AuthError::Malformed(header));
        }
        let value = value.to_str().map_err(|_| AuthError::Malformed(header))?;
        let parsed = self.parse(value)?;

        // Freshness before the MAC: a replayed or absurd `t` is refused
        // without hashing the body. `abs_diff` cannot overflow for any pair
        // of i64, so neither a huge `t` nor a far-off clock can panic.
        if req.now.timestamp().abs_diff(parsed.t) > self.tolerance_seconds {
            return Err(AuthError::Stale);
        }

        // One MAC per key, compared with every `v1`: the work does not
        // grow with the number of tags a caller sends.
        let parts: [&[u8]; 3] = [parsed.t_text.as_bytes(), b".", req.body];
        let key_index = self
            .keys
            .iter()
            .position(|key| {
                let expected = sign(key.expose(), &parts);
                parsed
                    .tags
                    .iter()
                    .fold(subtle::Choice::from(0), |any, tag| {
                        any | expected.as_slice().ct_eq(tag.as_slice())
                    })
                    .into()
            })
            .ok_or(AuthError::NoMatch(header))?;
        Ok(Verified::new(
            req.body,
            Verification {
                scheme: Self::NAME,
                key_index,
                signed_at: Some(parsed.t),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone as _, Utc};
    use http::{HeaderMap, HeaderValue};

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as STANDARD_B64;

    const HEADER: &str = "sync-signature";
    const SECRET: &str = "whsec_syncso_test_secret";
    /// 2025-11-23T12:34:56Z.
    const T: i64 = 1_763_901_296;
    const BODY: &str = r#"{"status":"COMPLETED","createdAt":"2025-11-23T12:30:00Z","id":"gen_7f3a","input":[{"type":"video","url":"https://example.com/video.mp4"},{"type":"audio","url":"https://example.com/audio.mp3"}],"model":"lipsync-2","error":"","error_code":"","options":{},"outputDuration":10,"outputUrl":"https://example.com/output.mp4","segmentOutputUrl":"https://example.com/segment_output.mp4","webhookUrl":"https://example.com/webhook"}"#;

    fn scheme(keys: &[&str]) -> TimestampedScheme {
        TimestampedScheme::new(
            HEADER,
            keys.iter().map(|k| Secret::new(k.as_bytes())).collect(),
            "KEYS",
            TimestampedScheme::DEFAULT_TOLERANCE_SECONDS,
        )
        .unwrap()
    }

    fn at(t: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(t, 0).unwrap()
    }

    fn check(
        s: &TimestampedScheme,
        values: &[&str],
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Verification, AuthError> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(HEADER, HeaderValue::from_str(v).unwrap());
        }
        let req = Inbound {
            headers: &headers,
            query: None,
            source_ip: None,
            body,
            now,
        };
        s.verify(&req).map(|v| v.verification())
    }

    fn good(secret: &str, t: i64, body: &[u8]) -> String {
        TimestampedScheme::header_value(secret.as_bytes(), t, body)
    }

    #[test]
    fn known_answer() {
        // sync.so's documented computation, run once in Python:
        //   hmac.new(b"whsec_syncso_test_secret", f"{t}.{body}".encode(),
        //            hashlib.sha256).hexdigest()
        // with t = 1763901296 and BODY; the secret is used as text, not
        // base64-decoded.
        let expected =
            "t=1763901296,v1=005e674bc1825a5f7b974494349d2229e3018b400044e994972a9fedc521bb03";
        assert_eq!(good(SECRET, T, BODY.as_bytes()), expected);
        let v = check(&scheme(&[SECRET]), &[expected], BODY.as_bytes(), at(T + 1)).unwrap();
        assert_eq!(
            v,
            Verification {
                scheme: "hmac-sha256-timestamped",
                key_index: 0,
                signed_at: Some(T),
            }
        );
    }

    #[test]
    fn tolerance_is_inclusive_in_both_directions() {
        let s = scheme(&[SECRET]);
        let body = BODY.as_bytes();
        let sig = good(SECRET, T, body);
        for offset in [-300, -299, -1, 0, 1, 299, 300] {
            assert!(check(&s, &[&sig], body, at(T + offset)).is_ok(), "{offset}");
        }
        for offset in [-301, 301, 3600, -3600] {
            assert_eq!(
                check(&s, &[&sig], body, at(T + offset)),
                Err(AuthError::Stale),
                "{offset}"
            );
        }
        // Sub-second receipt times count by whole seconds of `now`.
        let late = at(T + 300) + chrono::Duration::milliseconds(999);
        assert!(check(&s, &[&sig], body, late).is_ok());
        // A delivery signed an hour ago.
        let old = good(SECRET, T - 3600, body);
        assert_eq!(check(&s, &[&old], body, at(T)), Err(AuthError::Stale));
    }

    #[test]
    fn configured_tolerance_applies() {
        let s = TimestampedScheme::new(HEADER, vec![Secret::new(SECRET.as_bytes())], "KEYS", 5)
            .unwrap();
        let sig = good(SECRET, T, b"{}");
        assert!(check(&s, &[&sig], b"{}", at(T + 5)).is_ok());
        assert_eq!(check(&s, &[&sig], b"{}", at(T - 6)), Err(AuthError::Stale));
    }

    #[test]
    fn any_bit_flip_fails() {
        let s = scheme(&[SECRET]);
        let body = BODY.as_bytes();
        let tag = sign(SECRET.as_bytes(), &[T.to_string().as_bytes(), b".", body]);
        let value = |t: &str, tag: &[u8]| format!("t={t},v1={}", hex::encode(tag));
        let now = at(T);
        assert!(check(&s, &[&value(&T.to_string(), &tag)], body, now).is_ok());
        for i in 0..body.len() * 8 {
            let mut b = body.to_vec();
            b[i / 8] ^= 1 << (i % 8);
            let v = value(&T.to_string(), &tag);
            assert_eq!(check(&s, &[&v], &b, now), Err(AuthError::NoMatch(HEADER)));
        }
        for i in 0..TAG_LEN * 8 {
            let mut t = tag;
            t[i / 8] ^= 1 << (i % 8);
            let v = value(&T.to_string(), &t);
            assert_eq!(check(&s, &[&v], body, now), Err(AuthError::NoMatch(HEADER)));
        }
        // A changed timestamp, still within the window, breaks the tag.
        for t in [T - 1, T + 1, T ^ 1, T ^ 4] {
            let v = value(&t.to_string(), &tag);
            assert_eq!(check(&s, &[&v], body, now), Err(AuthError::NoMatch(HEADER)));
        }
        // The same number written differently is different signed text.
        let v = value(&format!("0{T}"), &tag);
        assert_eq!(check(&s, &[&v], body, now), Err(AuthError::NoMatch(HEADER)));
        let key = SECRET.as_bytes();
        for i in 0..key.len() * 8 {
            let mut k = key.to_vec();
            k[i / 8] ^= 1 << (i % 8);
            let v = TimestampedScheme::header_value(&k, T, body);
            assert_eq!(check(&s, &[&v], body, now), Err(AuthError::NoMatch(HEADER)));
        }
        // The untimed tag over the body alone is not a timestamped tag.
        let plain = value(&T.to_string(), &sign(key, &[body]));
        assert_eq!(
            check(&s, &[&plain], body, now),
            Err(AuthError::NoMatch(HEADER))
        );
    }

    #[test]
    fn rotation_and_several_tags() {
        let s = scheme(&["whsec_old", "whsec_new"]);
        let body = b"{\"id\":\"g\"}";
        let now = at(T);
        assert_eq!(
            check(&s, &[&good("whsec_new", T, body)], body, now).map(|v| v.key_index),
            Ok(1)
        );
        assert_eq!(
            check(&s, &[&good("whsec_old", T, body)], body, now).map(|v| v.key_index),
            Ok(0)
        );
        let tag =
            |k: &str| hex::encode(sign(k.as_bytes(), &[T.to_string().as_bytes(), b".", body]));
        // Any v1 may match, in any position, and unknown keys are ignored.
        for v in [
            format!("t={T},v1={},v1={}", tag("whsec_other"), tag("whsec_new")),
            format!("v1={},t={T}", tag("whsec_new")),
            format!("t={T},v0={},v1={}", "ab".repeat(32), tag("whsec_new")),
            format!("t={T}, v1={} ,scheme=x", tag("whsec_new").to_uppercase()),
        ] {
            assert_eq!(
                check(&s, &[&v], body, now).map(|v| v.key_index),
                Ok(1),
                "{v}"
            );
        }
        let v = format!("t={T},v1={},v1={}", tag("whsec_x"), tag("whsec_y"));
        assert_eq!(check(&s, &[&v], body, now), Err(AuthError::NoMatch(HEADER)));
    }

    #[test]
    fn at_most_a_handful_of_tags() {
        let s = scheme(&["whsec_new"]);
        let body = b"{\"id\":\"g\"}";
        let now = at(T);
        let tag =
            |k: &str| hex::encode(sign(k.as_bytes(), &[T.to_string().as_bytes(), b".", body]));
        let with = |others: usize| {
            let mut v = format!("t={T}");
            for i in 0..others {
                v.push_str(&format!(",v1={}", tag(&format!("whsec_other{i}"))));
            }
            v.push_str(&format!(",v1={}", tag("whsec_new")));
            v
        };
        // The valid tag last, after the most other tags allowed: accepted.
        assert_eq!(
            check(&s, &[&with(MAX_TAGS - 1)], body, now).map(|v| v.key_index),
            Ok(0)
        );
        // One more tag, even with the valid one among them: refused unread.
        assert_eq!(
            check(&s, &[&with(MAX_TAGS)], body, now),
            Err(AuthError::Malformed(HEADER))
        );
        assert_eq!(
            check(&s, &[&with(5_000)], body, now),
            Err(AuthError::Malformed(HEADER))
        );
    }

    #[test]
    fn malformed_headers_fail() {
        let s = scheme(&[SECRET]);
        let body = BODY.as_bytes();
        let now = at(T);
        let sig = good(SECRET, T, body);
        let hexed = sig.split_once("v1=").unwrap().1.to_owned();
        assert_eq!(check(&s, &[], body, now), Err(AuthError::Missing(HEADER)));
        let malformed = Err(AuthError::Malformed(HEADER));
        for bad in [
            String::new(),
            "garbage".into(),
            format!("t={T}"),
            format!("v1={hexed}"),
            format!("t={T},v1="),
            format!("t=,v1={hexed}"),
            format!("t={T},v1={}", &hexed[..62]),
            format!("t={T},v1={hexed}00"),
            format!(
                "t={T},v1={}",
                STANDARD_B64.encode(hex::decode(&hexed).unwrap())
            ),
            format!("t={T},t={T},v1={hexed}"),
            // What API Gateway makes of the header sent twice.
            format!("{sig},{sig}"),
            format!("t=-{T},v1={hexed}"),
            format!("t=+{T},v1={hexed}"),
            format!("t={T}.5,v1={hexed}"),
            format!("t= {T},v1={hexed}"),
            format!("t=99999999999999999999999,v1={hexed}"),
            format!("t={T},v1={hexed},"),
            format!("t={T},,v1={hexed}"),
            format!("t={T},v1={hexed},junk"),
            format!("=x,t={T},v1={hexed}"),
            format!("T={T},v1={hexed}"),
        ] {
            assert_eq!(check(&s, &[&bad], body, now), malformed, "{bad:?}");
        }
        assert_eq!(check(&s, &[&sig, &sig], body, now), malformed);
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_bytes(b"t=1,v1=\xff").unwrap());
        let req = Inbound {
            headers: &headers,
            query: None,
            source_ip: None,
            body,
            now,
        };
        assert_eq!(s.verify(&req).map(|v| v.verification()), malformed);
    }

    #[test]
    fn extreme_timestamps_are_stale_not_panics() {
        let s = scheme(&[SECRET]);
        let body = b"{}";
        for t in [0, 1, i64::MAX, i64::MAX - 1, 253_402_300_800] {
            let v = good(SECRET, t, body);
            assert_eq!(check(&s, &[&v], body, at(T)), Err(AuthError::Stale), "{t}");
        }
        // A far-off clock, on either side, is no different.
        let sig = good(SECRET, T, body);
        for now in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, at(0)] {
            assert_eq!(check(&s, &[&sig], body, now), Err(AuthError::Stale));
        }
        // A huge tolerance never overflows either.
        let wide = TimestampedScheme::new(
            HEADER,
            vec![Secret::new(SECRET.as_bytes())],
            "KEYS",
            u64::MAX,
        )
        .unwrap();
        let v = good(SECRET, i64::MAX, body);
        assert!(check(&wide, &[&v], body, DateTime::<Utc>::MIN_UTC).is_ok());
    }

    #[test]
    fn empty_key_list_is_refused_and_keys_are_not_printed() {
        let err = |keys| TimestampedScheme::new(HEADER, keys, "KEYS", 300).unwrap_err();
        assert_eq!(err(vec![]).to_string(), "KEYS holds no secret");
        assert_eq!(
            err(vec![Secret::new(*b"")]).to_string(),
            "KEYS holds an empty secret"
        );
        let signed = TimestampedScheme::sign(HEADER, SECRET.as_bytes(), T, b"{}");
        assert_eq!(signed.headers[0].0, HEADER);
        assert!(check(&scheme(&[SECRET]), &[&signed.headers[0].1], b"{}", at(T)).is_ok());
        assert!(!format!("{:?}", scheme(&["hunter2"])).contains("hunter2"));
    }
}
