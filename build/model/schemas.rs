//! The model of the spec's component schemas: objects with their properties, enums, unions
//! (tagged or not), and the references between them.

use super::{constant, ref_name, ref_tail, text, unwrap};
use serde_json::Value;
use std::collections::BTreeSet;

/// One component schema.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    /// A request object (`x-request`): built with `new` and setters.
    pub(crate) request: bool,
    /// An open enum (`x-open-enum`): `From<&str>` makes sense for it.
    pub(crate) open_enum: bool,
    /// A file body (`format: binary`): nothing is generated for it.
    pub(crate) binary: bool,
    pub(crate) kind: SchemaKind,
}

/// What a component schema is.
#[derive(Debug, Clone)]
pub(crate) enum SchemaKind {
    /// `oneOf` with a `discriminator`.
    Tagged(Tagged),
    /// `anyOf`: tried in turn.
    Untagged(Vec<TypeRef>),
    /// `enum`: open string values.
    Enum(Vec<EnumValue>),
    /// `type: object`. `properties` is `None` when the schema has no `properties` key at all.
    Object(Option<Vec<Property>>),
    /// Anything else: a name for another type.
    Alias(TypeRef),
}

/// A `type`-tagged union.
#[derive(Debug, Clone)]
pub(crate) struct Tagged {
    /// The discriminator (`type`, or `name`).
    pub(crate) property: String,
    /// `(value, schema name)`, in the mapping's order.
    pub(crate) mapping: Vec<(String, String)>,
    /// The schemas the `oneOf` names.
    pub(crate) members: Vec<String>,
}

/// One value of an open enum.
#[derive(Debug, Clone)]
pub(crate) struct EnumValue {
    pub(crate) value: String,
    /// `x-enum-descriptions`.
    pub(crate) description: Option<String>,
    /// `x-deprecated-values`: the note of a value kept by `spec/deprecated.json`.
    pub(crate) deprecated: Option<String>,
}

/// A property of an object schema.
#[derive(Debug, Clone)]
pub(crate) struct Property {
    /// The name on the wire.
    pub(crate) wire: String,
    pub(crate) ty: TypeRef,
    pub(crate) description: Option<String>,
    pub(crate) required: bool,
}

/// A schema used inside another (a property, an item, a map value, a body): its kind and
/// whether `null` is allowed. `allOf: [x]` wrappers are seen through.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TypeRef {
    pub(crate) nullable: bool,
    pub(crate) kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// A component schema, by name.
    Ref(String),
    /// A constant string (`enum: ["x"]`).
    Const(String),
    String,
    Integer,
    Number,
    Boolean,
    Array(Box<TypeRef>),
    /// An object whose values all have one type.
    MapOf(Box<TypeRef>),
    /// A free-form object.
    Object,
    /// Anything.
    Any,
}
impl Schema {
    pub(super) fn parse(name: &str, s: &Value) -> Schema {
        let kind = if let Some(one_of) = s.get("oneOf") {
            let d = &s["discriminator"];
            SchemaKind::Tagged(Tagged {
                property: d["propertyName"]
                    .as_str()
                    .expect("discriminator")
                    .to_string(),
                mapping: d["mapping"]
                    .as_object()
                    .expect("mapping")
                    .iter()
                    .map(|(tag, r)| {
                        let r = r.as_str().and_then(ref_tail).expect("mapping ref");
                        (tag.clone(), r.to_string())
                    })
                    .collect(),
                members: one_of
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(ref_name)
                    .map(String::from)
                    .collect(),
            })
        } else if let Some(any_of) = s.get("anyOf") {
            SchemaKind::Untagged(
                any_of
                    .as_array()
                    .expect("anyOf")
                    .iter()
                    .map(TypeRef::parse)
                    .collect(),
            )
        } else if let Some(values) = s.get("enum") {
            SchemaKind::Enum(
                values
                    .as_array()
                    .expect("enum")
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|v| EnumValue {
                        value: v.to_string(),
                        description: text(&s["x-enum-descriptions"][v]),
                        deprecated: text(&s["x-deprecated-values"][v]),
                    })
                    .collect(),
            )
        } else if s["type"] == "object" {
            SchemaKind::Object(s.get("properties").map(|_| properties(s)))
        } else {
            SchemaKind::Alias(TypeRef::parse(s))
        };
        assert!(
            matches!(kind, SchemaKind::Object(_)) || s.get("properties").is_none(),
            "{name}: only objects have properties"
        );
        Schema {
            name: name.to_string(),
            description: text(&s["description"]),
            request: s["x-request"] == true,
            open_enum: s.get("x-open-enum").is_some(),
            binary: s["format"] == "binary",
            kind,
        }
    }

    /// Its properties (none unless it is an object).
    pub(crate) fn properties(&self) -> &[Property] {
        match &self.kind {
            SchemaKind::Object(Some(p)) => p,
            _ => &[],
        }
    }
}

fn properties(s: &Value) -> Vec<Property> {
    let required: BTreeSet<&str> = s["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    s["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(wire, p)| Property {
            wire: wire.clone(),
            ty: TypeRef::parse(p),
            description: text(&p["description"]),
            required: required.contains(wire.as_str()),
        })
        .collect()
}

impl TypeRef {
    pub(crate) fn parse(s: &Value) -> TypeRef {
        TypeRef {
            nullable: s["nullable"] == true,
            kind: Kind::parse(unwrap(s)),
        }
    }

    /// The constant strings in it, in order.
    pub(super) fn consts(&self, out: &mut Vec<String>) {
        match &self.kind {
            Kind::Const(c) => out.push(c.clone()),
            Kind::Array(t) | Kind::MapOf(t) => t.consts(out),
            _ => {}
        }
    }
}

impl Kind {
    fn parse(s: &Value) -> Kind {
        if let Some(name) = ref_name(s) {
            return Kind::Ref(name.to_string());
        }
        if let Some(c) = constant(s) {
            return Kind::Const(c.to_string());
        }
        match s["type"].as_str() {
            Some("string") => Kind::String,
            Some("integer") => Kind::Integer,
            Some("number") => Kind::Number,
            Some("boolean") => Kind::Boolean,
            Some("array") => Kind::Array(Box::new(TypeRef::parse(&s["items"]))),
            Some("object") => match s["additionalProperties"].as_object() {
                Some(ap) if !ap.is_empty() => {
                    Kind::MapOf(Box::new(TypeRef::parse(&s["additionalProperties"])))
                }
                _ => Kind::Object,
            },
            _ => Kind::Any,
        }
    }
}
