//! The credential parsers: every header a scheme reads, through the public
//! scheme types, with an independent check of every acceptance.

use std::collections::HashMap;
use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hookgate::config::Vars;
use hookgate::providers::{redner, syncso};
use hookgate::verify::hmac::{TAG_LEN, sign};
use hookgate::verify::token::{HEADER as TOKEN_HEADER, QUERY_PARAM, cidrs_from, tokens_from};
use hookgate::verify::{
    Es256Scheme, HmacScheme, Inbound, Secret, SignatureFormat, TimestampedScheme, TokenScheme,
    Verifier,
};
use http::HeaderMap;
use ipnet::IpNet;
use p256::ecdsa::Signature;
use p256::ecdsa::signature::Verifier as _;

use crate::input::{expand, flags, header_value, lines};
use crate::keys::{self, NOW, TOLERANCE, now};

/// Labels that name an algorithm other than ES256: never accepted.
const OTHER_ALGORITHMS: &[&str] = &[
    "none", "hs256", "hs384", "hs512", "rs256", "rs384", "rs512", "ps256", "ps384", "ps512",
    "es384", "es512", "eddsa", "ed25519", "es256k",
];

/// Panjaya's `X-Signature` (hex of DER or `r||s`) and `X-Signature-Algorithm`.
///
/// Input: flags, the signature line (`*` = a valid signature over the body:
/// flag 0 DER else `r||s`, flag 1 upper-case hex), the algorithm line (sent
/// when flag 2), then the body. Flag 3 sends the signature line twice.
///
/// Properties: an accepted request carries one `X-Signature` value, the hex
/// of a signature that p256 (another implementation) verifies over the body
/// with the configured key, and no other algorithm's label; and a request
/// carrying exactly the valid signature is accepted.
pub fn es256_header(data: &[u8]) {
    let Some((f, rest)) = flags(data) else { return };
    let ([sig_line, alg_line], body) = lines::<2>(rest);
    let mut hex_sig = hex::encode(keys::es256_sign(body, f & 1 != 0));
    if f & 2 != 0 {
        hex_sig.make_ascii_uppercase();
    }
    let sig_line = expand(sig_line, hex_sig.as_bytes());
    let twice = f & 8 != 0;
    let with_alg = f & 4 != 0;

    let mut headers = HeaderMap::new();
    if let Some(v) = header_value(&sig_line) {
        headers.append(hookgate::verify::es256::SIGNATURE_HEADER, v.clone());
        if twice {
            headers.append(hookgate::verify::es256::SIGNATURE_HEADER, v);
        }
    }
    if with_alg && let Some(v) = header_value(alg_line) {
        headers.insert(hookgate::verify::es256::ALGORITHM_HEADER, v);
    }
    let scheme = es256_scheme();
    let result = scheme.verify(&inbound(&headers, None, None, body));

    if let Ok(verified) = &result {
        assert_eq!(verified.body(), body);
        assert_eq!(verified.verification().scheme, Es256Scheme::NAME);
        assert!(!twice, "two X-Signature lines accepted");
        let value = std::str::from_utf8(&sig_line)
            .expect("accepted, so text")
            .trim();
        assert!(!value.contains(','), "a joined X-Signature accepted");
        let raw = hex::decode(value).expect("accepted, so hex");
        assert!(
            p256_verifies(body, &raw),
            "accepted a signature p256 refuses: {value}"
        );
        if with_alg && let Some(label) = headers.get(hookgate::verify::es256::ALGORITHM_HEADER) {
            let label = label.to_str().expect("accepted, so text").trim();
            assert!(
                !OTHER_ALGORITHMS.contains(&label.to_ascii_lowercase().as_str()),
                "accepted with algorithm {label:?}"
            );
        }
    }
    let plain = sig_line.as_slice() == hex_sig.as_bytes()
        && !twice
        && (!with_alg || alg_line.eq_ignore_ascii_case(b"ES256"));
    if plain {
        assert!(result.is_ok(), "a valid signature refused: {result:?}");
    }
}

fn es256_scheme() -> &'static Es256Scheme {
    static SCHEME: std::sync::OnceLock<Es256Scheme> = std::sync::OnceLock::new();
    SCHEME.get_or_init(|| Es256Scheme::from_pem(keys::TEST_PUBLIC_KEY).expect("the test key"))
}

/// Whether p256 verifies `sig` (DER, or 64-byte `r||s`) over `body`, high-S
/// included (ES256 as OpenSSL does it accepts both halves).
fn p256_verifies(body: &[u8], sig: &[u8]) -> bool {
    let candidates = [
        Signature::from_der(sig).ok(),
        Signature::from_slice(sig).ok(),
    ];
    candidates.into_iter().flatten().any(|s| {
        let s = s.normalize_s().unwrap_or(s);
        keys::verifying_key().verify(body, &s).is_ok()
    })
}

fn inbound<'a>(
    headers: &'a HeaderMap,
    query: Option<&'a str>,
    source_ip: Option<IpAddr>,
    body: &'a [u8],
) -> Inbound<'a> {
    Inbound {
        headers,
        query,
        source_ip,
        body,
        now: now(),
    }
}

/// Redner's `X-Redner-Signature` (flag 0) or sync.so's `X-Signature-Primary`.
///
/// Input: flags, the signature line (`*` = the valid tag over the body,
/// encoded by flags 1-2 as lower hex, upper hex, base64, base64url without
/// padding), then the body. Flag 3 sends the line twice.
///
/// Properties: a decoded tag is the 32 bytes the value's encoding says
/// (independently decoded), after the prefix the format requires; an
/// accepted request carries one value whose tag is the HMAC of the body;
/// a request with exactly the valid tag (and prefix, for Redner) passes.
pub fn hmac_header(data: &[u8]) {
    let Some((f, rest)) = flags(data) else { return };
    let ([line], body) = lines::<1>(rest);
    let is_redner = f & 1 != 0;
    let (format, key): (SignatureFormat, &str) = if is_redner {
        (redner::SIGNATURE, keys::secret("redner"))
    } else {
        (syncso::SIGNATURE_PRIMARY, keys::secret("syncso"))
    };
    let tag = sign(key.as_bytes(), &[body]);
    let encoded = match (f >> 1) & 3 {
        0 => hex::encode(tag),
        1 => hex::encode_upper(tag),
        2 => STANDARD.encode(tag),
        _ => URL_SAFE_NO_PAD.encode(tag),
    };
    let line = expand(line, encoded.as_bytes());
    let twice = f & 8 != 0;

    // The decoder alone, on any text.
    if let Ok(value) = std::str::from_utf8(&line)
        && let Ok(decoded) = format.decode(value)
    {
        let prefix = "sha256=";
        let has_prefix = value
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix));
        if is_redner {
            assert!(has_prefix, "Redner value without its prefix decoded");
        }
        let candidates: Vec<&str> = if has_prefix {
            vec![&value[prefix.len()..], value]
        } else {
            vec![value]
        };
        assert!(
            candidates
                .iter()
                .any(|c| independent_decode(c, !is_redner) == Some(decoded)),
            "decoded {value:?} to a tag its encoding does not hold"
        );
    }

    let mut headers = HeaderMap::new();
    if let Some(v) = header_value(&line) {
        headers.append(format.header, v.clone());
        if twice {
            headers.append(format.header, v);
        }
    }
    let scheme = HmacScheme::new(format, vec![Secret::new(key.as_bytes())], "KEYS").expect("a key");
    let result = scheme.verify(&inbound(&headers, None, None, body));
    if let Ok(verified) = &result {
        assert_eq!(verified.body(), body);
        assert!(!twice, "two signature lines accepted");
        let value = std::str::from_utf8(&line)
            .expect("accepted, so text")
            .trim();
        assert!(!value.contains(','), "a joined signature header accepted");
        let decoded = format.decode(value).expect("accepted, so decodable");
        assert_eq!(decoded, tag, "accepted a tag that is not the body's HMAC");
    }
    let exact = if is_redner {
        format!("sha256={encoded}")
    } else {
        encoded.clone()
    };
    let hex_only_ok = !is_redner || (f >> 1) & 3 < 2;
    if line == exact.as_bytes() && !twice && hex_only_ok {
        assert!(result.is_ok(), "a valid tag refused: {result:?}");
    }
}

/// Hex (64 digits), or when `base64` any of the four base64 alphabets, of
/// exactly 32 bytes.
fn independent_decode(s: &str, base64: bool) -> Option<[u8; TAG_LEN]> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE};
    if s.len() == 64
        && let Ok(v) = hex::decode(s)
    {
        return v.try_into().ok();
    }
    if !base64 {
        return None;
    }
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .filter_map(|e| e.decode(s).ok())
        .find_map(|v| <[u8; TAG_LEN]>::try_from(v).ok())
}

/// sync.so's `Sync-Signature: t=...,v1=...`.
///
/// Input: flags, the header line (`*` = the valid `v1` tag for the line's
/// first `t` item and the body), then the body. Flag 0 sends it twice.
/// The clock is fixed at `NOW`.
///
/// Properties: an accepted header holds exactly one `t`, digits only, within
/// the tolerance of now and equal to the reported signed time, and a `v1`
/// whose hex is the HMAC of `"<t>." + body`; `t=<now>,v1=*` passes.
pub fn timestamped_header(data: &[u8]) {
    let Some((f, rest)) = flags(data) else { return };
    let ([line], body) = lines::<1>(rest);
    let key = keys::secret("syncso").as_bytes();
    let text = String::from_utf8_lossy(line);
    let first_t = items(&text)
        .find(|(k, _)| *k == "t")
        .map(|(_, v)| v.to_owned());
    let line = match &first_t {
        Some(t) => expand(
            line,
            hex::encode(sign(key, &[t.as_bytes(), b".", body])).as_bytes(),
        ),
        None => line.to_vec(),
    };
    let twice = f & 1 != 0;
    let mut headers = HeaderMap::new();
    if let Some(v) = header_value(&line) {
        headers.append(syncso::SYNC_SIGNATURE, v.clone());
        if twice {
            headers.append(syncso::SYNC_SIGNATURE, v);
        }
    }
    let scheme = TimestampedScheme::new(
        syncso::SYNC_SIGNATURE,
        vec![Secret::new(key)],
        "KEYS",
        TOLERANCE.unsigned_abs(),
    )
    .expect("a key");
    let result = scheme.verify(&inbound(&headers, None, None, body));

    if let Ok(verified) = &result {
        assert_eq!(verified.body(), body);
        assert!(!twice, "two Sync-Signature lines accepted");
        let value = std::str::from_utf8(&line).expect("accepted, so text");
        let ts: Vec<&str> = items(value)
            .filter(|(k, _)| *k == "t")
            .map(|(_, v)| v)
            .collect();
        assert_eq!(ts.len(), 1, "accepted {value:?} without exactly one t");
        let t_text = ts[0];
        assert!(!t_text.is_empty() && t_text.bytes().all(|b| b.is_ascii_digit()));
        let t: i64 = t_text.parse().expect("digits within i64");
        assert_eq!(verified.verification().signed_at, Some(t));
        assert!((t - NOW).abs() <= TOLERANCE, "accepted a stale t={t}");
        let want = sign(key, &[t_text.as_bytes(), b".", body]);
        assert!(
            items(value).any(|(k, v)| k == "v1" && hex::decode(v).ok().as_deref() == Some(&want)),
            "accepted {value:?} without a valid v1"
        );
    }
    if line
        == format!(
            "t={NOW},v1={}",
            hex::encode(sign(key, &[NOW.to_string().as_bytes(), b".", body]))
        )
        .as_bytes()
        && !twice
    {
        assert!(result.is_ok(), "a valid Sync-Signature refused: {result:?}");
    }
}

/// The `key=value` items of a comma-separated header, trimmed.
fn items(value: &str) -> impl Iterator<Item = (&str, &str)> {
    value
        .split(',')
        .filter_map(|item| item.trim().split_once('='))
}

/// Namirial's credentials: `NAMIRIAL_TOKENS` and `NAMIRIAL_ALLOWED_CIDRS`
/// as configured, and the token in the query or `X-Webhook-Token`.
///
/// Input: flags, the query line and the header line (`*` = the token;
/// percent-encoded in the query; the header is sent when flag 0), the
/// source address line, a tokens line and a CIDR line (read as
/// configuration), then the body. Flag 1 checks the source against a fixed
/// allow-list.
///
/// Properties: configured tokens are at least 16 characters; configured
/// networks have no host bits and print back to themselves; an accepted
/// request presents exactly one token, equal to the configured one, from an
/// allowed address; `token=*` alone passes.
pub fn namirial_token(data: &[u8]) {
    let Some((f, rest)) = flags(data) else { return };
    let ([query, header, ip, tokens_line, cidrs_line], body) = lines::<5>(rest);

    // Configuration parsing.
    let config: HashMap<String, String> = [
        (
            "T".to_owned(),
            String::from_utf8_lossy(tokens_line).into_owned(),
        ),
        (
            "C".to_owned(),
            String::from_utf8_lossy(cidrs_line).into_owned(),
        ),
    ]
    .into();
    if let Ok(tokens) = tokens_from(Vars(&config), "T", "hint") {
        assert!(!tokens.is_empty());
        for t in &tokens {
            let t = std::str::from_utf8(t.expose()).expect("configured from text");
            assert!(t.chars().count() >= 16, "a short token configured");
            assert_eq!(t, t.trim());
        }
        assert!(TokenScheme::new(&tokens, "T", None, "C").is_ok());
    }
    if let Ok(Some(nets)) = cidrs_from(Vars(&config), "C") {
        assert!(!nets.is_empty());
        for net in nets {
            assert_eq!(net.addr(), net.network(), "{net} has host bits");
            assert_eq!(net.to_string().parse::<IpNet>(), Ok(net));
        }
    }

    // The request's token.
    let encoded: String =
        form_urlencoded::byte_serialize(keys::secret("namirial").as_bytes()).collect();
    let query = String::from_utf8_lossy(&expand(query, encoded.as_bytes())).into_owned();
    let header = expand(header, keys::secret("namirial").as_bytes());
    let send_header = f & 1 != 0;
    let mut headers = HeaderMap::new();
    if send_header && let Some(v) = header_value(&header) {
        headers.append(TOKEN_HEADER, v);
    }
    let source_ip = std::str::from_utf8(ip)
        .ok()
        .and_then(|s| s.parse::<IpAddr>().ok());
    let allow: Vec<IpNet> = ["203.0.113.0/24", "2001:db8::/32"]
        .iter()
        .map(|n| n.parse().expect("a network"))
        .collect();
    let restricted = f & 2 != 0;
    let scheme = TokenScheme::new(
        &[Secret::new(keys::secret("namirial").as_bytes())],
        "TOKENS",
        restricted.then(|| allow.clone()),
        "CIDRS",
    )
    .expect("a long token");
    let query_opt = (!query.is_empty()).then_some(query.as_str());
    let result = scheme.verify(&inbound(&headers, query_opt, source_ip, body));

    if let Ok(verified) = &result {
        assert_eq!(verified.body(), body);
        let from_query: Vec<String> = form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k == QUERY_PARAM)
            .map(|(_, v)| v.into_owned())
            .collect();
        let from_header: Vec<&str> = headers
            .get_all(TOKEN_HEADER)
            .iter()
            .map(|v| v.to_str().expect("accepted, so text").trim())
            .collect();
        assert_eq!(
            from_query.len() + from_header.len(),
            1,
            "accepted with more or less than one token"
        );
        let presented = from_query
            .first()
            .map(String::as_str)
            .or(from_header.first().copied());
        assert_eq!(presented, Some(keys::secret("namirial")));
        if restricted {
            let ip = source_ip.expect("accepted, so an address").to_canonical();
            let mapped = match ip {
                IpAddr::V4(v4) => Some(IpAddr::V6(v4.to_ipv6_mapped())),
                IpAddr::V6(_) => None,
            };
            assert!(
                allow
                    .iter()
                    .any(|n| n.contains(&ip) || mapped.is_some_and(|m| n.contains(&m))),
                "accepted from {ip}"
            );
        }
    }
    if query == format!("token={encoded}") && !send_header && !restricted {
        assert!(result.is_ok(), "the right token refused: {result:?}");
    }
}
