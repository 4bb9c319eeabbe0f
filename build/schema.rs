//! The Rust type each schema of the model maps to, and what the generated code may assume of
//! a type (a `Default`, reading as empty when a response leaves it out).

use super::model::{Api, Kind, SchemaKind, Tagged, TypeRef};
use std::collections::HashMap;

pub(crate) struct Gen<'a> {
    pub(crate) api: &'a Api,
    default_memo: HashMap<String, bool>,
    /// type name -> whether a response may leave a required field of that type out
    missing_memo: HashMap<String, bool>,
}

impl<'a> Gen<'a> {
    pub(crate) fn new(api: &'a Api) -> Self {
        Gen {
            api,
            default_memo: HashMap::new(),
            missing_memo: HashMap::new(),
        }
    }

    /// Whether a schema is a request object (the spec marks them `x-request`).
    pub(crate) fn is_request(&self, name: &str) -> bool {
        self.api.schema(name).is_some_and(|s| s.request)
    }

    /// Whether a `oneOf` union is one of request objects: all its members are.
    pub(crate) fn is_request_union(&self, union: &Tagged) -> bool {
        !union.members.is_empty() && union.members.iter().all(|m| self.is_request(m))
    }

    /// The Rust type of a schema that sits inside another (a property, an item, a map value).
    pub(crate) fn rust_type(&self, t: &TypeRef) -> String {
        let plain = self.rust_type_plain(&t.kind);
        if t.nullable {
            format!("Option<{plain}>")
        } else {
            plain
        }
    }

    /// The Rust type of a kind, `null` aside.
    pub(crate) fn rust_type_plain(&self, kind: &Kind) -> String {
        match kind {
            Kind::Ref(name) => name.clone(),
            Kind::Const(value) => match self.api.tags.get(value) {
                Some(tag) => format!("tags::{tag}"),
                None => panic!("the constant {value:?} is not in a generated schema"),
            },
            Kind::String => "String".into(),
            Kind::Integer => "i64".into(),
            Kind::Number => "f64".into(),
            Kind::Boolean => "bool".into(),
            Kind::Array(items) => format!("Vec<{}>", self.rust_type(items)),
            Kind::MapOf(values) => format!("BTreeMap<String, {}>", self.rust_type(values)),
            Kind::Object => "Map<String, Value>".into(),
            Kind::Any => "Value".into(),
        }
    }

    /// Whether a type (by its Rust spelling) has a `Default`.
    pub(crate) fn has_default(&mut self, ty: &str) -> bool {
        if ty.starts_with("Option<")
            || ty.starts_with("Vec<")
            || ty.starts_with("BTreeMap<")
            || ty.starts_with("tags::")
            || matches!(
                ty,
                "String" | "i64" | "f64" | "bool" | "Value" | "Map<String, Value>"
            )
        {
            return true;
        }
        if let Some(&d) = self.default_memo.get(ty) {
            return d;
        }
        self.default_memo.insert(ty.to_string(), false); // cycle guard
        let api = self.api;
        let d = match api.schema(ty).map(|s| &s.kind) {
            Some(SchemaKind::Object(Some(props))) => props
                .iter()
                .filter(|p| p.required)
                .all(|p| self.has_default(&self.rust_type(&p.ty))),
            _ => false,
        };
        self.default_memo.insert(ty.to_string(), d);
        d
    }

    /// Whether a required field of this type, left out of a response, reads as its default:
    /// a list, a map, or an object whose required fields all can (an object of optional
    /// fields, statistics, counters in lists). A missing string, number, boolean, tag, union or
    /// enum stays an error: a zero value there would hide a real fault.
    pub(crate) fn missing_ok(&mut self, ty: &str) -> bool {
        if ty.starts_with("Vec<")
            || ty.starts_with("BTreeMap<")
            || ty.starts_with("Option<")
            || ty == "Map<String, Value>"
        {
            return true;
        }
        if let Some(&d) = self.missing_memo.get(ty) {
            return d;
        }
        self.missing_memo.insert(ty.to_string(), false); // cycle guard
        let api = self.api;
        let d = match api.schema(ty).map(|s| &s.kind) {
            Some(SchemaKind::Object(Some(props))) => props
                .iter()
                .filter(|p| p.required)
                .all(|p| self.missing_ok(&self.rust_type(&p.ty))),
            _ => false,
        };
        self.missing_memo.insert(ty.to_string(), d);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn spec() -> Value {
        json!({"components": {"schemas": {
            "Thing": {"type": "object", "required": ["id", "items"], "properties": {
                "id": {"type": "string"},
                "items": {"type": "array", "items": {"type": "string"}},
                "note": {"type": "string", "nullable": true}
            }},
            "Stats": {"type": "object", "properties": {"n": {"type": "integer"}}},
            "Cycle": {"type": "object", "required": ["next"], "properties": {
                "next": {"$ref": "#/components/schemas/Cycle"}
            }},
            "Event": {"type": "object", "properties": {
                "a": {"type": "string", "enum": ["agent.message"]},
                "b": {"type": "string", "enum": ["agent_message"]}
            }}
        }}})
    }

    fn t(g: &Gen, v: Value) -> String {
        g.rust_type(&TypeRef::parse(&v))
    }

    #[test]
    fn each_schema_shape_has_one_rust_type() {
        let api = Api::from_json(&spec());
        let g = Gen::new(&api);
        assert_eq!(t(&g, json!({"type": "string"})), "String");
        assert_eq!(t(&g, json!({"type": "integer"})), "i64");
        assert_eq!(t(&g, json!({"type": "number"})), "f64");
        assert_eq!(t(&g, json!({"type": "boolean"})), "bool");
        assert_eq!(t(&g, json!({})), "Value");
        assert_eq!(
            t(
                &g,
                json!({"type": "array", "items": {"$ref": "#/components/schemas/Thing"}})
            ),
            "Vec<Thing>"
        );
        assert_eq!(
            t(
                &g,
                json!({"type": "object", "additionalProperties": {"type": "string"}})
            ),
            "BTreeMap<String, String>"
        );
        assert_eq!(t(&g, json!({"type": "object"})), "Map<String, Value>");
        assert_eq!(
            t(&g, json!({"type": "object", "additionalProperties": {}})),
            "Map<String, Value>"
        );
        // nullable is Option, through an `allOf` wrapper too
        assert_eq!(
            t(
                &g,
                json!({"allOf": [{"$ref": "#/components/schemas/Stats"}], "nullable": true})
            ),
            "Option<Stats>"
        );
    }

    #[test]
    fn a_constant_string_is_a_tag_type_named_once() {
        let api = Api::from_json(&spec());
        let g = Gen::new(&api);
        let c = json!({"type": "string", "enum": ["agent.message"]});
        assert_eq!(t(&g, c), "tags::AgentMessage");
        // another value with the same Rust name gets a number
        let d = json!({"type": "string", "enum": ["agent_message"]});
        assert_eq!(t(&g, d), "tags::AgentMessage2");
        assert_eq!(api.tags.len(), 2);
    }

    #[test]
    fn default_is_derived_only_when_every_required_field_has_one() {
        let api = Api::from_json(&spec());
        let mut g = Gen::new(&api);
        assert!(g.has_default("Thing"));
        assert!(g.has_default("Stats"));
        assert!(g.has_default("Vec<Thing>"));
        // a type that needs itself has none, and the cycle ends
        assert!(!g.has_default("Cycle"));
        assert!(!g.has_default("NotASchema"));
    }

    #[test]
    fn a_missing_list_map_or_all_optional_object_reads_as_empty_and_nothing_else_does() {
        let api = Api::from_json(&spec());
        let mut g = Gen::new(&api);
        assert!(g.missing_ok("Vec<String>"));
        assert!(g.missing_ok("BTreeMap<String, String>"));
        assert!(g.missing_ok("Map<String, Value>"));
        assert!(g.missing_ok("Stats"));
        // `Thing` requires a string; strings, numbers and tags stay required
        assert!(!g.missing_ok("Thing"));
        assert!(!g.missing_ok("String"));
        assert!(!g.missing_ok("i64"));
        assert!(!g.missing_ok("tags::Text"));
        assert!(!g.missing_ok("Cycle"));
    }

    #[test]
    fn a_union_is_a_request_union_only_when_all_its_members_are_requests() {
        let api = Api::from_json(&json!({"components": {"schemas": {
            "AParams": {"type": "object", "x-request": true},
            "BParams": {"type": "object", "x-request": true},
            "C": {"type": "object"}
        }}}));
        let g = Gen::new(&api);
        let union = |refs: &[&str]| Tagged {
            property: "type".into(),
            mapping: Vec::new(),
            members: refs.iter().map(|r| r.to_string()).collect(),
        };
        assert!(g.is_request_union(&union(&["AParams", "BParams"])));
        assert!(!g.is_request_union(&union(&["AParams", "C"])));
        assert!(!g.is_request_union(&union(&[])));
    }

    #[test]
    fn required_fields_are_read_from_the_schema() {
        let api = Api::from_json(&spec());
        let required: Vec<&str> = api
            .schema("Thing")
            .unwrap()
            .properties()
            .iter()
            .filter(|p| p.required)
            .map(|p| p.wire.as_str())
            .collect();
        assert_eq!(required, ["id", "items"]);
    }
}
