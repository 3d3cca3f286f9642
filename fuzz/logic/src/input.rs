//! How the targets read the fuzzer's bytes.
//!
//! Header-parser inputs: a flags byte, then `N` lines (`\n`-terminated;
//! header values cannot hold a line feed anyway), then the body.
//!
//! Request inputs: a flags byte, then a small HTTP/1 request:
//! `METHOD TARGET\n`, `name: value\n` lines, an empty line, the body.

use http::{HeaderMap, HeaderName, HeaderValue};

/// The flags byte and the rest; `None` for an empty input.
pub fn flags(data: &[u8]) -> Option<(u8, &[u8])> {
    data.split_first().map(|(f, rest)| (*f, rest))
}

/// The first `N` lines of `data` (missing ones empty) and what follows.
pub fn lines<const N: usize>(mut data: &[u8]) -> ([&[u8]; N], &[u8]) {
    let mut out = [&[][..]; N];
    for slot in &mut out {
        match data.iter().position(|&b| b == b'\n') {
            Some(i) => {
                *slot = &data[..i];
                data = &data[i + 1..];
            }
            None => {
                *slot = data;
                data = &[];
            }
        }
    }
    (out, data)
}

/// `line` with every `*` replaced by `credential`.
pub fn expand(line: &[u8], credential: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len() + credential.len());
    for &b in line {
        if b == b'*' {
            out.extend_from_slice(credential);
        } else {
            out.push(b);
        }
    }
    out
}

/// `line` as a header value, if it can be one.
pub fn header_value(line: &[u8]) -> Option<HeaderValue> {
    HeaderValue::from_bytes(line).ok()
}

/// A request as the fuzzer wrote it.
#[derive(Debug, Clone, Default)]
pub struct Http<'a> {
    /// The flags byte.
    pub flags: u8,
    /// The method token as written.
    pub method: &'a [u8],
    /// The request target (path and query) as written.
    pub target: &'a [u8],
    /// The header lines that make valid headers, in order.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: &'a [u8],
}

impl<'a> Http<'a> {
    /// Reads `data`; `None` for an empty input.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (flags, mut rest) = flags(data)?;
        let mut next_line = || -> Option<&'a [u8]> {
            if rest.is_empty() {
                return None;
            }
            let (line, after) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &[][..]),
            };
            rest = after;
            Some(line.strip_suffix(b"\r").unwrap_or(line))
        };
        let first = next_line().unwrap_or_default();
        let (method, target) = match first.iter().position(|&b| b == b' ') {
            Some(i) => (&first[..i], &first[i + 1..]),
            None => (first, &[][..]),
        };
        let mut headers = HeaderMap::new();
        while let Some(line) = next_line() {
            if line.is_empty() {
                break;
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let value = line[colon + 1..].trim_ascii_start();
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(&line[..colon]),
                HeaderValue::from_bytes(value),
            ) {
                headers.append(name, value);
            }
        }
        Some(Self {
            flags,
            method,
            target,
            headers,
            body: rest,
        })
    }

    /// Whether flag bit `bit` is set.
    pub fn flag(&self, bit: u8) -> bool {
        self.flags & (1 << bit) != 0
    }
}

/// Percent-encodes every byte outside a conservative URI set, so any target
/// the fuzzer writes becomes something `http::Uri` takes.
pub fn uri_safe(target: &[u8]) -> String {
    let mut out = String::with_capacity(target.len());
    for &b in target {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_and_pad() {
        let (l, rest) = lines::<3>(b"a\nb");
        assert_eq!(l, [&b"a"[..], b"b", b""]);
        assert!(rest.is_empty());
        let (l, rest) = lines::<1>(b"a\nb\nc");
        assert_eq!(l, [&b"a"[..]]);
        assert_eq!(rest, b"b\nc");
    }

    #[test]
    fn requests_parse() {
        let r = Http::parse(b"\x01POST /x?a=b\nHost: h\nbad\nx-a: 1\n\n{}\n").unwrap();
        assert_eq!((r.method, r.target), (&b"POST"[..], &b"/x?a=b"[..]));
        assert_eq!(r.headers.len(), 2);
        assert_eq!(r.body, b"{}\n");
        assert!(r.flag(0) && !r.flag(1));
    }
}
