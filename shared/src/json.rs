//! Strict JSON reading, then lenient typed reading of the fields a provider
//! uses, reporting every problem with a required field at once.
//!
//! Parsing happens in two passes over the authenticated bytes, neither of
//! which builds a `serde_json::Value`: [`parse_strict`] walks the whole
//! document once to refuse what serde_json would quietly accept (duplicate
//! keys, whose "last one wins" lets two readers see two different events;
//! a byte-order mark; absurd nesting), and each provider then deserializes
//! borrowed structs of [`Lax`] fields: a field is absent (missing or null),
//! a value of the expected type, or wrong, and never fails the read. A
//! [`Reader`] turns the required fields that are not usable into
//! FastAPI-style `{loc, msg, type}` details for the 422 answer, and logs
//! the optional ones of an unexpected type, which are left out.
//!
//! Only the fields a provider names are looked at: unknown fields are
//! skipped unchecked, whatever their type.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Deepest nesting of objects and arrays accepted.
pub const MAX_DEPTH: usize = 64;

/// Why a body is not acceptable JSON (a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// The body is not UTF-8.
    #[error("The body is not valid UTF-8.")]
    NotUtf8,
    /// The body starts with a byte-order mark, which JSON forbids.
    #[error("The body starts with a byte-order mark, which JSON does not allow.")]
    Bom,
    /// Syntax error, duplicate key or too deep; the text says which and where.
    #[error("The body is not valid JSON: {0}.")]
    Invalid(String),
}

/// Checks that `body` is one strict JSON document and returns it as text.
pub fn parse_strict(body: &[u8]) -> Result<&str, JsonError> {
    if body.starts_with(b"\xEF\xBB\xBF") {
        return Err(JsonError::Bom);
    }
    let text = std::str::from_utf8(body).map_err(|_| JsonError::NotUtf8)?;
    let mut de = serde_json::Deserializer::from_str(text);
    Strict { depth: 0 }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| JsonError::Invalid(e.to_string()))?;
    Ok(text)
}

/// Walks any JSON value, refusing duplicate keys and deep nesting.
struct Strict {
    depth: usize,
}

impl Strict {
    fn nested<E: de::Error>(&self) -> Result<Self, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format_args!(
                "nesting deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(Self {
            depth: self.depth + 1,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self.nested()?)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = self.nested::<A::Error>()?;
        let mut seen = Seen::default();
        while let Some(Text(key)) = map.next_key()? {
            map.next_value_seed(Strict { depth: inner.depth })?;
            if !seen.insert(key) {
                // The key is the provider's text; say which without echoing
                // an arbitrarily long string back.
                return Err(de::Error::custom("duplicate key in an object"));
            }
        }
        Ok(())
    }
}

/// The keys of one object so far. Webhook objects have a handful of keys,
/// where comparing each new key with the few before is cheaper than
/// hashing; past [`Seen::LINEAR`] keys a hash set keeps large objects
/// linear.
#[derive(Default)]
struct Seen<'a> {
    few: Vec<Cow<'a, str>>,
    many: Option<HashSet<Cow<'a, str>>>,
}

impl<'a> Seen<'a> {
    const LINEAR: usize = 16;

    /// Adds `key`; false if it was already there.
    fn insert(&mut self, key: Cow<'a, str>) -> bool {
        if let Some(many) = &mut self.many {
            return many.insert(key);
        }
        if self.few.contains(&key) {
            return false;
        }
        self.few.push(key);
        if self.few.len() > Self::LINEAR {
            self.many = Some(self.few.drain(..).collect());
        }
        true
    }
}

/// A JSON string, borrowed from the body unless it had escapes.
///
/// serde's own `Cow<str>` always allocates unless its field carries
/// `#[serde(borrow)]` directly; this type borrows wherever it is nested.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text<'a>(pub Cow<'a, str>);

impl Text<'_> {
    /// The text, owned.
    pub fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// One step of a location in the body: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LocPart {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// One schema problem, in FastAPI's `{loc, msg, type}` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    /// Where: `["body", "data", "jobId"]`.
    pub loc: Vec<LocPart>,
    /// What, for a person.
    pub msg: String,
    /// What, for a program (pydantic's error type names).
    #[serde(rename = "type")]
    pub kind: String,
}

/// A field read leniently: it never fails the enclosing read.
///
/// Deserializes through the field's raw text, so whatever the sender wrote
/// there, the struct holding it is still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lax<T> {
    /// Missing or `null`.
    #[default]
    Absent,
    /// Present and of the expected type.
    Value(T),
    /// Present, of another type (or out of range).
    Wrong,
}

impl<T> Lax<T> {
    /// Whether the field holds something other than `null`, of any type.
    pub fn is_present(&self) -> bool {
        !matches!(self, Self::Absent)
    }

    /// The value, if it had the expected type.
    pub fn value(self) -> Option<T> {
        match self {
            Self::Value(v) => Some(v),
            Self::Absent | Self::Wrong => None,
        }
    }
}

impl<'a, T: Deserialize<'a>> Lax<T> {
    /// Reads `raw` as a `T`.
    pub fn from_raw(raw: &'a RawValue) -> Self {
        let text = raw.get();
        if text == "null" {
            return Self::Absent;
        }
        serde_json::from_str(text).map_or(Self::Wrong, Self::Value)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lax<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'de RawValue>::deserialize(d).map(Self::from_raw)
    }
}

/// A JSON object read as `T`; an array (which a derived struct would
/// otherwise take positionally) or anything else is refused.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// An integer in any JSON form: `1`, `1.0` and `1e0` are all 1. A number
/// with a fraction, or out of `T`'s range, is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Int<T>(pub T);

impl<'de, T: TryFrom<i128>> Deserialize<'de> for Int<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = i128;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integral number")
            }
            fn visit_i64<E>(self, n: i64) -> Result<i128, E> {
                Ok(n.into())
            }
            fn visit_u64<E>(self, n: u64) -> Result<i128, E> {
                Ok(n.into())
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<i128, E> {
                // 2^100 is far beyond any target type and well inside i128,
                // so the cast below is exact.
                const LIMIT: f64 = 1.267_650_600_228_229_4e30;
                if n.is_finite() && n.fract() == 0.0 && n.abs() < LIMIT {
                    Ok(n as i128)
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(n), &self))
                }
            }
        }
        let n = d.deserialize_any(V)?;
        T::try_from(n)
            .map(Int)
            .map_err(|_| de::Error::custom("integer out of range"))
    }
}

/// What a field must be, for the 422 detail and the warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expectation {
    /// pydantic's error type, e.g. `string_type`.
    pub kind: &'static str,
    /// pydantic's message, e.g. `Input should be a valid string`.
    pub msg: &'static str,
    /// The type's name for a log line, e.g. `string`.
    pub name: &'static str,
}

/// A type a field can be read as, with what to say when it is not.
pub trait Expected {
    /// What a field of this type must be.
    const EXPECTED: Expectation;
}

impl Expected for Text<'_> {
    const EXPECTED: Expectation = Expectation {
        kind: "string_type",
        msg: "Input should be a valid string",
        name: "string",
    };
}

impl<T> Expected for Int<T> {
    const EXPECTED: Expectation = Expectation {
        kind: "int_type",
        msg: "Input should be a valid integer",
        name: "integer",
    };
}

impl<T> Expected for Object<T> {
    const EXPECTED: Expectation = Expectation {
        kind: "dict_type",
        msg: "Input should be a valid dictionary",
        name: "object",
    };
}

impl<T> Expected for Vec<T> {
    const EXPECTED: Expectation = Expectation {
        kind: "list_type",
        msg: "Input should be a valid list",
        name: "array",
    };
}

/// One step of a field's location, as a provider names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// An object key.
    Key(&'static str),
    /// An array index.
    Index(usize),
}

/// `["body", ...at]`, the location of a 422 detail.
fn loc(at: &[At]) -> Vec<LocPart> {
    std::iter::once(LocPart::Key("body".into()))
        .chain(at.iter().map(|step| match *step {
            At::Key(k) => LocPart::Key(k.to_owned()),
            At::Index(i) => LocPart::Index(i),
        }))
        .collect()
}

/// `data.outputs[0].sizeBytes`, the location in a log line.
struct Path<'s>(&'s [At]);

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                At::Key(k) if i == 0 => f.write_str(k)?,
                At::Key(k) => write!(f, ".{k}")?,
                At::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Takes a provider's lenient fields apart: required fields that are not
/// usable become 422 details (all of them), optional fields of an
/// unexpected type are logged and left out.
#[derive(Debug)]
pub struct Reader {
    provider: &'static str,
    errors: Vec<Detail>,
}

impl Reader {
    /// A reader for `provider`'s payload, with no problems yet.
    pub fn new(provider: &'static str) -> Self {
        Self {
            provider,
            errors: Vec::new(),
        }
    }

    /// The document as a `T` read from a JSON object; a problem if the
    /// document is anything else. `T`'s fields should all be [`Lax`], so
    /// that only the root's own type can fail.
    pub fn root<'a, T: Deserialize<'a>>(&mut self, text: &'a str) -> Option<T> {
        match serde_json::from_str::<Object<T>>(text) {
            Ok(Object(root)) => Some(root),
            Err(_) => {
                self.problem(
                    &[],
                    "model_attributes_type",
                    "Input should be a valid dictionary or object to extract fields from",
                );
                None
            }
        }
    }

    /// Records a problem at `at`.
    pub fn problem(&mut self, at: &[At], kind: &str, msg: impl Into<String>) {
        self.errors.push(Detail {
            loc: loc(at),
            msg: msg.into(),
            kind: kind.to_owned(),
        });
    }

    /// Records that the required field at `at` is missing.
    pub fn missing(&mut self, at: &[At]) {
        self.problem(at, "missing", "Field required");
    }

    /// A required field: missing, `null` or of another type is a problem.
    pub fn required<T: Expected>(&mut self, at: &[At], field: Lax<T>) -> Option<T> {
        match field {
            Lax::Value(v) => Some(v),
            Lax::Absent => {
                self.missing(at);
                None
            }
            Lax::Wrong => {
                self.problem(at, T::EXPECTED.kind, T::EXPECTED.msg);
                None
            }
        }
    }

    /// A required, non-empty string.
    pub fn required_text<'a>(&mut self, at: &[At], field: Lax<Text<'a>>) -> Option<Text<'a>> {
        let text = self.required(at, field)?;
        if text.is_empty() {
            self.problem(
                at,
                "string_too_short",
                "String should have at least 1 character",
            );
            return None;
        }
        Some(text)
    }

    /// An optional field: missing or `null` is `None`; of another type it
    /// is logged and `None` too.
    pub fn optional<T: Expected>(&self, at: &[At], field: Lax<T>) -> Option<T> {
        match field {
            Lax::Value(v) => Some(v),
            Lax::Absent => None,
            Lax::Wrong => {
                self.unexpected(at, T::EXPECTED.name);
                None
            }
        }
    }

    /// Logs that the field at `at` is not the `expected` type and is left
    /// out of the envelope (the verbatim payload keeps it).
    pub fn unexpected(&self, at: &[At], expected: &str) {
        tracing::warn!(
            provider = self.provider,
            field = %Path(at),
            expected,
            "field of an unexpected type left out of the normalized data"
        );
    }

    /// Whether any problem was recorded.
    pub fn has_problems(&self) -> bool {
        !self.errors.is_empty()
    }

    /// `Ok(value)` when no problem was recorded, else every problem.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, Vec<Detail>> {
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ if self.errors.is_empty() => Err(vec![Detail {
                loc: loc(&[]),
                msg: "Input does not match the expected shape".into(),
                kind: "value_error".into(),
            }]),
            _ => Err(self.errors),
        }
    }
}

/// What `f` logs, as JSON lines, through a subscriber of this thread only.
#[cfg(test)]
pub(crate) fn logged(f: impl FnOnce()) -> String {
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .json()
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_accepts_ordinary_json() {
        for ok in [
            r#"{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}"#,
            r#" [1, "x", null, true, -1.5e3] "#,
            r#"{"\u0061":1,"b":1}"#,
            "\"\u{fffe}\"",
        ] {
            assert_eq!(parse_strict(ok.as_bytes()), Ok(ok), "{ok}");
        }
    }

    #[test]
    fn strict_refuses() {
        let invalid = |s: &[u8]| matches!(parse_strict(s), Err(JsonError::Invalid(_)));
        assert!(invalid(br#"{"a":1,"a":2}"#));
        assert!(invalid(br#"{"x":{"b":[{"c":1,"c":1}]}}"#));
        // Same key once escaped, once not.
        assert!(invalid(br#"{"a":1,"\u0061":2}"#));
        assert!(invalid(b""));
        assert!(invalid(b"{} {}"));
        assert!(invalid(b"{\"a\":"));
        assert!(invalid(b"nope"));
        assert_eq!(parse_strict(b"\xEF\xBB\xBF{}"), Err(JsonError::Bom));
        assert_eq!(parse_strict(b"{\"a\":\"\xff\"}"), Err(JsonError::NotUtf8));
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse_strict(deep(MAX_DEPTH).as_bytes()).is_ok());
        assert!(invalid(deep(MAX_DEPTH + 1).as_bytes()));
        assert!(invalid(deep(100_000).as_bytes()));
        let deep_obj = format!(
            "{}1{}",
            r#"{"a":"#.repeat(MAX_DEPTH + 1),
            "}".repeat(MAX_DEPTH + 1)
        );
        assert!(invalid(deep_obj.as_bytes()));
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Sample<'a> {
        #[serde(borrow)]
        s: Lax<Text<'a>>,
        n: Lax<Int<i64>>,
        u: Lax<Int<u64>>,
        #[serde(borrow)]
        o: Lax<Object<Inner<'a>>>,
        #[serde(borrow)]
        arr: Lax<Vec<Lax<Object<Inner<'a>>>>>,
        any: Lax<de::IgnoredAny>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Inner<'a> {
        #[serde(borrow)]
        k: Lax<Text<'a>>,
    }

    fn sample(text: &str) -> Sample<'_> {
        Reader::new("test").root(text).unwrap()
    }

    #[test]
    fn lax_fields_never_fail_the_read() {
        let s = sample(r#"{"s":1,"n":"1","u":-1,"o":[],"arr":{},"any":null,"extra":[{}]}"#);
        assert_eq!(s.s, Lax::Wrong);
        assert_eq!(s.n, Lax::Wrong);
        assert_eq!(s.u, Lax::Wrong);
        assert!(matches!(s.o, Lax::Wrong));
        assert!(matches!(s.arr, Lax::Wrong));
        assert!(!s.any.is_present());

        let s = sample(r#"{"s":null,"n":null}"#);
        assert_eq!((s.s, s.n, s.u), (Lax::Absent, Lax::Absent, Lax::Absent));
        assert!(matches!(s.o, Lax::Absent));
        assert!(matches!(s.arr, Lax::Absent));

        let s =
            sample(r#"{"s":"x","o":{"k":"v","z":1},"arr":[{"k":"a"},4,null,{"k":5}],"any":[]}"#);
        assert_eq!(s.s.value().as_deref(), Some("x"));
        let Lax::Value(Object(inner)) = s.o else {
            panic!("o is an object")
        };
        assert_eq!(inner.k.value().as_deref(), Some("v"));
        let Lax::Value(items) = s.arr else {
            panic!("arr is an array")
        };
        let kinds: Vec<&str> = items
            .iter()
            .map(|i| match i {
                Lax::Value(Object(Inner { k: Lax::Value(_) })) => "text",
                Lax::Value(Object(Inner { k: Lax::Wrong })) => "wrong text",
                Lax::Value(_) => "object",
                Lax::Wrong => "wrong",
                Lax::Absent => "absent",
            })
            .collect();
        assert_eq!(kinds, ["text", "wrong", "absent", "wrong text"]);
        assert!(s.any.is_present());
    }

    #[test]
    fn integers_in_any_form() {
        for (text, want) in [
            ("1", Some(1)),
            ("1.0", Some(1)),
            ("1e0", Some(1)),
            ("-2.0", Some(-2)),
            ("45678901.0", Some(45_678_901)),
            ("4.5678901E7", Some(45_678_901)),
            ("1.5", None),
            ("9223372036854775807", Some(i64::MAX)),
            ("9223372036854775808", None),
            ("99999999999999999999", None),
            ("1e300", None),
            ("\"1\"", None),
            ("true", None),
        ] {
            let got = serde_json::from_str::<Int<i64>>(text).ok().map(|i| i.0);
            assert_eq!(got, want, "{text}");
        }
        let u = |text: &str| serde_json::from_str::<Int<u64>>(text).ok().map(|i| i.0);
        assert_eq!(u("18446744073709551615"), Some(u64::MAX));
        assert_eq!(u("45678901.0"), Some(45_678_901));
        assert_eq!(u("-1"), None);
        assert_eq!(u("-1.0"), None);
    }

    #[test]
    fn objects_are_never_read_from_arrays() {
        // A derived struct alone would take `["v"]` positionally.
        assert!(serde_json::from_str::<Inner<'_>>(r#"["v"]"#).is_ok());
        assert!(serde_json::from_str::<Object<Inner<'_>>>(r#"["v"]"#).is_err());
        for text in ["[]", "1", "\"s\"", "null", "true"] {
            let mut r = Reader::new("test");
            assert!(r.root::<Inner<'_>>(text).is_none(), "{text}");
            let errs = r.finish::<()>(None).unwrap_err();
            assert_eq!(errs.len(), 1);
            assert_eq!(errs[0].kind, "model_attributes_type");
            assert_eq!(serde_json::to_string(&errs[0].loc).unwrap(), r#"["body"]"#);
        }
    }

    #[test]
    fn text_borrows_unless_escaped() {
        let s = sample(r#"{"s":"plain","o":{"k":"a\"b\u00e9"}}"#);
        let Lax::Value(Text(plain)) = s.s else {
            panic!("s is a string")
        };
        assert!(matches!(plain, Cow::Borrowed("plain")));
        let Lax::Value(Object(inner)) = s.o else {
            panic!("o is an object")
        };
        let Lax::Value(Text(escaped)) = inner.k else {
            panic!("k is a string")
        };
        assert!(matches!(&escaped, Cow::Owned(s) if s == "a\"bé"));
    }

    #[test]
    fn wrong_optional_fields_are_logged_without_their_value() {
        let s = sample(r#"{"s":"keep","u":"a-long-value-never-logged"}"#);
        let log = logged(|| {
            let r = Reader::new("prov");
            let at = [At::Key("arr"), At::Index(2), At::Key("u")];
            assert_eq!(r.optional(&at, s.u), None);
            assert!(r.optional(&[At::Key("s")], s.s).is_some());
        });
        let lines: Vec<serde_json::Value> = log
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{log}");
        assert_eq!(lines[0]["level"], "WARN");
        let fields = &lines[0]["fields"];
        assert_eq!(fields["provider"], "prov");
        assert_eq!(fields["field"], "arr[2].u");
        assert_eq!(fields["expected"], "integer");
        assert!(!log.contains("a-long-value-never-logged"), "{log}");
    }

    #[test]
    fn reader_reports_required_and_skips_optional() {
        let s = sample(r#"{"s":"","n":1.5,"u":7.0}"#);
        let mut r = Reader::new("test");
        assert_eq!(r.required_text(&[At::Key("s")], s.s), None);
        assert_eq!(r.required(&[At::Key("n")], s.n), None);
        assert_eq!(r.required(&[At::Key("u")], s.u), Some(Int(7)));
        assert!(
            r.required(&[At::Key("o"), At::Key("k")], Lax::<Text<'_>>::Absent)
                .is_none()
        );
        assert!(r.has_problems());
        let before = r.errors.len();
        let wrong: Lax<Int<u64>> = Lax::Wrong;
        let at = [At::Key("arr"), At::Index(0), At::Key("u")];
        assert_eq!(r.optional(&at, wrong), None);
        assert_eq!(r.optional(&at, Lax::<Int<u64>>::Absent), None);
        assert_eq!(r.optional(&at, Lax::Value(Int(3u64))), Some(Int(3)));
        assert_eq!(r.errors.len(), before, "optional fields are never problems");
        assert_eq!(Path(&at).to_string(), "arr[0].u");
        let errors = r.finish(Some(())).unwrap_err();
        assert_eq!(
            serde_json::to_value(&errors).unwrap(),
            serde_json::json!([
                {"loc": ["body", "s"], "msg": "String should have at least 1 character", "type": "string_too_short"},
                {"loc": ["body", "n"], "msg": "Input should be a valid integer", "type": "int_type"},
                {"loc": ["body", "o", "k"], "msg": "Field required", "type": "missing"},
            ])
        );
        assert_eq!(Reader::new("test").finish(Some(5)), Ok(5));
        let unexplained = Reader::new("test").finish::<()>(None).unwrap_err();
        assert_eq!(unexplained[0].kind, "value_error");
    }
}
