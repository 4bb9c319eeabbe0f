//! The API's types, generated from `spec/openapi.json` by build.rs, and the few macros and
//! helpers the generated code is written with.
//!
//! Naming: the official model names without their `BetaManagedAgents` / `Beta` prefix
//! (`BetaManagedAgentsSession` -> [`Session`], `BetaManagedAgentsSessionEvent` ->
//! [`SessionEvent`]). How the shapes map to Rust:
//!
//! - An object is a struct. A field the API may leave out is an `Option`; absent and `null`
//!   both read as `None`, and `None` is left out when written. In request types (`*Params`), a
//!   field the API lets you set to `null` is an `Option<Option<T>>`: `None` leaves it out,
//!   `Some(None)` sends `null` (clears it), `Some(Some(v))` sends the value.
//! - A constant `type` is a zero-sized type from [`tags`]; it writes itself and refuses any other
//!   value, so nobody has to spell it.
//! - A union told apart by `type` is an enum with one variant per known value and
//!   `Unknown(serde_json::Value)` for values this version does not know, kept whole and written
//!   back unchanged.
//!   In a response, a value of a known kind that does not read as that kind (a field the API
//!   changed) is kept as `Unknown` too, with a warning in the log; `deserialize_strict` (and
//!   `from_json_strict` on the stream unions) make it an error instead. Request unions are
//!   strict.
//! - A string enum (a status, a stop reason, a model name) is an enum with `Other(String)` for
//!   values this version does not know.
//! - Fields of a response object that this version does not know are kept in its `extra` map
//!   and written back. A required list, map or object of optional fields that a response
//!   leaves out reads as empty; any other missing required field is an error.
//! - Every generated struct and enum is `#[non_exhaustive]`: build requests with `new(..)` and
//!   the setters (query structs with `default()` and the setters), and match with a `_` arm.
//!
//! ```
//! use managed_agents::types::{SessionEvent, SessionStatus};
//!
//! let ev: SessionEvent = serde_json::from_str(
//!     r#"{"type":"agent.telepathy","id":"sevt_1","processed_at":"2026-05-01T00:00:00Z"}"#,
//! )?;
//! assert!(matches!(ev, SessionEvent::Unknown(_)));
//! assert_eq!(serde_json::to_string(&ev)?, r#"{"id":"sevt_1","processed_at":"2026-05-01T00:00:00Z","type":"agent.telepathy"}"#);
//!
//! let status: SessionStatus = serde_json::from_str(r#""hibernating""#)?;
//! assert_eq!(status, SessionStatus::Other("hibernating".into()));
//! # Ok::<(), serde_json::Error>(())
//! ```
#![allow(
    clippy::large_enum_variant,
    clippy::doc_lazy_continuation,
    clippy::too_many_arguments
)]

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

mod builders;
mod event_helpers;
pub(crate) mod fields;
pub(crate) mod json_tag;
pub(crate) mod tagged;

/// Reads a present field as `Some(..)` even when it is `null`, so that `Option<Option<T>>`
/// tells absent (`None`) from `null` (`Some(None)`).
pub(crate) fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Visits a string without allocating and hands it to a function.
pub(crate) struct StrVisitor<F>(pub(crate) F, pub(crate) &'static str);

impl<'de, F, R> serde::de::Visitor<'de> for StrVisitor<F>
where
    F: FnOnce(&str) -> Result<R, String>,
{
    type Value = R;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.1)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<R, E> {
        (self.0)(v).map_err(E::custom)
    }
}

macro_rules! const_tag {
    ($name:ident, $value:literal) => {
        #[doc = concat!("The constant `\"", $value, "\"`.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name;

        impl $name {
            /// The string this tag stands for.
            pub const VALUE: &'static str = $value;
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($value)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str($crate::types::StrVisitor(
                    |s: &str| {
                        if s == $value {
                            Ok($name)
                        } else {
                            Err(format!("expected \"{}\", found \"{}\"", $value, s))
                        }
                    },
                    concat!("the string \"", $value, "\""),
                ))
            }
        }
    };
}
pub(crate) use const_tag;

macro_rules! open_enum {
    ($(#[$outer:meta])* $name:ident; $( $(#[$m:meta])* $variant:ident = $value:literal, )*) => {
        $(#[$outer])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$m])* $variant, )*
            /// A value this version of the crate does not know, kept as it came.
            Other(String),
        }

        #[allow(deprecated)]
        impl $name {
            /// Returns the string the API uses for this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $value, )*
                    $name::Other(s) => s,
                }
            }
        }

        #[allow(deprecated)]
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $value => $name::$variant, )*
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match $name::from(s.as_str()) {
                    $name::Other(_) => $name::Other(s),
                    known => known,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str($crate::types::StrVisitor(
                    |s: &str| Ok($name::from(s)),
                    "a string",
                ))
            }
        }

        impl $crate::op::QueryValue for $name {
            fn query_value(&self) -> String {
                self.as_str().to_string()
            }
        }
    };
}
pub(crate) use open_enum;

macro_rules! tagged_union {
    (@strict request) => { true };
    (@strict response) => { false };
    (@strict_fn request, $name:ident) => {};
    (@strict_fn response, $name:ident) => {
        impl $name {
            /// Reads one as `Deserialize` does, except that a value of a known kind that does
            /// not read as that kind is an error naming the kind, not `Unknown`: for a program
            /// that would rather stop than carry on without it.
            pub fn deserialize_strict<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $name::read(d, true)
            }
        }
    };
    ($(#[$outer:meta])* $name:ident, $prop:literal, $side:ident; $( $(#[$m:meta])* $variant:ident($ty:ty) = $tag:literal, )*) => {
        $(#[$outer])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$m])* $variant($ty), )*
            /// A kind this version of the crate does not know, kept whole and written back
            /// unchanged (in a response, also a known kind that did not read as that kind).
            Unknown(serde_json::Value),
        }

        impl $name {
            #[doc = concat!("The `", $prop, "` of this value.")]
            pub fn tag(&self) -> Option<&str> {
                match self {
                    $( $name::$variant(_) => Some($tag), )*
                    $name::Unknown(v) => v.get($prop).and_then(serde_json::Value::as_str),
                }
            }

            /// Reads one; a known kind that does not read is an error with `strict`, else
            /// `Unknown` (logged).
            fn read<'de, D: serde::Deserializer<'de>>(d: D, strict: bool) -> Result<Self, D::Error> {
                use serde::de::Error as _;
                // taken in once; a known tag hands the buffer to its variant, strings and all
                let content = $crate::types::tagged::Content::deserialize(d)?;
                match content.tag($prop).map_err(D::Error::custom)? {
                    $( Some($tag) => {
                        if let Some(v) = $crate::types::tagged::read_known::<$ty, D::Error>(
                            &content, strict, stringify!($name), $prop, $tag,
                        )? {
                            return Ok($name::$variant(v));
                        }
                    } )*
                    _ => {}
                }
                content.into_value().map($name::Unknown).map_err(D::Error::custom)
            }
        }

        $crate::types::tagged_union!(@strict_fn $side, $name);

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( $name::$variant(v) => v.serialize(s), )*
                    $name::Unknown(v) => v.serialize(s),
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $name::read(d, $crate::types::tagged_union!(@strict $side))
            }
        }

        $( impl From<$ty> for $name {
            fn from(v: $ty) -> Self {
                $name::$variant(v)
            }
        } )*
    };
}
pub(crate) use tagged_union;

macro_rules! json_fast_path {
    ($name:ident, $prop:literal; $( $variant:ident($ty:ty) = $tag:literal, )*) => {
        impl $name {
            /// Reads one from JSON text, as `serde_json::from_str` does, but faster: the tag is
            /// found by a light scan and the text parsed once, straight into its kind. A known
            /// kind that does not read is kept as `Unknown` (logged), as `Deserialize` does.
            ///
            /// ```
            #[doc = concat!("let ev = managed_agents::types::", stringify!($name), "::from_json(")]
            ///     r#"{"id":"sevt_1","processed_at":"2026-05-01T00:00:00Z","type":"agent.message","content":[]}"#,
            /// )?;
            /// assert_eq!(ev.tag(), Some("agent.message"));
            /// # Ok::<(), serde_json::Error>(())
            /// ```
            pub fn from_json(s: &str) -> serde_json::Result<Self> {
                $name::json(s, false)
            }

            /// [`Self::from_json`], except that a known kind that does not read is an error
            /// naming the kind (as [`Self::deserialize_strict`]).
            pub fn from_json_strict(s: &str) -> serde_json::Result<Self> {
                $name::json(s, true)
            }

            fn json(s: &str, strict: bool) -> serde_json::Result<Self> {
                $name::json_tagged(s, $crate::types::json_tag::json_tag(s, $prop), strict)
            }

            /// Whether `tag` is the tag of one of its kinds.
            #[allow(dead_code)]
            pub(crate) fn has_kind(tag: &str) -> bool {
                matches!(tag, $( $tag )|*)
            }

            /// [`Self::from_json`] (or its strict form) with the tag already found by
            /// `json_tag` (`None` when it found none), so that a caller that routes on the tag
            /// does not scan for it twice.
            #[allow(dead_code)]
            pub(crate) fn json_tagged(s: &str, tag: Option<&str>, strict: bool) -> serde_json::Result<Self> {
                match tag {
                    $( Some($tag) => match serde_json::from_str::<$ty>(s) {
                        Ok(v) => return Ok($name::$variant(v)),
                        Err(e) if strict => {
                            return Err($crate::types::tagged::variant_error(stringify!($name), $prop, $tag, e))
                        }
                        // the general path tells broken text (an error) from a kind that does
                        // not read (`Unknown`, logged)
                        Err(_) => {}
                    }, )*
                    // no tag, or one this version does not know: the general path decides
                    _ => {}
                }
                let mut de = serde_json::Deserializer::from_str(s);
                let value = $name::read(&mut de, strict)?;
                de.end()?;
                Ok(value)
            }
        }
    };
}
pub(crate) use json_fast_path;

include!(concat!(env!("OUT_DIR"), "/types.rs"));

/// The resources a session mounts. The official SDK defines this union once and uses it for
/// sessions and deployments alike; its generated name is `DeploymentCreateParamsResource`.
pub type SessionCreateParamsResource = DeploymentCreateParamsResource;
