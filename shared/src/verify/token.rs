//! A shared token, optionally with a source-IP allow-list, for providers
//! that sign nothing (Namirial).
//!
//! Without a signature the body cannot be bound to the sender, so the token
//! is the whole proof: it is required, long, compared in constant time
//! against every configured token, and never logged. The caller may put it
//! in the `token` query parameter (the callback URL is configured as
//! `.../webhooks/namirial?token=...`) or in the `X-Webhook-Token` header,
//! but only once: a request carrying two tokens is refused even when they
//! agree, because a sender that knows the token has no reason to send it
//! twice, and accepting "either" would let a proxy or client quirk decide
//! which one is checked.
//!
//! The allow-list, when configured, is checked against the source address
//! API Gateway observed for the connection (never a forwarded-for header,
//! which the caller writes).

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use super::{AuthError, Inbound, Secret, Signed, Verification, Verified, Verifier, single_header};
use crate::config::{ConfigError, Vars};

/// The shortest token accepted, in characters.
pub const MIN_TOKEN_CHARS: usize = 16;
/// The query parameter that carries the token.
pub const QUERY_PARAM: &str = "token";
/// The header that carries the token.
pub const HEADER: &str = "x-webhook-token";

/// Where a sender puts its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The [`QUERY_PARAM`] query parameter.
    Query,
    /// The [`HEADER`] header.
    Header,
}

/// What a sender holding `token` adds to a request: the token in `place`.
pub fn sign(token: &str, place: Place) -> Signed {
    match place {
        Place::Query => Signed::query(QUERY_PARAM, token.to_owned()),
        Place::Header => Signed::header(HEADER, token.to_owned()),
    }
}

/// A configured token, kept only as its SHA-256 digest: comparing digests
/// of fixed size makes the comparison's time independent of the configured
/// token's length as well as its content.
#[derive(Clone)]
struct TokenDigest([u8; 32]);

impl TokenDigest {
    fn of(token: &[u8]) -> Self {
        Self(Sha256::digest(token).into())
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A digest of a guessable token is as good as the token.
        f.write_str("[redacted]")
    }
}

/// The index of the configured token equal to `presented`.
///
/// Every configured token is compared, with no early exit, and each
/// comparison is `subtle`'s constant-time equality of two 32-byte digests.
/// The presented token is hashed once: its length is the caller's own, so
/// the time that takes tells the caller nothing. Two different tokens with
/// equal digests would be a SHA-256 collision.
fn matching_token(tokens: &[TokenDigest], presented: &[u8]) -> Option<usize> {
    let digest: [u8; 32] = Sha256::digest(presented).into();
    let mut found = Choice::from(0);
    let mut index = 0u64;
    for (i, token) in (0u64..).zip(tokens) {
        let hit = token.0.ct_eq(&digest) & !found;
        index.conditional_assign(&i, hit);
        found |= hit;
    }
    if bool::from(found) {
        usize::try_from(index).ok()
    } else {
        None
    }
}

/// Whether `ip` is inside one of `nets`.
///
/// An IPv4 client can reach a dual-stack endpoint as an IPv4-mapped IPv6
/// address (`::ffff:203.0.113.9`); it is the same host, so it is compared as
/// IPv4 against IPv4 networks and as its mapped form against IPv6 networks
/// (so `::ffff:203.0.113.0/120` and `203.0.113.0/24` mean the same thing).
fn source_allowed(nets: &[IpNet], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    let mapped = match ip {
        IpAddr::V4(v4) => Some(IpAddr::V6(v4.to_ipv6_mapped())),
        IpAddr::V6(_) => None,
    };
    nets.iter()
        .any(|net| net.contains(&ip) || mapped.is_some_and(|m| net.contains(&m)))
}

/// The request's one token, from the query string or the header.
fn presented_token<'a>(req: &Inbound<'a>) -> Result<Cow<'a, str>, AuthError> {
    const TWICE: AuthError = AuthError::Malformed("token (sent more than once)");
    let mut from_query = None;
    // A real form-urlencoded parser, so a token percent-encoded in the
    // callback URL (`%2B`, `%2F`...) arrives decoded.
    for (name, value) in form_urlencoded::parse(req.query.unwrap_or("").as_bytes()) {
        if name == QUERY_PARAM {
            if from_query.is_some() {
                return Err(TWICE);
            }
            from_query = Some(value);
        }
    }
    let token = match (from_query, single_header(req.headers, HEADER)?) {
        (Some(_), Some(_)) => return Err(TWICE),
        (Some(q), None) => q,
        (None, Some(h)) => Cow::Borrowed(h),
        (None, None) => return Err(AuthError::Missing("token")),
    };
    if token.is_empty() {
        return Err(AuthError::Malformed("token"));
    }
    Ok(token)
}

/// Reads the comma-separated tokens of `var`: at least one, each at least
/// [`MIN_TOKEN_CHARS`] characters. Errors never include a token.
pub fn tokens_from(vars: Vars<'_>, var: &str, hint: &str) -> Result<Vec<Secret>, ConfigError> {
    let list = vars
        .list(var)?
        .ok_or_else(|| ConfigError::new(var, format!("is not set: {hint}")))?;
    if let Some(position) = list
        .iter()
        .position(|t| t.chars().count() < MIN_TOKEN_CHARS)
    {
        return Err(ConfigError::new(
            var,
            format!(
                "holds a token shorter than {MIN_TOKEN_CHARS} characters (entry {}): use long random tokens, e.g. 32 hex digits",
                position + 1
            ),
        ));
    }
    Ok(list
        .into_iter()
        .map(|t| Secret::new(t.into_bytes()))
        .collect())
}

/// Reads the comma-separated networks of `var`: IPv4 or IPv6 CIDRs, a bare
/// address meaning that one host. `None` when unset: no address check.
pub fn cidrs_from(vars: Vars<'_>, var: &str) -> Result<Option<Vec<IpNet>>, ConfigError> {
    let Some(list) = vars.list(var)? else {
        return Ok(None);
    };
    list.iter()
        .map(|entry| parse_cidr(entry).map_err(|problem| ConfigError::new(var, problem)))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn parse_cidr(entry: &str) -> Result<IpNet, String> {
    if !entry.contains('/') {
        return entry.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
            format!(
                "holds {entry:?}, which is neither an IP address nor a CIDR such as 203.0.113.0/24 or 2001:db8::/32"
            )
        });
    }
    let net = entry.parse::<IpNet>().map_err(|_| {
        format!("holds {entry:?}, which is not a CIDR such as 203.0.113.0/24 or 2001:db8::/32")
    })?;
    // `203.0.113.9/24` is more likely a typo for a single host than a
    // request to allow the whole network: ask rather than guess.
    if net.addr() != net.network() {
        return Err(format!(
            "holds {entry:?}, whose address has bits set past the prefix: write {} for the network or {} for the one host",
            net.trunc(),
            IpNet::from(net.addr())
        ));
    }
    Ok(net)
}

/// A shared token, and optionally a source-IP allow-list.
#[derive(Debug, Clone)]
pub struct TokenScheme {
    tokens: Vec<TokenDigest>,
    sources: Option<Vec<IpNet>>,
}

impl TokenScheme {
    /// The scheme's name in the envelope.
    pub const NAME: &'static str = "token";

    /// A scheme accepting any of `tokens`, read from the variable `var`
    /// (one at least, none shorter than [`MIN_TOKEN_CHARS`]) and, when
    /// `sources` is given, only from those networks, which read from
    /// `cidrs_var` must not be an empty list (it would refuse everything).
    pub fn new(
        tokens: &[Secret],
        var: &str,
        sources: Option<Vec<IpNet>>,
        cidrs_var: &str,
    ) -> Result<Self, ConfigError> {
        let long_enough = |t: &Secret| {
            std::str::from_utf8(t.expose()).map_or(t.expose().len(), |s| s.chars().count())
                >= MIN_TOKEN_CHARS
        };
        if tokens.is_empty() {
            return Err(ConfigError::new(var, "holds no token"));
        }
        if !tokens.iter().all(long_enough) {
            return Err(ConfigError::new(
                var,
                format!("holds a token shorter than {MIN_TOKEN_CHARS} characters"),
            ));
        }
        if sources.as_ref().is_some_and(Vec::is_empty) {
            return Err(ConfigError::new(cidrs_var, "holds no network"));
        }
        Ok(Self {
            tokens: tokens.iter().map(|t| TokenDigest::of(t.expose())).collect(),
            sources,
        })
    }
}

impl Verifier for TokenScheme {
    fn verify<'a>(&self, req: &Inbound<'a>) -> Result<Verified<'a>, AuthError> {
        if let Some(nets) = &self.sources {
            // With an allow-list configured, an unknown source is not allowed.
            let ip = req.source_ip.ok_or(AuthError::Missing("source address"))?;
            if !source_allowed(nets, ip) {
                return Err(AuthError::SourceNotAllowed);
            }
        }
        let token = presented_token(req)?;
        let key_index =
            matching_token(&self.tokens, token.as_bytes()).ok_or(AuthError::NoMatch("token"))?;
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
    use std::collections::HashMap;

    use http::{HeaderMap, HeaderValue};

    const T0: &str = "0123456789abcdef-first";
    const T1: &str = "fedcba9876543210+second/";

    fn scheme(tokens: &[&str], cidrs: Option<&str>) -> TokenScheme {
        let mut src = HashMap::from([("TOKENS".to_owned(), tokens.join(","))]);
        if let Some(c) = cidrs {
            src.insert("CIDRS".to_owned(), c.to_owned());
        }
        let tokens = tokens_from(Vars(&src), "TOKENS", "hint").unwrap();
        TokenScheme::new(
            &tokens,
            "TOKENS",
            cidrs_from(Vars(&src), "CIDRS").unwrap(),
            "CIDRS",
        )
        .unwrap()
    }

    fn check(
        s: &TokenScheme,
        query: Option<&str>,
        headers: &[&str],
        ip: Option<&str>,
    ) -> Result<usize, AuthError> {
        let mut map = HeaderMap::new();
        for h in headers {
            map.append(HEADER, HeaderValue::from_str(h).unwrap());
        }
        let req = Inbound {
            headers: &map,
            query,
            source_ip: ip.map(|i| i.parse().unwrap()),
            body: b"{}",
            now: chrono::Utc::now(),
        };
        s.verify(&req).map(|v| {
            assert_eq!(v.verification().scheme, "token");
            assert_eq!(v.verification().signed_at, None);
            v.verification().key_index
        })
    }

    fn q(token: &str) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .finish()
    }

    #[test]
    fn right_wrong_and_missing() {
        let s = scheme(&[T0], None);
        assert_eq!(check(&s, Some(&q(T0)), &[], None), Ok(0));
        assert_eq!(check(&s, None, &[T0], None), Ok(0));
        assert_eq!(check(&s, None, &[&format!(" {T0} ")], None), Ok(0));
        assert_eq!(
            check(&s, Some(&format!("a=1&{}&b=2", q(T0))), &[], None),
            Ok(0)
        );
        let no_match = Err(AuthError::NoMatch("token"));
        assert_eq!(check(&s, Some(&q(T1)), &[], None), no_match);
        assert_eq!(check(&s, None, &[T1], None), no_match);
        // One character more, one less, different case.
        assert_eq!(check(&s, Some(&q(&format!("{T0}x"))), &[], None), no_match);
        assert_eq!(check(&s, Some(&q(&T0[1..])), &[], None), no_match);
        assert_eq!(check(&s, Some(&q(&T0.to_uppercase())), &[], None), no_match);
        let missing = Err(AuthError::Missing("token"));
        assert_eq!(check(&s, None, &[], None), missing);
        assert_eq!(check(&s, Some(""), &[], None), missing);
        // Parameter names are exact: these are not the token.
        assert_eq!(check(&s, Some(&format!("Token={T0}")), &[], None), missing);
        assert_eq!(check(&s, Some(&format!("tokens={T0}")), &[], None), missing);
        let malformed = Err(AuthError::Malformed("token"));
        assert_eq!(check(&s, Some("token="), &[], None), malformed);
        assert_eq!(check(&s, Some("token"), &[], None), malformed);
        assert_eq!(check(&s, None, &[""], None), malformed);
    }

    #[test]
    fn sign_puts_the_token_where_verify_reads_it() {
        let s = scheme(&[T1], None);
        let query = sign(T1, Place::Query);
        assert_eq!(query.headers, vec![]);
        assert_eq!(check(&s, query.query_string().as_deref(), &[], None), Ok(0));
        let header = sign(T1, Place::Header);
        assert_eq!(header.query, None);
        assert_eq!(header.headers[0].0, HEADER);
        assert_eq!(check(&s, None, &[&header.headers[0].1], None), Ok(0));
    }

    #[test]
    fn rotation_reports_the_matching_index() {
        let s = scheme(&[T0, T1], None);
        assert_eq!(check(&s, Some(&q(T0)), &[], None), Ok(0));
        assert_eq!(check(&s, Some(&q(T1)), &[], None), Ok(1));
        assert_eq!(check(&s, None, &[T1], None), Ok(1));
        // A token listed twice matches its first entry.
        let s = scheme(&[T1, T0, T1], None);
        assert_eq!(check(&s, None, &[T1], None), Ok(0));
        assert_eq!(check(&s, None, &[T0], None), Ok(1));
    }

    #[test]
    fn percent_encoding_is_decoded() {
        let s = scheme(&[T1], None);
        let encoded = q(T1);
        assert!(
            encoded.contains("%2B") && encoded.contains("%2F"),
            "{encoded}"
        );
        assert_eq!(check(&s, Some(&encoded), &[], None), Ok(0));
        // Unreserved characters may be percent-encoded too.
        let s = scheme(&[T0], None);
        let odd = format!("token=%30%31{}", &T0[2..]);
        assert_eq!(check(&s, Some(&odd), &[], None), Ok(0));
        // In a query, '+' is a space: a raw '+' is not the token's '+'.
        let s = scheme(&[T1], None);
        assert_eq!(
            check(&s, Some(&format!("token={T1}")), &[], None),
            Err(AuthError::NoMatch("token"))
        );
    }

    #[test]
    fn two_tokens_in_one_request_are_refused() {
        let s = scheme(&[T0, T1], None);
        let twice = Err(AuthError::Malformed("token (sent more than once)"));
        let both = format!("{}&{}", q(T0), q(T0));
        assert_eq!(check(&s, Some(&both), &[], None), twice);
        let mixed = format!("{}&{}", q(T0), q(T1));
        assert_eq!(check(&s, Some(&mixed), &[], None), twice);
        // In the query and the header, equal or not.
        assert_eq!(check(&s, Some(&q(T0)), &[T0], None), twice);
        assert_eq!(check(&s, Some(&q(T0)), &[T1], None), twice);
        assert_eq!(check(&s, Some("token="), &[T0], None), twice);
        // API Gateway joins a repeated header with commas.
        let header = Err(AuthError::Malformed(HEADER));
        assert_eq!(check(&s, None, &[&format!("{T0},{T1}")], None), header);
        assert_eq!(check(&s, None, &[&format!("{T0}, {T0}")], None), header);
        assert_eq!(check(&s, None, &[T0, T0], None), header);
    }

    #[test]
    fn comparison_is_correct_for_equal_unequal_and_other_lengths() {
        let tokens: Vec<TokenDigest> = [T0, T1]
            .iter()
            .map(|t| TokenDigest::of(t.as_bytes()))
            .collect();
        assert_eq!(matching_token(&tokens, T0.as_bytes()), Some(0));
        assert_eq!(matching_token(&tokens, T1.as_bytes()), Some(1));
        for other in [
            "",
            "0",
            &T0[..T0.len() - 1],
            &format!("{T0}\0"),
            &format!("{T0}{T0}"),
            &T1.replace('f', "F"),
            &"x".repeat(T0.len()),
            &"x".repeat(10_000),
        ] {
            assert_eq!(matching_token(&tokens, other.as_bytes()), None, "{other:?}");
        }
        // Any single bit flipped fails.
        for i in 0..T0.len() * 8 {
            let mut b = T0.as_bytes().to_vec();
            b[i / 8] ^= 1 << (i % 8);
            assert_eq!(matching_token(&tokens, &b), None);
        }
        assert_eq!(matching_token(&[], T0.as_bytes()), None);
    }

    #[test]
    fn token_config() {
        let read = |v: &str| {
            tokens_from(
                Vars(&HashMap::from([("TOKENS", v)])),
                "TOKENS",
                "put one in the callback URL",
            )
        };
        assert_eq!(read(&format!("{T0}, {T1}")).unwrap().len(), 2);
        // Sixteen characters, not bytes.
        assert!(read(&"é".repeat(16)).is_ok());
        assert!(read(&"é".repeat(15)).is_err());
        for bad in [
            "",
            "  ",
            "zq7-pw",
            "0123456789abcde",
            &format!("{T0},"),
            &format!("{T0},,{T1}"),
            &format!("{T0},tiny-token"),
        ] {
            let err = read(bad).unwrap_err();
            assert_eq!(err.variable, "TOKENS", "{bad:?}");
            let text = err.to_string();
            assert!(text.starts_with("TOKENS "), "{text}");
            for secret in [T0, "zq7-pw", "tiny-token", "0123456789abcde"] {
                assert!(!text.contains(secret), "{text}");
            }
        }
        assert!(read("").unwrap_err().to_string().contains("is not set"));
        assert!(
            read("tiny-token")
                .unwrap_err()
                .to_string()
                .contains("16 characters")
        );
        // The scheme's own checks, for callers that build it directly.
        let secret = |t: &str| Secret::new(t.as_bytes());
        let new = |tokens: &[Secret], sources| {
            TokenScheme::new(tokens, "TOKENS", sources, "CIDRS").map_err(|e| e.to_string())
        };
        assert_eq!(new(&[], None).unwrap_err(), "TOKENS holds no token");
        let short = "TOKENS holds a token shorter than 16 characters";
        assert_eq!(new(&[secret("short")], None).unwrap_err(), short);
        assert_eq!(
            new(&[secret(T0), secret("short")], None).unwrap_err(),
            short
        );
        assert_eq!(
            new(&[secret(T0)], Some(vec![])).unwrap_err(),
            "CIDRS holds no network"
        );
        let s = new(&[secret(T0)], None).unwrap();
        assert!(!format!("{s:?}").contains(T0));
        assert!(format!("{s:?}").contains("[redacted]"));
    }

    #[test]
    fn allow_list() {
        let s = scheme(&[T0], Some("203.0.113.0/24, 198.51.100.7, 2001:db8::/32"));
        let tok = Some(q(T0));
        let tok = tok.as_deref();
        for ip in [
            "203.0.113.9",
            "203.0.113.255",
            "198.51.100.7",
            "2001:db8::1",
            "2001:db8:ffff::9",
        ] {
            assert_eq!(check(&s, tok, &[], Some(ip)), Ok(0), "{ip}");
        }
        for ip in [
            "203.0.114.9",
            "198.51.100.8",
            "10.0.0.1",
            "2001:db9::1",
            "::1",
        ] {
            assert_eq!(
                check(&s, tok, &[], Some(ip)),
                Err(AuthError::SourceNotAllowed),
                "{ip}"
            );
        }
        // Allowed source, wrong token: still refused.
        assert_eq!(
            check(&s, Some(&q(T1)), &[], Some("203.0.113.9")),
            Err(AuthError::NoMatch("token"))
        );
        // Without a known source address nothing passes.
        assert_eq!(
            check(&s, tok, &[], None),
            Err(AuthError::Missing("source address"))
        );
        // Without an allow-list, any source (or none) passes.
        let open = scheme(&[T0], None);
        assert_eq!(check(&open, tok, &[], Some("192.0.2.1")), Ok(0));
        assert_eq!(check(&open, tok, &[], None), Ok(0));
    }

    #[test]
    fn ipv4_mapped_addresses_are_the_ipv4_host() {
        let v4 = scheme(&[T0], Some("203.0.113.0/24"));
        let tok = q(T0);
        let tok = Some(tok.as_str());
        assert_eq!(check(&v4, tok, &[], Some("::ffff:203.0.113.9")), Ok(0));
        assert_eq!(
            check(&v4, tok, &[], Some("::ffff:203.0.114.9")),
            Err(AuthError::SourceNotAllowed)
        );
        // IPv4-compatible (not mapped) addresses are other hosts.
        assert_eq!(
            check(&v4, tok, &[], Some("::203.0.113.9")),
            Err(AuthError::SourceNotAllowed)
        );
        // A network written in mapped form covers plain IPv4 too.
        let mapped = scheme(&[T0], Some("::ffff:203.0.113.0/120"));
        assert_eq!(check(&mapped, tok, &[], Some("203.0.113.9")), Ok(0));
        assert_eq!(check(&mapped, tok, &[], Some("::ffff:203.0.113.9")), Ok(0));
        assert_eq!(
            check(&mapped, tok, &[], Some("203.0.114.9")),
            Err(AuthError::SourceNotAllowed)
        );
        // An IPv6 host bare address is /128.
        let one = scheme(&[T0], Some("2001:db8::7"));
        assert_eq!(check(&one, tok, &[], Some("2001:db8::7")), Ok(0));
        assert_eq!(
            check(&one, tok, &[], Some("2001:db8::8")),
            Err(AuthError::SourceNotAllowed)
        );
    }

    #[test]
    fn malformed_cidrs_fail_naming_the_variable() {
        let read = |v: &str| cidrs_from(Vars(&HashMap::from([("CIDRS", v)])), "CIDRS");
        assert_eq!(read("").unwrap(), None);
        assert_eq!(read("10.0.0.0/8").unwrap().unwrap().len(), 1);
        assert_eq!(
            read("192.0.2.1,2001:db8::1").unwrap().unwrap(),
            vec![
                "192.0.2.1/32".parse::<IpNet>().unwrap(),
                "2001:db8::1/128".parse().unwrap()
            ]
        );
        for bad in [
            "10.0.0.0/33",
            "2001:db8::/129",
            "10.0.0/8",
            "256.0.0.1",
            "example.com",
            "10.0.0.0/8,",
            "10.0.0.0/8;10.1.0.0/16",
            "10.0.0.0/",
            "/8",
            "203.0.113.9/24",
            "fe80::1%eth0",
        ] {
            let err = read(bad).unwrap_err();
            assert_eq!(err.variable, "CIDRS", "{bad}");
        }
        let err = read("203.0.113.9/24").unwrap_err().to_string();
        assert!(
            err.contains("203.0.113.0/24") && err.contains("203.0.113.9/32"),
            "{err}"
        );
    }
}
