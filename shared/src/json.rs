//! Strict JSON reading and schema checks that report every problem at once.
//!
//! Parsing happens in two passes over the authenticated bytes, neither of
//! which builds a `serde_json::Value`: [`parse_strict`] walks the whole
//! document once to refuse what serde_json would quietly accept (duplicate
//! keys, whose "last one wins" lets two readers see two different events;
//! a byte-order mark; absurd nesting), and [`Checker`] then reads the fields
//! a provider needs straight from borrowed raw slices, collecting
//! FastAPI-style `{loc, msg, type}` details for the 422 answer.

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
        while let Some(Key(key)) = map.next_key()? {
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

/// An object key, borrowed from the body unless it had escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
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

/// The JSON type a field must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Str,
    Num,
    Int,
    Obj,
    Arr,
}

impl Expect {
    fn matches(self, raw: &str) -> bool {
        let first = raw.as_bytes().first().copied().unwrap_or(b' ');
        match self {
            Self::Str => first == b'"',
            Self::Obj => first == b'{',
            Self::Arr => first == b'[',
            Self::Num => first == b'-' || first.is_ascii_digit(),
            Self::Int => {
                (first == b'-' || first.is_ascii_digit())
                    && !raw.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
            }
        }
    }

    fn complaint(self) -> (&'static str, &'static str) {
        match self {
            Self::Str => ("string_type", "Input should be a valid string"),
            Self::Num => ("float_type", "Input should be a valid number"),
            Self::Int => ("int_type", "Input should be a valid integer"),
            Self::Obj => ("dict_type", "Input should be a valid dictionary"),
            Self::Arr => ("list_type", "Input should be a valid list"),
        }
    }
}

/// Collects schema problems while a provider reads its fields.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<Detail>,
}

impl Checker {
    /// A checker with no problems yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The document's top-level object; a problem if it is anything else.
    pub fn root<'a>(&mut self, text: &'a str) -> Option<Obj<'a>> {
        let loc = vec![LocPart::Key("body".into())];
        // Read the members straight away: one pass over the text, which
        // succeeds exactly when the text is one JSON object.
        match serde_json::from_str::<Fields<'a>>(text) {
            Ok(Fields(fields)) => Some(Obj { fields, loc }),
            Err(_) => {
                self.push(
                    loc,
                    "model_attributes_type",
                    "Input should be a valid dictionary or object to extract fields from",
                );
                None
            }
        }
    }

    /// Records a problem at `loc`.
    pub fn push(&mut self, loc: Vec<LocPart>, kind: &str, msg: impl Into<String>) {
        self.errors.push(Detail {
            loc,
            msg: msg.into(),
            kind: kind.to_owned(),
        });
    }

    /// `Ok(value)` when no problem was recorded, else every problem.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, Vec<Detail>> {
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ if self.errors.is_empty() => Err(vec![Detail {
                loc: vec![LocPart::Key("body".into())],
                msg: "Input does not match the expected shape".into(),
                kind: "value_error".into(),
            }]),
            _ => Err(self.errors),
        }
    }

    /// Whether any problem was recorded.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    fn object_at<'a>(&mut self, raw: &'a RawValue, loc: Vec<LocPart>) -> Option<Obj<'a>> {
        match serde_json::from_str::<Fields<'a>>(raw.get()) {
            Ok(Fields(fields)) => Some(Obj { fields, loc }),
            Err(_) => {
                let (kind, msg) = Expect::Obj.complaint();
                self.push(loc, kind, msg);
                None
            }
        }
    }
}

/// An object's members, in order, as raw slices of the body.
struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(Key(k)) = map.next_key()? {
                    fields.push((k, map.next_value::<&'de RawValue>()?));
                }
                Ok(Fields(fields))
            }
        }
        d.deserialize_map(V)
    }
}

/// A JSON object in the body, read field by field.
#[derive(Debug, Clone)]
pub struct Obj<'a> {
    fields: Vec<(Cow<'a, str>, &'a RawValue)>,
    loc: Vec<LocPart>,
}

impl<'a> Obj<'a> {
    /// Whether the object has `key` (even as `null`).
    pub fn has(&self, key: &str) -> bool {
        self.raw(key).is_some()
    }

    /// The raw value of `key`.
    pub fn raw(&self, key: &str) -> Option<&'a RawValue> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    fn loc_of(&self, key: &str) -> Vec<LocPart> {
        let mut loc = self.loc.clone();
        loc.push(LocPart::Key(key.to_owned()));
        loc
    }

    /// The field's raw value if present, not null and of the expected type;
    /// records a problem otherwise (absence only when `required`).
    fn get(
        &self,
        c: &mut Checker,
        key: &str,
        expect: Expect,
        required: bool,
    ) -> Option<&'a RawValue> {
        match self.raw(key) {
            Some(raw) if raw.get() == "null" && !required => None,
            Some(raw) if expect.matches(raw.get()) => Some(raw),
            Some(_) => {
                let (kind, msg) = expect.complaint();
                c.push(self.loc_of(key), kind, msg);
                None
            }
            None if required => {
                c.push(self.loc_of(key), "missing", "Field required");
                None
            }
            None => None,
        }
    }

    fn string(&self, c: &mut Checker, key: &str, required: bool) -> Option<Cow<'a, str>> {
        let raw = self.get(c, key, Expect::Str, required)?;
        // A string literal that passed the strict parse always decodes.
        serde_json::from_str::<Key<'a>>(raw.get()).ok().map(|k| k.0)
    }

    /// A required, non-empty string.
    pub fn req_str(&self, c: &mut Checker, key: &str) -> Option<Cow<'a, str>> {
        let s = self.string(c, key, true)?;
        if s.is_empty() {
            c.push(
                self.loc_of(key),
                "string_too_short",
                "String should have at least 1 character",
            );
            return None;
        }
        Some(s)
    }

    /// An optional string (absent or `null` is `None`).
    pub fn opt_str(&self, c: &mut Checker, key: &str) -> Option<Cow<'a, str>> {
        self.string(c, key, false)
    }

    fn number(&self, c: &mut Checker, key: &str, required: bool) -> Option<f64> {
        let raw = self.get(c, key, Expect::Num, required)?;
        serde_json::from_str(raw.get()).ok()
    }

    /// A required number.
    pub fn req_num(&self, c: &mut Checker, key: &str) -> Option<f64> {
        self.number(c, key, true)
    }

    /// An optional number.
    pub fn opt_num(&self, c: &mut Checker, key: &str) -> Option<f64> {
        self.number(c, key, false)
    }

    fn integer(&self, c: &mut Checker, key: &str, required: bool) -> Option<i64> {
        let raw = self.get(c, key, Expect::Int, required)?;
        let parsed = serde_json::from_str(raw.get()).ok();
        if parsed.is_none() {
            let (kind, msg) = Expect::Int.complaint();
            c.push(self.loc_of(key), kind, msg);
        }
        parsed
    }

    /// A required integer (within `i64`).
    pub fn req_int(&self, c: &mut Checker, key: &str) -> Option<i64> {
        self.integer(c, key, true)
    }

    /// An optional integer (within `i64`).
    pub fn opt_int(&self, c: &mut Checker, key: &str) -> Option<i64> {
        self.integer(c, key, false)
    }

    fn object(&self, c: &mut Checker, key: &str, required: bool) -> Option<Obj<'a>> {
        let raw = self.get(c, key, Expect::Obj, required)?;
        c.object_at(raw, self.loc_of(key))
    }

    /// A required object.
    pub fn req_obj(&self, c: &mut Checker, key: &str) -> Option<Obj<'a>> {
        self.object(c, key, true)
    }

    /// An optional object.
    pub fn opt_obj(&self, c: &mut Checker, key: &str) -> Option<Obj<'a>> {
        self.object(c, key, false)
    }

    fn array(&self, c: &mut Checker, key: &str, required: bool) -> Option<Vec<&'a RawValue>> {
        let raw = self.get(c, key, Expect::Arr, required)?;
        serde_json::from_str(raw.get()).ok()
    }

    /// A required array, as raw items.
    pub fn req_arr(&self, c: &mut Checker, key: &str) -> Option<Vec<&'a RawValue>> {
        self.array(c, key, true)
    }

    /// An optional array of objects; items that are not objects are problems.
    pub fn opt_objects(&self, c: &mut Checker, key: &str) -> Vec<Obj<'a>> {
        let Some(items) = self.array(c, key, false) else {
            return Vec::new();
        };
        items
            .into_iter()
            .enumerate()
            .filter_map(|(i, raw)| {
                let mut loc = self.loc_of(key);
                loc.push(LocPart::Index(i));
                if Expect::Obj.matches(raw.get()) {
                    c.object_at(raw, loc)
                } else {
                    let (kind, msg) = Expect::Obj.complaint();
                    c.push(loc, kind, msg);
                    None
                }
            })
            .collect()
    }
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

    #[test]
    fn checker_reports_every_problem_with_location() {
        let text =
            r#"{"s":"x","n":1.5,"i":2,"o":{"inner":3},"arr":[{"k":"v"},4],"nul":null,"e":""}"#;
        let mut c = Checker::new();
        let root = c.root(text).unwrap();
        assert_eq!(root.req_str(&mut c, "s").as_deref(), Some("x"));
        assert_eq!(root.req_num(&mut c, "n"), Some(1.5));
        assert_eq!(root.req_num(&mut c, "i"), Some(2.0));
        assert_eq!(root.req_int(&mut c, "i"), Some(2));
        assert_eq!(root.opt_str(&mut c, "nul"), None);
        assert_eq!(root.opt_str(&mut c, "absent"), None);
        let o = root.req_obj(&mut c, "o").unwrap();
        assert_eq!(o.req_int(&mut c, "inner"), Some(3));
        assert!(!c.has_errors());

        assert_eq!(root.req_int(&mut c, "n"), None);
        assert_eq!(root.req_str(&mut c, "missing"), None);
        assert_eq!(root.req_str(&mut c, "e"), None);
        assert_eq!(root.req_str(&mut c, "nul"), None);
        assert_eq!(o.opt_str(&mut c, "inner"), None);
        assert_eq!(root.opt_objects(&mut c, "arr").len(), 1);
        let errors = c.finish(Some(())).unwrap_err();
        let got: Vec<(String, &str)> = errors
            .iter()
            .map(|d| (serde_json::to_string(&d.loc).unwrap(), d.kind.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (r#"["body","n"]"#.into(), "int_type"),
                (r#"["body","missing"]"#.into(), "missing"),
                (r#"["body","e"]"#.into(), "string_too_short"),
                (r#"["body","nul"]"#.into(), "string_type"),
                (r#"["body","o","inner"]"#.into(), "string_type"),
                (r#"["body","arr",1]"#.into(), "dict_type"),
            ]
        );
    }

    #[test]
    fn root_must_be_an_object() {
        for text in ["[]", "1", "\"s\"", "null"] {
            let mut c = Checker::new();
            assert!(c.root(text).is_none());
            let errs = c.finish::<()>(None).unwrap_err();
            assert_eq!(errs[0].kind, "model_attributes_type");
        }
    }

    #[test]
    fn escaped_strings_decode() {
        let text = r#"{"s":"a\"b\u00e9"}"#;
        let mut c = Checker::new();
        let root = c.root(text).unwrap();
        assert_eq!(root.req_str(&mut c, "s").as_deref(), Some("a\"bé"));
    }
}
