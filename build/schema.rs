//! Reading the spec: the component schemas, and the Rust type each schema maps to.

use crate::names::camel;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub(crate) struct Gen<'a> {
    pub(crate) spec: &'a Value,
    pub(crate) schemas: &'a Map<String, Value>,
    /// constant string value -> tag type name in `tags`
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) default_memo: HashMap<String, bool>,
    /// type name -> whether a response may leave a required field of that type out
    pub(crate) missing_memo: HashMap<String, bool>,
}

impl<'a> Gen<'a> {
    pub(crate) fn new(spec: &'a Value) -> Self {
        let schemas = spec["components"]["schemas"]
            .as_object()
            .expect("components.schemas");
        Gen {
            spec,
            schemas,
            tags: BTreeMap::new(),
            default_memo: HashMap::new(),
            missing_memo: HashMap::new(),
        }
    }

    /// Whether a schema is a request object (the spec marks them `x-request`).
    pub(crate) fn is_request(&self, name: &str) -> bool {
        self.schemas
            .get(name)
            .and_then(|s| s.get("x-request"))
            .and_then(Value::as_bool)
            == Some(true)
    }

    /// Whether a `oneOf` union is one of request objects: all its members are.
    pub(crate) fn is_request_union(&self, s: &Value) -> bool {
        let members: Vec<&str> = s["oneOf"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Self::ref_name)
            .collect();
        !members.is_empty() && members.iter().all(|m| self.is_request(m))
    }

    pub(crate) fn ref_name(s: &Value) -> Option<&str> {
        s.get("$ref")?.as_str()?.rsplit('/').next()
    }

    /// The schema behind `allOf: [x]` wrappers (which only carry a description or `nullable`).
    pub(crate) fn unwrap(s: &Value) -> &Value {
        match s.get("allOf").and_then(Value::as_array) {
            Some(all) if all.len() == 1 => &all[0],
            _ => s,
        }
    }

    pub(crate) fn is_const(s: &Value) -> Option<&str> {
        let e = s.get("enum")?.as_array()?;
        if e.len() == 1 && s.get("type").and_then(Value::as_str) == Some("string") {
            e[0].as_str()
        } else {
            None
        }
    }

    pub(crate) fn tag_type(&mut self, value: &str) -> String {
        if let Some(t) = self.tags.get(value) {
            return format!("tags::{t}");
        }
        let mut base = camel(value);
        if base == "Self" {
            base.push('_');
        }
        let mut name = base.clone();
        let mut n = 2;
        while self.tags.values().any(|v| v == &name) {
            name = format!("{base}{n}");
            n += 1;
        }
        self.tags.insert(value.to_string(), name.clone());
        format!("tags::{name}")
    }

    /// The Rust type of a schema that sits inside another (a property, an item, a map value).
    pub(crate) fn rust_type(&mut self, s: &Value) -> String {
        let nullable = s.get("nullable").and_then(Value::as_bool) == Some(true);
        let inner = Self::unwrap(s);
        let t = self.rust_type_plain(inner);
        if nullable {
            format!("Option<{t}>")
        } else {
            t
        }
    }

    pub(crate) fn rust_type_plain(&mut self, s: &Value) -> String {
        if let Some(name) = Self::ref_name(s) {
            return name.to_string();
        }
        if let Some(c) = Self::is_const(s) {
            return self.tag_type(c);
        }
        match s.get("type").and_then(Value::as_str) {
            Some("string") => "String".into(),
            Some("integer") => "i64".into(),
            Some("number") => "f64".into(),
            Some("boolean") => "bool".into(),
            Some("array") => format!("Vec<{}>", self.rust_type(&s["items"])),
            Some("object") => match s.get("additionalProperties") {
                Some(ap) if ap.is_object() && !ap.as_object().is_some_and(|o| o.is_empty()) => {
                    format!("BTreeMap<String, {}>", self.rust_type(ap))
                }
                _ => "Map<String, Value>".into(),
            },
            _ => "Value".into(),
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
        let d = match self.schemas.get(ty) {
            Some(s) if s.get("properties").is_some() => {
                let s = s.clone();
                let required = required_set(&s);
                let props = s["properties"].as_object().cloned().unwrap_or_default();
                props.iter().all(|(k, p)| {
                    if !required.contains(k.as_str()) {
                        return true;
                    }
                    let t = self.rust_type(p);
                    self.has_default(&t)
                })
            }
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
        let d = match self.schemas.get(ty) {
            Some(s) if s["type"] == "object" && s.get("properties").is_some() => {
                let s = s.clone();
                let required = required_set(&s);
                let props = s["properties"].as_object().cloned().unwrap_or_default();
                props
                    .iter()
                    .filter(|(k, _)| required.contains(k.as_str()))
                    .all(|(_, p)| {
                        let t = self.rust_type(p);
                        self.missing_ok(&t)
                    })
            }
            _ => false,
        };
        self.missing_memo.insert(ty.to_string(), d);
        d
    }
}

pub(crate) fn required_set(s: &Value) -> BTreeSet<String> {
    s.get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
            }}
        }}})
    }

    #[test]
    fn each_schema_shape_has_one_rust_type() {
        let spec = spec();
        let mut g = Gen::new(&spec);
        let t = |g: &mut Gen, v: Value| g.rust_type(&v);
        assert_eq!(t(&mut g, json!({"type": "string"})), "String");
        assert_eq!(t(&mut g, json!({"type": "integer"})), "i64");
        assert_eq!(t(&mut g, json!({"type": "number"})), "f64");
        assert_eq!(t(&mut g, json!({"type": "boolean"})), "bool");
        assert_eq!(t(&mut g, json!({})), "Value");
        assert_eq!(
            t(
                &mut g,
                json!({"type": "array", "items": {"$ref": "#/components/schemas/Thing"}})
            ),
            "Vec<Thing>"
        );
        assert_eq!(
            t(
                &mut g,
                json!({"type": "object", "additionalProperties": {"type": "string"}})
            ),
            "BTreeMap<String, String>"
        );
        assert_eq!(t(&mut g, json!({"type": "object"})), "Map<String, Value>");
        // nullable is Option, through an `allOf` wrapper too
        assert_eq!(
            t(
                &mut g,
                json!({"allOf": [{"$ref": "#/components/schemas/Stats"}], "nullable": true})
            ),
            "Option<Stats>"
        );
    }

    #[test]
    fn a_constant_string_is_a_tag_type_named_once() {
        let spec = spec();
        let mut g = Gen::new(&spec);
        let c = json!({"type": "string", "enum": ["agent.message"]});
        assert_eq!(g.rust_type(&c), "tags::AgentMessage");
        assert_eq!(g.rust_type(&c), "tags::AgentMessage");
        // another value with the same Rust name gets a number
        let d = json!({"type": "string", "enum": ["agent_message"]});
        assert_eq!(g.rust_type(&d), "tags::AgentMessage2");
        assert_eq!(g.tags.len(), 2);
    }

    #[test]
    fn default_is_derived_only_when_every_required_field_has_one() {
        let spec = spec();
        let mut g = Gen::new(&spec);
        assert!(g.has_default("Thing"));
        assert!(g.has_default("Stats"));
        assert!(g.has_default("Vec<Thing>"));
        // a type that needs itself has none, and the cycle ends
        assert!(!g.has_default("Cycle"));
        assert!(!g.has_default("NotASchema"));
    }

    #[test]
    fn a_missing_list_map_or_all_optional_object_reads_as_empty_and_nothing_else_does() {
        let spec = spec();
        let mut g = Gen::new(&spec);
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
        let spec = json!({"components": {"schemas": {
            "AParams": {"type": "object", "x-request": true},
            "BParams": {"type": "object", "x-request": true},
            "C": {"type": "object"}
        }}});
        let g = Gen::new(&spec);
        let union = |refs: &[&str]| json!({"oneOf": refs.iter().map(|r| json!({"$ref": format!("#/components/schemas/{r}")})).collect::<Vec<_>>()});
        assert!(g.is_request_union(&union(&["AParams", "BParams"])));
        assert!(!g.is_request_union(&union(&["AParams", "C"])));
        assert!(!g.is_request_union(&union(&[])));
    }

    #[test]
    fn required_fields_are_read_from_the_schema() {
        let spec = spec();
        let r = required_set(&spec["components"]["schemas"]["Thing"]);
        assert_eq!(r.into_iter().collect::<Vec<_>>(), ["id", "items"]);
        assert!(required_set(&json!({})).is_empty());
    }
}
