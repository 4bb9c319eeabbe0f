//! Reading the fields of a known response object: each known field taken by name (a duplicate
//! is an error, as serde's own derive makes it), every other one kept as it came. The
//! generated `Deserialize` impls of the response types are written with these.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// A key of an object: the index of a known field, or another key, kept.
pub(crate) enum Key {
    Known(usize),
    Other(String),
}

/// Reads a key with the object's own matcher of its known field names; only an unknown key is
/// allocated.
#[derive(Clone, Copy)]
pub(crate) struct Keys<F>(pub(crate) F);

impl<'de, F: Fn(&str) -> Option<usize>> DeserializeSeed<'de> for Keys<F> {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, F: Fn(&str) -> Option<usize>> Visitor<'de> for Keys<F> {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(match (self.0)(v) {
            Some(i) => Key::Known(i),
            None => Key::Other(v.to_string()),
        })
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
        Ok(match (self.0)(&v) {
            Some(i) => Key::Known(i),
            None => Key::Other(v),
        })
    }
}

/// The value of a known field into its slot; a second one is an error.
#[inline]
pub(crate) fn field<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// A required field's value, or the error that names it.
#[inline]
pub(crate) fn required<T, E: de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| de::Error::missing_field(name))
}
