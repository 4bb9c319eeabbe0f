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

    /// Whether a map in this value, at any depth, has a key twice.
    pub(crate) fn has_duplicate_key(&self) -> bool {
        match self {
            Content::Seq(items) => items.iter().any(Content::has_duplicate_key),
            Content::Map(entries) => {
                let mut keys: Vec<&str> = entries.iter().filter_map(|(k, _)| k.as_str()).collect();
                keys.sort_unstable();
                keys.windows(2).any(|w| w[0] == w[1])
                    || entries.iter().any(|(_, v)| v.has_duplicate_key())
            }
            _ => false,
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
        // a key given twice is an error, never `Unknown`: kept whole, the value would lose
        // one of the two, and read back as the known kind it did not read as
        Err(e) if strict || content.has_duplicate_key() => Err(variant_error(union, prop, tag, e)),
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
