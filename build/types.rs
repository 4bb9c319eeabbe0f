//! The types module: one Rust item per component schema.

use crate::deserialize::deserialize_impl;
use crate::names::{camel, doc, lit, snake};
use crate::schema::{required_set, Gen};
use serde_json::{Map, Value};
use std::fmt::Write as _;

impl Gen<'_> {
    pub(crate) fn types(&mut self) -> String {
        let mut out = String::new();
        let schemas = self.schemas.clone();
        for (name, s) in &schemas {
            if name == "ErrorResponse" || s.get("format").and_then(Value::as_str) == Some("binary")
            {
                continue;
            }
            let item = if s.get("oneOf").is_some() {
                self.tagged_union(name, s)
            } else if s.get("anyOf").is_some() {
                self.untagged_union(name, s)
            } else if s.get("enum").is_some() {
                self.open_enum(name, s)
            } else if s.get("type").and_then(Value::as_str) == Some("object") {
                self.object(name, s)
            } else {
                let t = self.rust_type(s);
                format!(
                    "{}pub type {name} = {t};\n",
                    doc(s["description"].as_str(), "")
                )
            };
            out.push_str(&item);
            out.push('\n');
        }
        out.push_str(&self.stream_conversions());
        let mut tags = String::new();
        tags.push_str("/// Zero-sized types that stand for the constant `type` (or `name`) values of the API's objects.\n");
        tags.push_str("///\n/// Each serializes as its string and refuses any other string; `Default` gives the one value.\n");
        tags.push_str("pub mod tags {\n");
        for (value, name) in &self.tags {
            let _ = writeln!(
                tags,
                "    crate::types::const_tag!({name}, {});",
                lit(value)
            );
        }
        tags.push_str("}\n\n");
        tags + &out
    }

    /// `From`/`TryFrom` between a stream union (`StreamSessionEvents`, which adds previews)
    /// and each union whose kinds are a strict subset of its own (`SessionEvent`).
    pub(crate) fn stream_conversions(&self) -> String {
        let unions: Vec<(&String, &Map<String, Value>)> = self
            .schemas
            .iter()
            .filter_map(|(n, s)| s["discriminator"]["mapping"].as_object().map(|m| (n, m)))
            .collect();
        let mut out = String::new();
        for (a, am) in unions.iter().filter(|(n, _)| n.starts_with("Stream")) {
            for (b, bm) in &unions {
                let subset = bm.len() < am.len()
                    && bm.len() >= 3
                    && bm.iter().all(|(t, r)| am.get(t) == Some(r));
                if !subset
                    || self.schemas[*a]["discriminator"]["propertyName"]
                        != self.schemas[*b]["discriminator"]["propertyName"]
                {
                    continue;
                }
                let vs: Vec<String> = bm.keys().map(|t| camel(t)).collect();
                let _ = writeln!(out, "impl From<{b}> for {a} {{\n    fn from(value: {b}) -> Self {{\n        match value {{");
                for v in &vs {
                    let _ = writeln!(out, "            {b}::{v}(x) => {a}::{v}(x),");
                }
                let _ = writeln!(
                    out,
                    "            {b}::Unknown(v) => {a}::Unknown(v),\n        }}\n    }}\n}}\n"
                );
                let _ = writeln!(out, "impl TryFrom<{a}> for {b} {{");
                let _ = writeln!(
                    out,
                    "    /// The value itself, when it is of a kind `{b}` does not have."
                );
                let _ = writeln!(out, "    type Error = {a};\n    fn try_from(value: {a}) -> Result<Self, {a}> {{\n        match value {{");
                for v in &vs {
                    let _ = writeln!(out, "            {a}::{v}(x) => Ok({b}::{v}(x)),");
                }
                let _ = writeln!(out, "            {a}::Unknown(v) => Ok({b}::Unknown(v)),\n            other => Err(other),\n        }}\n    }}\n}}\n");
            }
        }
        out
    }

    pub(crate) fn object(&mut self, name: &str, s: &Value) -> String {
        let fallback = format!("The `{name}` object.");
        let mut out = doc(Some(s["description"].as_str().unwrap_or(&fallback)), "");
        let request = s.get("x-request").and_then(Value::as_bool) == Some(true);
        let required = required_set(s);
        let props = s["properties"].as_object().cloned().unwrap_or_default();
        let mut derives = vec!["Debug", "Clone", "PartialEq"];
        if self.has_default(name) {
            derives.push("Default");
        }
        derives.push("Serialize");
        // a response reads with its own visitor (below), which keeps unknown fields
        if request {
            derives.push("Deserialize");
        }
        let _ = writeln!(out, "#[derive({})]", derives.join(", "));
        let _ = writeln!(out, "#[non_exhaustive]");
        let _ = writeln!(out, "pub struct {name} {{");
        let mut fields: Vec<Field> = Vec::new();
        for (wire, p) in &props {
            assert!(wire != "extra", "{name}: a field is named extra");
            let field = snake(wire);
            let nullable = p.get("nullable").and_then(Value::as_bool) == Some(true);
            let inner = Self::unwrap(p);
            let ty = self.rust_type_plain(inner);
            let is_tag = Self::is_const(inner).is_some();
            let is_req = required.contains(wire.as_str());
            let fallback = match Self::is_const(inner) {
                Some(c) => format!("Always `{c:?}`."),
                None => format!("`{wire}`."),
            };
            let description = p
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or(&fallback);
            out.push_str(&doc(Some(description), "    "));
            let bare = field.trim_start_matches("r#");
            if bare != wire {
                let _ = writeln!(out, "    #[serde(rename = {})]", lit(wire));
            }
            // a required list, map or all-optional object that a response leaves out reads
            // as empty (spec/README.md, "Missing fields")
            let default_if_missing = !request && is_req && !nullable && self.missing_ok(&ty);
            let (decl, optional, double) = if is_req && !nullable {
                (ty.clone(), false, false)
            } else if is_req {
                if request {
                    let _ = writeln!(out, "    #[serde(default)]");
                }
                (format!("Option<{ty}>"), true, false)
            } else if request && nullable {
                let _ = writeln!(
                    out,
                    "    #[serde(default, deserialize_with = \"crate::types::double_option\", skip_serializing_if = \"Option::is_none\")]"
                );
                (format!("Option<Option<{ty}>>"), true, true)
            } else {
                let attr = if request { "default, " } else { "" };
                let _ = writeln!(
                    out,
                    "    #[serde({attr}skip_serializing_if = \"Option::is_none\")]"
                );
                (format!("Option<{ty}>"), true, false)
            };
            let _ = writeln!(out, "    pub {field}: {decl},");
            fields.push(Field {
                name: field,
                ty,
                optional,
                double,
                fixed: is_tag && !optional,
                wire: wire.clone(),
                default_if_missing,
            });
        }
        if request && name.contains("InputSchema") {
            // a JSON Schema: keys beyond the modelled ones (`additionalProperties`, `$schema`, ...) are kept
            let _ = writeln!(out, "    /// Every other key of the schema, kept as it is.");
            let _ = writeln!(out, "    #[serde(flatten)]");
            let _ = writeln!(out, "    pub extra: Map<String, Value>,");
        }
        if !request {
            let _ = writeln!(out, "    /// The fields this version of the crate does not know, kept as they came and written back.");
            let _ = writeln!(out, "    #[serde(flatten)]");
            let _ = writeln!(out, "    pub extra: Map<String, Value>,");
        }
        out.push_str("}\n");
        if request {
            out.push_str(&builder(name, &fields, name.contains("InputSchema")));
        } else {
            out.push_str(&deserialize_impl(name, &fields));
        }
        out
    }
}

/// A field of a generated struct, as the constructor, setters and reader need it.
pub(crate) struct Field {
    /// The Rust name (`r#type`).
    pub(crate) name: String,
    /// The Rust type of its value (without the `Option` of an optional field).
    pub(crate) ty: String,
    /// Declared as `Option<..>`.
    pub(crate) optional: bool,
    /// Declared as `Option<Option<..>>` (a request field that can be sent as `null`).
    pub(crate) double: bool,
    /// A required constant (a tag): filled in by the constructor, never an argument.
    pub(crate) fixed: bool,
    /// The name on the wire.
    pub(crate) wire: String,
    /// Required, but reads as its default when a response leaves it out.
    pub(crate) default_if_missing: bool,
}

/// A request's constructor over its required fields, and a setter per optional field.
fn builder(name: &str, fields: &[Field], extra: bool) -> String {
    let mut out = String::new();
    let mut args: Vec<&Field> = fields.iter().filter(|f| !f.optional && !f.fixed).collect();
    // `name` leads, as it does in the API's docs; the rest keep the spec's order
    args.sort_by_key(|f| f.wire != "name");
    let _ = writeln!(out, "\nimpl {name} {{");
    let _ = writeln!(
        out,
        "    /// A `{name}` with its required fields; every optional field is absent."
    );
    let params: Vec<String> = args
        .iter()
        .map(|f| format!("{}: impl Into<{}>", f.name, f.ty))
        .collect();
    let _ = writeln!(out, "    pub fn new({}) -> Self {{", params.join(", "));
    let _ = writeln!(out, "        {name} {{");
    for f in fields {
        if f.optional {
            let _ = writeln!(out, "            {}: None,", f.name);
        } else if f.fixed {
            let _ = writeln!(out, "            {}: Default::default(),", f.name);
        } else {
            let _ = writeln!(out, "            {}: {}.into(),", f.name, f.name);
        }
    }
    if extra {
        let _ = writeln!(out, "            extra: Default::default(),");
    }
    let _ = writeln!(out, "        }}\n    }}");
    for f in fields
        .iter()
        .filter(|f| f.optional && !f.ty.starts_with("tags::"))
    {
        let bare = f.name.trim_start_matches("r#");
        let set = if f.double {
            "Some(Some(value.into()))"
        } else {
            "Some(value.into())"
        };
        let _ = writeln!(out, "\n    /// Sets `{}`.", f.wire);
        let _ = writeln!(
            out,
            "    pub fn {}(mut self, value: impl Into<{}>) -> Self {{",
            f.name, f.ty
        );
        let _ = writeln!(
            out,
            "        self.{} = {set};\n        self\n    }}",
            f.name
        );
        if f.double {
            let _ = writeln!(
                out,
                "\n    /// Sends `{}` as an explicit `null` (clears it).",
                f.wire
            );
            let _ = writeln!(out, "    pub fn clear_{bare}(mut self) -> Self {{");
            let _ = writeln!(
                out,
                "        self.{} = Some(None);\n        self\n    }}",
                f.name
            );
        }
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({"components": {"schemas": {
            "Thing": {"type": "object", "required": ["id", "items", "type"], "properties": {
                "id": {"type": "string"},
                "items": {"type": "array", "items": {"type": "string"}},
                "note": {"type": "string", "nullable": true},
                "type": {"type": "string", "enum": ["thing"]}
            }},
            "ThingParams": {"type": "object", "x-request": true, "required": ["name"], "properties": {
                "name": {"type": "string"},
                "note": {"type": "string", "nullable": true}
            }}
        }}})
    }

    #[test]
    fn a_response_object_reads_with_its_own_visitor_and_keeps_the_rest() {
        let spec = spec();
        let mut g = Gen::new(&spec);
        let code = g.object("Thing", &spec["components"]["schemas"]["Thing"]);
        assert!(code.contains("#[derive(Debug, Clone, PartialEq, Default, Serialize)]\n#[non_exhaustive]\npub struct Thing {"), "{code}");
        assert!(code.contains("    #[serde(flatten)]\n    pub extra: Map<String, Value>,"));
        assert!(code.contains("impl<'de> Deserialize<'de> for Thing {"));
        // a required string and tag stay required; a required list reads as empty when absent
        assert!(code.contains("id: required(f0, \"id\")?,"), "{code}");
        assert!(code.contains("items: f1.unwrap_or_default(),"));
        assert!(code.contains("note: f2.flatten(),"));
        assert!(code.contains("r#type: required(f3, \"type\")?,"));
        assert!(code.contains("Key::Other(k) => {\n"));
        // no constructor for a response
        assert!(!code.contains("pub fn new("));
    }

    #[test]
    fn a_request_object_derives_its_reader_and_has_a_constructor_and_setters() {
        let spec = spec();
        let mut g = Gen::new(&spec);
        let code = g.object("ThingParams", &spec["components"]["schemas"]["ThingParams"]);
        assert!(code.contains("#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]\n#[non_exhaustive]\npub struct ThingParams {"), "{code}");
        assert!(!code.contains("pub extra"));
        assert!(code.contains("pub note: Option<Option<String>>,"));
        assert!(code.contains("pub fn new(name: impl Into<String>) -> Self {"));
        assert!(code.contains("pub fn note(mut self, value: impl Into<String>) -> Self {"));
        assert!(code.contains("pub fn clear_note(mut self) -> Self {"));
    }
}
