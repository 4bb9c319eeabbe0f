//! Unions and enums: `type`-tagged unions, untagged unions, open string enums.

use crate::names::{camel, doc, lit};
use crate::schema::{required_set, Gen};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

impl Gen<'_> {
    pub(crate) fn tagged_union(&mut self, name: &str, s: &Value) -> String {
        let prop = s["discriminator"]["propertyName"]
            .as_str()
            .expect("discriminator");
        let mapping = s["discriminator"]["mapping"]
            .as_object()
            .expect("mapping")
            .clone();
        let mut out = String::new();
        let _ = writeln!(out, "crate::types::tagged_union! {{");
        out.push_str(&doc(s["description"].as_str(), "    "));
        if s.get("description").is_none() {
            let _ = writeln!(out, "    /// One of the objects below, told apart by their `{prop}`; a `{prop}` this version does not know is kept whole in `Unknown`.");
        }
        // a union of request objects stays strict; a response union keeps a known kind that
        // does not read as `Unknown`
        let side = if self.is_request_union(s) {
            "request"
        } else {
            "response"
        };
        let _ = writeln!(out, "    {name}, {}, {side};", lit(prop));
        let mut seen = BTreeSet::new();
        let mut variants: Vec<(String, String)> = Vec::new();
        let mut tags: Vec<String> = Vec::new();
        for (tag, r) in &mapping {
            let ty = r
                .as_str()
                .and_then(|r| r.rsplit('/').next())
                .expect("mapping ref");
            let mut variant = camel(tag);
            assert!(
                variant != "Unknown",
                "{name}: a known variant is named Unknown"
            );
            while !seen.insert(variant.clone()) {
                variant.push('_');
            }
            let _ = writeln!(out, "    /// `{prop}: {tag}`");
            let _ = writeln!(out, "    {variant}({ty}) = {},", lit(tag));
            variants.push((variant, ty.to_string()));
            tags.push(tag.clone());
        }
        out.push_str("}\n");
        // the unions an event stream is read into get a faster reader for JSON text
        if name.starts_with("Stream") {
            let _ = writeln!(
                out,
                "crate::types::json_fast_path! {{\n    {name}, {};",
                lit(prop)
            );
            for ((v, ty), tag) in variants.iter().zip(&tags) {
                let _ = writeln!(out, "    {v}({ty}) = {},", lit(tag));
            }
            out.push_str("}\n");
        }
        // fields every member has as a string: an accessor that also reads `Unknown`
        for field in ["id", "processed_at"] {
            // per member: Some(optional?) when it has the field as a string
            let members: Vec<Option<bool>> = variants
                .iter()
                .map(|(_, ty)| {
                    let member = &self.schemas[ty.as_str()];
                    let p = Self::unwrap(&member["properties"][field]);
                    (p["type"] == "string").then(|| !required_set(member).contains(field))
                })
                .collect();
            if variants.is_empty() || members.iter().any(Option::is_none) {
                continue;
            }
            let _ = writeln!(out, "\nimpl {name} {{");
            let _ = writeln!(out, "    /// The `{field}` of the object, whichever its kind (`None` when it has none).");
            let _ = writeln!(
                out,
                "    pub fn {field}(&self) -> Option<&str> {{\n        match self {{"
            );
            for ((v, _), optional) in variants.iter().zip(&members) {
                if *optional == Some(true) {
                    let _ = writeln!(out, "            {name}::{v}(x) => x.{field}.as_deref(),");
                } else {
                    let _ = writeln!(out, "            {name}::{v}(x) => Some(&x.{field}),");
                }
            }
            let _ = writeln!(
                out,
                "            {name}::Unknown(v) => v.get({}).and_then(Value::as_str),",
                lit(field)
            );
            let _ = writeln!(out, "        }}\n    }}\n}}");
        }
        out
    }

    pub(crate) fn untagged_union(&mut self, name: &str, s: &Value) -> String {
        let members = s["anyOf"].as_array().expect("anyOf").clone();
        let mut out = doc(s["description"].as_str(), "");
        if s.get("description").is_none() {
            let _ = writeln!(out, "/// One of several shapes, tried in the order below; anything else is kept whole in `Unknown`.");
        }
        // Objects with more properties first, so that a richer shape is not read as a poorer one.
        let mut variants: Vec<(String, String, usize)> = Vec::new();
        for m in &members {
            let ty = self.rust_type(m);
            let (variant, weight) = match Self::ref_name(m) {
                Some(r) => {
                    let n = self.schemas[r]
                        .get("properties")
                        .and_then(Value::as_object)
                        .map_or(0, |p| p.len());
                    let short = r
                        .strip_prefix(name)
                        .filter(|x| !x.is_empty() && !x.starts_with(|c: char| c.is_ascii_digit()));
                    (short.unwrap_or(r).to_string(), n)
                }
                None => (camel(&ty), 0),
            };
            variants.push((variant, ty, weight));
        }
        variants.sort_by_key(|v| std::cmp::Reverse(v.2));
        let _ = writeln!(
            out,
            "#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]"
        );
        let _ = writeln!(out, "#[serde(untagged)]");
        let _ = writeln!(out, "#[non_exhaustive]");
        let _ = writeln!(out, "pub enum {name} {{");
        for (v, ty, _) in &variants {
            let _ = writeln!(out, "    /// A `{ty}`.");
            let _ = writeln!(out, "    {v}({ty}),");
        }
        let _ = writeln!(
            out,
            "    /// A shape this version of the crate does not know, kept as it came."
        );
        let _ = writeln!(out, "    Unknown(Value),");
        out.push_str("}\n");
        for (v, ty, _) in &variants {
            let _ = writeln!(out, "\nimpl From<{ty}> for {name} {{");
            let _ = writeln!(
                out,
                "    fn from(value: {ty}) -> Self {{\n        {name}::{v}(value)\n    }}\n}}"
            );
            let open_enum = self
                .schemas
                .get(ty.as_str())
                .is_some_and(|s| s.get("x-open-enum").is_some());
            if open_enum {
                let _ = writeln!(out, "\nimpl From<&str> for {name} {{");
                let _ = writeln!(out, "    fn from(value: &str) -> Self {{\n        {name}::{v}(value.into())\n    }}\n}}");
                let _ = writeln!(out, "\nimpl From<String> for {name} {{");
                let _ = writeln!(out, "    fn from(value: String) -> Self {{\n        {name}::{v}(value.into())\n    }}\n}}");
            }
            if ty == "String" {
                let _ = writeln!(out, "\nimpl From<&str> for {name} {{");
                let _ = writeln!(out, "    fn from(value: &str) -> Self {{\n        {name}::{v}(value.to_string())\n    }}\n}}");
            }
        }
        out
    }

    pub(crate) fn open_enum(&mut self, name: &str, s: &Value) -> String {
        let values: Vec<String> = s["enum"]
            .as_array()
            .expect("enum")
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        let mut out = String::new();
        let _ = writeln!(out, "crate::types::open_enum! {{");
        out.push_str(&doc(s["description"].as_str(), "    "));
        if s.get("description").is_none() {
            let _ = writeln!(out, "    /// A string the API defines; a value this version does not know is kept in `Other`.");
        }
        let _ = writeln!(out, "    {name};");
        let mut seen = BTreeSet::new();
        for v in &values {
            let mut variant = camel(v);
            assert!(variant != "Other", "{name}: a known value is named Other");
            while !seen.insert(variant.clone()) {
                variant.push('_');
            }
            match s["x-enum-descriptions"][v.as_str()].as_str() {
                Some(d) => {
                    let _ = writeln!(out, "    /// `{v}`:");
                    let _ = writeln!(out, "    ///");
                    out.push_str(&doc(Some(d), "    "));
                }
                None => {
                    let _ = writeln!(out, "    /// `{v}`");
                }
            }
            if let Some(note) = s["x-deprecated-values"][v.as_str()].as_str() {
                let _ = writeln!(out, "    #[deprecated(note = {})]", lit(note));
            }
            let _ = writeln!(out, "    {variant} = {},", lit(v));
        }
        out.push_str("}\n");
        out
    }

    // ---- operations ---------------------------------------------------------------------
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({"components": {"schemas": {
            "A": {"type": "object", "properties": {"type": {"type": "string", "enum": ["a"]}}},
            "B": {"type": "object", "properties": {"type": {"type": "string", "enum": ["b.c"]}}},
            "AParams": {"type": "object", "x-request": true,
                        "properties": {"type": {"type": "string", "enum": ["a"]}}},
            "Status": {"type": "string", "enum": ["idle", "running"]}
        }}})
    }

    fn union(members: &[(&str, &str)]) -> Value {
        let refs: Vec<Value> = members
            .iter()
            .map(|(_, r)| json!({"$ref": format!("#/components/schemas/{r}")}))
            .collect();
        let mapping: serde_json::Map<String, Value> = members
            .iter()
            .map(|(t, r)| (t.to_string(), json!(format!("#/components/schemas/{r}"))))
            .collect();
        json!({"oneOf": refs, "discriminator": {"propertyName": "type", "mapping": mapping}})
    }

    #[test]
    fn a_response_union_is_lenient_and_a_request_union_strict() {
        let spec = spec();
        let mut g = Gen::new(&spec);
        let code = g.tagged_union("Thing", &union(&[("a", "A"), ("b.c", "B")]));
        assert!(code.contains("    Thing, \"type\", response;"), "{code}");
        assert!(code.contains("    A(A) = \"a\","));
        assert!(code.contains("    BC(B) = \"b.c\","));
        let code = g.tagged_union("ThingParams", &union(&[("a", "AParams")]));
        assert!(
            code.contains("    ThingParams, \"type\", request;"),
            "{code}"
        );
    }

    #[test]
    fn an_open_enum_lists_its_values_and_keeps_others() {
        let spec = spec();
        let mut g = Gen::new(&spec);
        let code = g.open_enum("Status", &spec["components"]["schemas"]["Status"]);
        assert!(code.starts_with("crate::types::open_enum! {"), "{code}");
        assert!(code.contains("    Idle = \"idle\","));
        assert!(code.contains("    Running = \"running\","));
    }
}
