//! Reading unions told apart by a tag field (`type`, or `name`): the value is taken in once as
//! it came, strings borrowed from the input where the input allows, its tag looked up, and the
//! buffer handed to the known variant's own deserializer. A tag this version does not know
//! keeps the value whole as a `serde_json::Value`.
//!
//! This is what serde's internally tagged enums do, but with a fallback for unknown tags, and
//! without going through `serde_json::Value` for the known ones (which would allocate every key
//! and string twice). It works with any self-describing format (JSON, YAML, a `Value`).

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;
use std::marker::PhantomData;

/// The error of a value whose tag is known but which does not read as that kind: names the
/// union and the tag before what went wrong.
pub(crate) fn variant_error<E: de::Error>(
    union: &str,
    prop: &str,
    tag: &str,
    e: impl fmt::Display,
) -> E {
    E::custom(format_args!("{union} of {prop} \"{tag}\": {e}"))
}

/// A value as it came, before it is known what it is.
#[derive(Debug)]
pub(crate) enum Content<'de> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(&'de str),
    String(String),
    Bytes(Vec<u8>),
    Seq(Vec<Content<'de>>),
    Map(Vec<(Content<'de>, Content<'de>)>),
}

impl<'de> Content<'de> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Content::Str(s) => Some(s),
            Content::String(s) => Some(s),
            _ => None,
        }
    }

    /// The string value of the map entry `prop`, if this is a map that has one; a map that has
    /// it twice is an error (as a duplicate field of a struct is), whatever the two say.
    pub(crate) fn tag(&self, prop: &str) -> Result<Option<&str>, String> {
        let Content::Map(entries) = self else {
            return Ok(None);
        };
        let mut tags = entries.iter().filter(|(k, _)| k.as_str() == Some(prop));
        match (tags.next(), tags.next()) {
            (Some((_, v)), None) => Ok(v.as_str()),
            (None, _) => Ok(None),
            (Some(_), Some(_)) => Err(format!("duplicate field `{prop}`")),
        }
    }

    /// The same value as a `serde_json::Value`.
    pub(crate) fn into_value(self) -> Result<Value, String> {
        Ok(match self {
            Content::Null => Value::Null,
            Content::Bool(b) => Value::Bool(b),
            Content::U64(n) => Value::from(n),
            Content::I64(n) => Value::from(n),
            Content::F64(n) => serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
            Content::Str(s) => Value::String(s.to_string()),
            Content::String(s) => Value::String(s),
            Content::Bytes(b) => Value::Array(b.into_iter().map(Value::from).collect()),
            Content::Seq(items) => Value::Array(
                items
                    .into_iter()
                    .map(Content::into_value)
                    .collect::<Result<_, _>>()?,
            ),
            Content::Map(entries) => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries {
                    let key = match k {
                        Content::Str(s) => s.to_string(),
                        Content::String(s) => s,
                        Content::Bool(b) => b.to_string(),
                        Content::U64(n) => n.to_string(),
                        Content::I64(n) => n.to_string(),
                        other => return Err(format!("a map key that is not a string: {other:?}")),
                    };
                    map.insert(key, v.into_value()?);
                }
                Value::Object(map)
            }
        })
    }
}

impl<'de> Deserialize<'de> for Content<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ContentVisitor)
    }
}

struct ContentVisitor;

impl<'de> Visitor<'de> for ContentVisitor {
    type Value = Content<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Content<'de>, E> {
        Ok(Content::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Content<'de>, E> {
        Ok(Content::I64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Content<'de>, E> {
        Ok(Content::U64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Content<'de>, E> {
        Ok(Content::F64(v))
    }
    fn visit_char<E>(self, v: char) -> Result<Content<'de>, E> {
        Ok(Content::String(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Content<'de>, E> {
        Ok(Content::String(v.to_string()))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Content<'de>, E> {
        Ok(Content::Str(v))
    }
    fn visit_string<E>(self, v: String) -> Result<Content<'de>, E> {
        Ok(Content::String(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Content<'de>, E> {
        Ok(Content::Bytes(v.to_vec()))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Content<'de>, E> {
        Ok(Content::Bytes(v))
    }
    fn visit_unit<E>(self) -> Result<Content<'de>, E> {
        Ok(Content::Null)
    }
    fn visit_none<E>(self) -> Result<Content<'de>, E> {
        Ok(Content::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Content<'de>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Content<'de>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Content::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Content<'de>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Content::Map(entries))
    }
}

/// Hands a [`Content`] to a type's `Deserialize` by reference, with the error type of the format
/// it came from, so that the value is still there, whole, when it does not read as that type.
/// Borrowed strings stay borrowed; a string the format had to unescape is copied.
pub(crate) struct ContentRefDeserializer<'a, 'de, E> {
    content: &'a Content<'de>,
    err: PhantomData<E>,
}

impl<'a, 'de, E> ContentRefDeserializer<'a, 'de, E> {
    pub(crate) fn new(content: &'a Content<'de>) -> Self {
        ContentRefDeserializer {
            content,
            err: PhantomData,
        }
    }
}

impl<'de, E: de::Error> Deserializer<'de> for ContentRefDeserializer<'_, 'de, E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.content {
            Content::Null => visitor.visit_unit(),
            Content::Bool(v) => visitor.visit_bool(*v),
            Content::U64(v) => visitor.visit_u64(*v),
            Content::I64(v) => visitor.visit_i64(*v),
            Content::F64(v) => visitor.visit_f64(*v),
            Content::Str(v) => visitor.visit_borrowed_str(v),
            Content::String(v) => visitor.visit_str(v),
            Content::Bytes(v) => visitor.visit_bytes(v),
            Content::Seq(items) => {
                let mut seq = SeqReader {
                    items: items.iter(),
                    err: PhantomData,
                };
                let value = visitor.visit_seq(&mut seq)?;
                match seq.items.len() {
                    0 => Ok(value),
                    n => Err(de::Error::invalid_length(n, &"fewer elements")),
                }
            }
            Content::Map(entries) => visitor.visit_map(MapReader {
                entries: entries.iter(),
                value: None,
                err: PhantomData,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.content {
            Content::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, E> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, E> {
        use serde::de::IntoDeserializer;
        match self.content {
            Content::Str(s) => visitor.visit_enum((*s).into_deserializer()),
            Content::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            other => Err(de::Error::custom(format_args!(
                "expected a string for an enum, found {other:?}"
            ))),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

struct SeqReader<'a, 'de, E> {
    items: std::slice::Iter<'a, Content<'de>>,
    err: PhantomData<E>,
}

impl<'de, E: de::Error> SeqAccess<'de> for SeqReader<'_, 'de, E> {
    type Error = E;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, E> {
        match self.items.next() {
            Some(item) => seed
                .deserialize(ContentRefDeserializer::new(item))
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapReader<'a, 'de, E> {
    entries: std::slice::Iter<'a, (Content<'de>, Content<'de>)>,
    value: Option<&'a Content<'de>>,
    err: PhantomData<E>,
}

impl<'de, E: de::Error> MapAccess<'de> for MapReader<'_, 'de, E> {
    type Error = E;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, E> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(ContentRefDeserializer::new(k)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, E> {
        match self.value.take() {
            Some(v) => seed.deserialize(ContentRefDeserializer::new(v)),
            None => Err(de::Error::custom("a map value asked for before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A value whose tag is known, read as that kind. When it does not read: with `strict`, the
/// error (naming the union and the tag); otherwise `None`, after a warning in the log that
/// says which kind did not read and why (the caller keeps the value whole as `Unknown`).
pub(crate) fn read_known<'de, T: Deserialize<'de>, E: de::Error>(
    content: &Content<'de>,
    strict: bool,
    union: &str,
    prop: &str,
    tag: &str,
) -> Result<Option<T>, E> {
    match T::deserialize(ContentRefDeserializer::<E>::new(content)) {
        Ok(v) => Ok(Some(v)),
        Err(e) if strict => Err(variant_error(union, prop, tag, e)),
        Err(e) => {
            warn_kept(union, prop, tag, &e);
            Ok(None)
        }
    }
}

/// The warning for a value of a known kind that did not read and is kept as `Unknown`.
pub(crate) fn warn_kept(union: &str, prop: &str, tag: &str, e: &dyn fmt::Display) {
    log::warn!("{union} of {prop} \"{tag}\" does not read ({e}); kept as Unknown");
}

/// The value of the top-level field `prop` of a JSON object, found without parsing the rest:
/// strings are skipped with `memchr`, nested values by counting their own brackets. `None` when
/// the text is not an object, has no such field, or its value is not a plain string (an escape
/// in it, say): the full parser then decides. Nothing is validated here; whatever the tag
/// selects is parsed in full, so malformed text is still an error.
pub(crate) fn json_tag<'a>(s: &'a str, prop: &str) -> Option<&'a str> {
    // the API writes the tag last, as the official models order their fields: look there
    // first, from the end, which costs a few bytes instead of the whole object
    if let Some(tag) = json_last_member(s, prop) {
        return Some(tag);
    }
    let b = s.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(b, i);
        let (key, next) = json_string(b, i)?;
        i = skip_ws(b, next);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        if b[key.0..key.1] == *prop.as_bytes() {
            let (value, _) = json_string(b, i)?;
            let value = &s[value.0..value.1];
            return (!value.contains('\\')).then_some(value);
        }
        i = skip_ws(b, skip_json_value(b, i)?);
        if b.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
}

/// The value of the object's last member when that member is `prop` with a plain string value,
/// read backwards from the closing brace: `, "prop" : "value" }`.
fn json_last_member<'a>(s: &'a str, prop: &str) -> Option<&'a str> {
    let b = s.as_bytes();
    let mut i = skip_ws_back(b, b.len());
    if i == 0 || b[i - 1] != b'}' {
        return None;
    }
    i = skip_ws_back(b, i - 1);
    let (value, start) = json_string_back(b, i)?;
    i = skip_ws_back(b, start);
    if i == 0 || b[i - 1] != b':' {
        return None;
    }
    i = skip_ws_back(b, i - 1);
    let (key, start) = json_string_back(b, i)?;
    i = skip_ws_back(b, start);
    if i == 0 || !matches!(b[i - 1], b',' | b'{') || b[key.0..key.1] != *prop.as_bytes() {
        return None;
    }
    let value = &s[value.0..value.1];
    (!value.contains('\\')).then_some(value)
}

fn skip_ws_back(b: &[u8], mut i: usize) -> usize {
    while i > 0 && matches!(b[i - 1], b' ' | b'\n' | b'\r' | b'\t') {
        i -= 1;
    }
    i
}

/// The string that ends just before `b[end]` (its closing quote is `b[end - 1]`): the range of
/// its contents, and where its opening quote is. A quote is a string's own only when an even
/// number of backslashes precedes it.
fn json_string_back(b: &[u8], end: usize) -> Option<((usize, usize), usize)> {
    if end == 0 || b[end - 1] != b'"' {
        return None;
    }
    let close = end - 1;
    let mut j = close;
    loop {
        j = memchr::memrchr(b'"', &b[..j])?;
        let backslashes = b[..j].iter().rev().take_while(|&&c| c == b'\\').count();
        if backslashes % 2 == 0 {
            return Some(((j + 1, close), j));
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// The string starting at `b[i]` (a quote): the range of its contents, and where it ends.
fn json_string(b: &[u8], i: usize) -> Option<((usize, usize), usize)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        j += memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[j] == b'"' {
            return Some(((i + 1, j), j + 1));
        }
        j += 2; // the backslash and the byte it escapes
    }
}

/// Where the value starting at `b[i]` ends.
fn skip_json_value(b: &[u8], i: usize) -> Option<usize> {
    let (open, close) = match b.get(i)? {
        b'"' => return json_string(b, i).map(|(_, end)| end),
        b'{' => (b'{', b'}'),
        b'[' => (b'[', b']'),
        _ => {
            // a number or a literal
            let len = b[i..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                .unwrap_or(b.len() - i);
            return Some(i + len);
        }
    };
    // inside well-formed JSON, the other kind of bracket cannot change this one's depth
    let mut depth = 0usize;
    let mut j = i;
    loop {
        j += memchr::memchr3(b'"', open, close, b.get(j..)?)?;
        match b[j] {
            b'"' => {
                j = json_string(b, j)?.1;
                continue;
            }
            c if c == open => depth += 1,
            _ => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
        }
        j += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::json_tag;

    #[test]
    fn finds_the_tag_wherever_it_is() {
        let t = |s| json_tag(s, "type");
        assert_eq!(t(r#"{"type":"a"}"#), Some("a"));
        assert_eq!(t(r#" { "id" : 1 , "type" : "b" } "#), Some("b"));
        assert_eq!(
            t(
                r#"{"content":[{"type":"text","text":"a \"}]\" b"}],"n":-1.5e3,"x":null,"o":{"a":[1,{"b":"}"}]},"type":"agent.message"}"#
            ),
            Some("agent.message")
        );
        assert_eq!(t(r#"{"t\u0079pe":"a"}"#), None);
        assert_eq!(t(r#"{"type":"a\nb"}"#), None);
        assert_eq!(t(r#"{"type":1}"#), None);
        assert_eq!(t(r#"{"id":"x"}"#), None);
        assert_eq!(t(r#"["type","a"]"#), None);
        assert_eq!(t(r#"{"a":"unterminated"#), None);
        assert_eq!(t(r#"{"a":{"b":[}"#), None);
        assert_eq!(t(""), None);
    }

    #[test]
    fn the_last_member_is_read_from_the_end_and_only_when_it_is_the_tag() {
        use super::json_last_member as last;
        assert_eq!(last(r#"{"id":"x","type":"a"}"#, "type"), Some("a"));
        assert_eq!(last("{\"type\" :\n \"a\" }\n", "type"), Some("a"));
        assert_eq!(last(r#"{"type":"a"}"#, "type"), Some("a"));
        // escaped quotes inside strings are not string ends
        assert_eq!(
            last(r#"{"a":"x\",\"type\":\"b","type":"c"}"#, "type"),
            Some("c")
        );
        assert_eq!(last(r#"{"a":"x, \"type\": \"b"}"#, "type"), None);
        assert_eq!(last(r#"{"a":"x\\","type":"c"}"#, "type"), Some("c"));
        // a nested tag, another last member, a non-string value: not this way
        assert_eq!(last(r#"{"a":{"type":"b"}}"#, "type"), None);
        assert_eq!(last(r#"{"type":"a","id":"x"}"#, "type"), None);
        assert_eq!(last(r#"{"type":1}"#, "type"), None);
        assert_eq!(last(r#"["type","a"]"#, "type"), None);
        assert_eq!(last(r#""type":"a"}"#, "type"), None);
        assert_eq!(last(r#"{"a\"type":"a"}"#, "type"), None);
        // these still find it going forwards
        assert_eq!(json_tag(r#"{"type":"a","id":"x"}"#, "type"), Some("a"));
    }
}
