//! The types module: one Rust item per component schema, the tags, and the conversions
//! between the stream unions and the unions they extend.

use super::deserialize::deserialize_impl;
use super::model::{Kind, Property, Schema, SchemaKind, Tagged};
use super::names::{camel, doc, lit, snake};
use super::schema::Gen;
use super::template::fill;

const TAGS: &str = r#"/// Zero-sized types that stand for the constant `type` (or `name`) values of the API's objects.
///
/// Each serializes as its string and refuses any other string; `Default` gives the one value.
pub mod tags {
{tags}}

"#;

const STREAM_CONVERSIONS: &str = r#"impl From<{sub}> for {stream} {
    fn from(value: {sub}) -> Self {
        match value {
{into_stream}            {sub}::Unknown(v) => {stream}::Unknown(v),
        }
    }
}

impl TryFrom<{stream}> for {sub} {
    /// The value itself, when it is of a kind `{sub}` does not have.
    type Error = {stream};
    fn try_from(value: {stream}) -> Result<Self, {stream}> {
        match value {
{from_stream}            {stream}::Unknown(v) => Ok({sub}::Unknown(v)),
            other => Err(other),
        }
    }
}

"#;

const STRUCT: &str = r#"#[derive({derives})]
#[non_exhaustive]
pub struct {name} {
{fields}}
"#;

const EXTRA_SCHEMA_KEYS: &str = r#"    /// Every other key of the schema, kept as it is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
"#;

const EXTRA_FIELDS: &str = r#"    /// The fields this version of the crate does not know, kept as they came and written back.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
"#;

const DOUBLE_OPTION: &str = r#"    #[serde(default, deserialize_with = "crate::types::double_option", skip_serializing_if = "Option::is_none")]
"#;

const BUILDER: &str = r#"
impl {name} {
    /// A `{name}` with its required fields; every optional field is absent.
    pub fn new({params}) -> Self {
        {name} {
{inits}        }
    }
{setters}}
"#;

const SETTER: &str = r#"
    /// Sets `{wire}`.
    pub fn {field}(mut self, value: impl Into<{ty}>) -> Self {
        self.{field} = {value};
        self
    }
"#;

const CLEAR: &str = r#"
    /// Sends `{wire}` as an explicit `null` (clears it).
    pub fn clear_{bare}(mut self) -> Self {
        self.{field} = Some(None);
        self
    }
"#;

impl Gen<'_> {
    /// The types module: the tags, then one item per schema, then the stream conversions.
    pub(crate) fn types(&mut self) -> String {
        let api = self.api;
        let mut items = String::new();
        for s in api.generated() {
            let item = match &s.kind {
                SchemaKind::Tagged(_) => self.tagged_union(s),
                SchemaKind::Untagged(_) => self.untagged_union(s),
                SchemaKind::Enum(_) => self.open_enum(s),
                SchemaKind::Object(_) => self.object(s),
                SchemaKind::Alias(t) => format!(
                    "{}pub type {} = {};\n",
                    doc(s.description.as_deref(), ""),
                    s.name,
                    self.rust_type(t)
                ),
            };
            items.push_str(&item);
            items.push('\n');
        }
        items.push_str(&self.stream_conversions());
        let tags: String = api
            .tags
            .iter()
            .map(|(value, name)| format!("    crate::types::const_tag!({name}, {});\n", lit(value)))
            .collect();
        fill(TAGS, &[("tags", &tags)]) + &items
    }

    /// The stream unions (`StreamSessionEvents`, which adds previews) beside each union whose
    /// kinds are a strict subset of their own (`SessionEvent`): (stream, union, its kinds).
    pub(crate) fn stream_subsets(&self) -> Vec<(&str, &str, &Tagged)> {
        let unions: Vec<(&str, &Tagged)> = self
            .api
            .schemas
            .iter()
            .filter_map(|s| match &s.kind {
                SchemaKind::Tagged(t) => Some((s.name.as_str(), t)),
                _ => None,
            })
            .collect();
        let mut out = Vec::new();
        for (stream, a) in unions.iter().filter(|(n, _)| n.starts_with("Stream")) {
            for (sub, b) in &unions {
                let subset = b.mapping.len() < a.mapping.len()
                    && b.mapping.len() >= 3
                    && b.mapping.iter().all(|m| a.mapping.contains(m));
                if subset && a.property == b.property {
                    out.push((*stream, *sub, *b));
                }
            }
        }
        out
    }

    /// The union each stream union hands its events out as: the largest of its subsets
    /// (`SessionEvent` for `StreamSessionEvents`, whose kinds it has all but the previews).
    pub(crate) fn stream_events(&self) -> Vec<&str> {
        let subsets = self.stream_subsets();
        let mut out: Vec<&str> = Vec::new();
        for (stream, _, _) in &subsets {
            let largest = subsets
                .iter()
                .filter(|(s, _, _)| s == stream)
                .max_by_key(|(_, _, b)| b.mapping.len())
                .map(|(_, sub, _)| *sub);
            if let Some(sub) = largest.filter(|sub| !out.contains(sub)) {
                out.push(sub);
            }
        }
        out
    }

    /// `From`/`TryFrom` between a stream union (`StreamSessionEvents`, which adds previews)
    /// and each union whose kinds are a strict subset of its own (`SessionEvent`).
    pub(crate) fn stream_conversions(&self) -> String {
        let mut out = String::new();
        for (stream, sub, b) in self.stream_subsets() {
            let variants: Vec<String> = b.mapping.iter().map(|(t, _)| camel(t)).collect();
            let into_stream: String = variants
                .iter()
                .map(|v| format!("            {sub}::{v}(x) => {stream}::{v}(x),\n"))
                .collect();
            let from_stream: String = variants
                .iter()
                .map(|v| format!("            {stream}::{v}(x) => Ok({sub}::{v}(x)),\n"))
                .collect();
            out.push_str(&fill(
                STREAM_CONVERSIONS,
                &[
                    ("sub", sub),
                    ("stream", stream),
                    ("into_stream", &into_stream),
                    ("from_stream", &from_stream),
                ],
            ));
        }
        out
    }

    /// A struct, with its reader (a response) or its constructor and setters (a request).
    pub(crate) fn object(&mut self, s: &Schema) -> String {
        let name = s.name.as_str();
        let request = s.request;
        let fallback = format!("The `{name}` object.");
        let mut out = doc(Some(s.description.as_deref().unwrap_or(&fallback)), "");
        let mut derives = vec!["Debug", "Clone", "PartialEq"];
        if self.has_default(name) {
            derives.push("Default");
        }
        derives.push("Serialize");
        // a response reads with its own visitor (below), which keeps unknown fields
        if request {
            derives.push("Deserialize");
        }
        let mut decls = String::new();
        let mut fields: Vec<Field> = Vec::new();
        for p in s.properties() {
            let (decl, field) = self.field(name, request, p);
            decls.push_str(&decl);
            fields.push(field);
        }
        // a JSON Schema: keys beyond the modelled ones (`additionalProperties`, `$schema`, ...) are kept
        let schema_keys = request && name.contains("InputSchema");
        if schema_keys {
            decls.push_str(EXTRA_SCHEMA_KEYS);
        }
        if !request {
            decls.push_str(EXTRA_FIELDS);
        }
        out.push_str(&fill(
            STRUCT,
            &[
                ("derives", &derives.join(", ")),
                ("name", name),
                ("fields", &decls),
            ],
        ));
        if request {
            out.push_str(&builder(name, &fields, schema_keys));
        } else {
            out.push_str(&deserialize_impl(name, &fields));
        }
        out
    }

    /// A field's declaration (doc, serde attributes, `pub name: Type,`), and what the
    /// constructor, setters and reader need of it.
    fn field(&mut self, name: &str, request: bool, p: &Property) -> (String, Field) {
        let wire = p.wire.as_str();
        assert!(wire != "extra", "{name}: a field is named extra");
        let field = snake(wire);
        let nullable = p.ty.nullable;
        let ty = self.rust_type_plain(&p.ty.kind);
        let constant = match &p.ty.kind {
            Kind::Const(c) => Some(c.as_str()),
            _ => None,
        };
        let fallback = match constant {
            Some(c) => format!("Always `{c:?}`."),
            None => format!("`{wire}`."),
        };
        let mut out = doc(Some(p.description.as_deref().unwrap_or(&fallback)), "    ");
        if field.trim_start_matches("r#") != wire {
            out.push_str(&format!("    #[serde(rename = {})]\n", lit(wire)));
        }
        // a required list, map or all-optional object that a response leaves out reads
        // as empty (spec/README.md, "Missing fields")
        let default_if_missing = !request && p.required && !nullable && self.missing_ok(&ty);
        let (decl, optional, double) = if p.required && !nullable {
            (ty.clone(), false, false)
        } else if p.required {
            if request {
                out.push_str("    #[serde(default)]\n");
            }
            (format!("Option<{ty}>"), true, false)
        } else if request && nullable {
            out.push_str(DOUBLE_OPTION);
            (format!("Option<Option<{ty}>>"), true, true)
        } else {
            let default = if request { "default, " } else { "" };
            out.push_str(&format!(
                "    #[serde({default}skip_serializing_if = \"Option::is_none\")]\n"
            ));
            (format!("Option<{ty}>"), true, false)
        };
        out.push_str(&format!("    pub {field}: {decl},\n"));
        let field = Field {
            name: field,
            ty,
            optional,
            double,
            fixed: constant.is_some() && !optional,
            wire: wire.to_string(),
            default_if_missing,
        };
        (out, field)
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
fn builder(name: &str, fields: &[Field], schema_keys: bool) -> String {
    let mut args: Vec<&Field> = fields.iter().filter(|f| !f.optional && !f.fixed).collect();
    // `name` leads, as it does in the API's docs; the rest keep the spec's order
    args.sort_by_key(|f| f.wire != "name");
    let params: Vec<String> = args
        .iter()
        .map(|f| format!("{}: impl Into<{}>", f.name, f.ty))
        .collect();
    let mut inits: String = fields
        .iter()
        .map(|f| {
            let value = if f.optional {
                "None".to_string()
            } else if f.fixed {
                "Default::default()".to_string()
            } else {
                format!("{}.into()", f.name)
            };
            format!("            {}: {value},\n", f.name)
        })
        .collect();
    if schema_keys {
        inits.push_str("            extra: Default::default(),\n");
    }
    let mut setters = String::new();
    for f in fields
        .iter()
        .filter(|f| f.optional && !f.ty.starts_with("tags::"))
    {
        let value = if f.double {
            "Some(Some(value.into()))"
        } else {
            "Some(value.into())"
        };
        let vars = [
            ("wire", f.wire.as_str()),
            ("field", f.name.as_str()),
            ("ty", f.ty.as_str()),
            ("value", value),
        ];
        setters.push_str(&fill(SETTER, &vars));
        if f.double {
            let bare = f.name.trim_start_matches("r#");
            setters.push_str(&fill(
                CLEAR,
                &[("wire", &f.wire), ("bare", bare), ("field", &f.name)],
            ));
        }
    }
    fill(
        BUILDER,
        &[
            ("name", name),
            ("params", &params.join(", ")),
            ("inits", &inits),
            ("setters", &setters),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::super::model::Api;
    use super::*;
    use serde_json::json;

    fn api() -> Api {
        Api::from_json(&json!({"components": {"schemas": {
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
        }}}))
    }

    #[test]
    fn a_response_object_reads_with_its_own_visitor_and_keeps_the_rest() {
        let api = api();
        let mut g = Gen::new(&api);
        let code = g.object(api.schema("Thing").unwrap());
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
        let api = api();
        let mut g = Gen::new(&api);
        let code = g.object(api.schema("ThingParams").unwrap());
        assert!(code.contains("#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]\n#[non_exhaustive]\npub struct ThingParams {"), "{code}");
        assert!(!code.contains("pub extra"));
        assert!(code.contains("pub note: Option<Option<String>>,"));
        assert!(code.contains("pub fn new(name: impl Into<String>) -> Self {"));
        assert!(code.contains("pub fn note(mut self, value: impl Into<String>) -> Self {"));
        assert!(code.contains("pub fn clear_note(mut self) -> Self {"));
    }
}
