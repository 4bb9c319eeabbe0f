//! Generates the crate's types and operations from `spec/openapi.json` into `$OUT_DIR`.
//!
//! - `types.rs`: one Rust item per component schema (structs, `type`-tagged unions with an
//!   `Unknown(Value)` catch-all, untagged unions, open string enums with an `Other(String)`
//!   catch-all), plus the zero-sized tags that stand for constant `type` values.
//! - `operations.rs`: the resource accessors (`client.sessions().events()`), one blocking
//!   method per operation (and a `_with` form taking `RequestOptions`), the query structs, and
//!   the operation table.
//!
//! The generator is deliberately plain: it reads JSON with serde_json and writes Rust source as
//! text, already laid out as rustfmt would, so the build needs no syn, quote or prettyplease.
//! spec/README.md explains the mapping rules and why typify and progenitor are not used here.

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=spec/openapi.json");
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string("spec/openapi.json").expect("read spec/openapi.json");
    let spec: Value = serde_json::from_str(&text).expect("spec/openapi.json is not JSON");
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let mut gen = Gen::new(&spec);
    let (ops, queries) = gen.operations();
    let types = gen.types() + &queries;
    let files = [
        Path::new(&out).join("types.rs"),
        Path::new(&out).join("operations.rs"),
    ];
    std::fs::write(&files[0], types).expect("write types.rs");
    std::fs::write(&files[1], ops).expect("write operations.rs");
    // The text is already laid out; rustfmt, when the toolchain has it, makes it exactly
    // rustfmt's, for anyone reading it in their editor. Without it the code is the same.
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into());
    let _ = std::process::Command::new(rustfmt)
        .args(["--edition", "2021"])
        .args(&files)
        .stderr(std::process::Stdio::null())
        .status();
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
    "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// `agent.custom_tool_use` -> `AgentCustomToolUse`; `claude-opus-4-5` -> `ClaudeOpus45`.
fn camel(s: &str) -> String {
    let mut out = String::new();
    for part in s
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let mut cs = part.chars();
        if let Some(f) = cs.next() {
            out.push(f.to_ascii_uppercase());
            out.extend(cs);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// A wire name as a Rust field or method name.
fn snake(s: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        return format!("_{out}");
    }
    if matches!(out.as_str(), "self" | "super" | "crate" | "Self") {
        return format!("{out}_");
    }
    if KEYWORDS.contains(&out.as_str()) {
        return format!("r#{out}");
    }
    out
}

/// Doc comment lines from a spec description. Code fences become `text` blocks so that
/// rustdoc never compiles the API's prose as a doctest.
fn doc(text: Option<&str>, indent: &str) -> String {
    let Some(text) = text else {
        return String::new();
    };
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let mut in_fence = false;
    for line in text.lines() {
        let t = line.trim_start();
        let line = if t.starts_with("```") {
            in_fence = !in_fence;
            if in_fence {
                "```text".to_string()
            } else {
                "```".to_string()
            }
        } else {
            // four spaces of indent would make a Markdown code block, which rustdoc would compile
            let indent = line.len() - t.len();
            let line = if !in_fence && indent >= 4 {
                format!("  {t}")
            } else {
                line.to_string()
            };
            // `<` and `>` would be read as HTML
            let line = line.replace('<', "&lt;").replace('>', "&gt;");
            // square brackets would be read as intra-doc links, unless they are a Markdown link
            if line.contains("](http") {
                autolink(&line)
            } else {
                autolink(&line.replace('[', "\\[").replace(']', "\\]"))
            }
        };
        if line.is_empty() {
            let _ = writeln!(out, "{indent}///");
        } else {
            let _ = writeln!(out, "{indent}/// {line}");
        }
    }
    if in_fence {
        let _ = writeln!(out, "{indent}/// ```");
    }
    out
}

/// Bare URLs as Markdown autolinks (`<https://..>`), trailing punctuation left outside.
fn autolink(line: &str) -> String {
    line.split(' ')
        .map(|w| {
            let start = w.find("https://").or_else(|| w.find("http://"));
            match start {
                Some(i) if !w[..i].ends_with('(') && !w[..i].ends_with('`') => {
                    let url = &w[i..];
                    let end = url
                        .trim_end_matches(|c: char| ".,;:)'\"`".contains(c))
                        .len();
                    format!("{}<{}>{}", &w[..i], &url[..end], &url[end..])
                }
                _ => w.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn lit(s: &str) -> String {
    format!("{s:?}")
}

struct Gen<'a> {
    spec: &'a Value,
    schemas: &'a Map<String, Value>,
    /// constant string value -> tag type name in `tags`
    tags: BTreeMap<String, String>,
    default_memo: HashMap<String, bool>,
}

impl<'a> Gen<'a> {
    fn new(spec: &'a Value) -> Self {
        let schemas = spec["components"]["schemas"]
            .as_object()
            .expect("components.schemas");
        Gen {
            spec,
            schemas,
            tags: BTreeMap::new(),
            default_memo: HashMap::new(),
        }
    }

    fn ref_name(s: &Value) -> Option<&str> {
        s.get("$ref")?.as_str()?.rsplit('/').next()
    }

    /// The schema behind `allOf: [x]` wrappers (which only carry a description or `nullable`).
    fn unwrap(s: &Value) -> &Value {
        match s.get("allOf").and_then(Value::as_array) {
            Some(all) if all.len() == 1 => &all[0],
            _ => s,
        }
    }

    fn is_const(s: &Value) -> Option<&str> {
        let e = s.get("enum")?.as_array()?;
        if e.len() == 1 && s.get("type").and_then(Value::as_str) == Some("string") {
            e[0].as_str()
        } else {
            None
        }
    }

    fn tag_type(&mut self, value: &str) -> String {
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
    fn rust_type(&mut self, s: &Value) -> String {
        let nullable = s.get("nullable").and_then(Value::as_bool) == Some(true);
        let inner = Self::unwrap(s);
        let t = self.rust_type_plain(inner);
        if nullable {
            format!("Option<{t}>")
        } else {
            t
        }
    }

    fn rust_type_plain(&mut self, s: &Value) -> String {
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
    fn has_default(&mut self, ty: &str) -> bool {
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

    fn types(&mut self) -> String {
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
    fn stream_conversions(&self) -> String {
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

    fn object(&mut self, name: &str, s: &Value) -> String {
        let fallback = format!("The `{name}` object.");
        let mut out = doc(Some(s["description"].as_str().unwrap_or(&fallback)), "");
        let request = s.get("x-request").and_then(Value::as_bool) == Some(true);
        let required = required_set(s);
        let props = s["properties"].as_object().cloned().unwrap_or_default();
        let all_default = self.has_default(name);
        let derives = if all_default {
            "Debug, Clone, PartialEq, Default, Serialize, Deserialize"
        } else {
            "Debug, Clone, PartialEq, Serialize, Deserialize"
        };
        let _ = writeln!(out, "#[derive({derives})]");
        let _ = writeln!(out, "pub struct {name} {{");
        // (field, rust type of the value, optional?, double option?, tag?, wire)
        let mut fields: Vec<(String, String, bool, bool, bool, String)> = Vec::new();
        for (wire, p) in &props {
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
            let (decl, optional, double) = if is_req && !nullable {
                (ty.clone(), false, false)
            } else if is_req {
                let _ = writeln!(out, "    #[serde(default)]");
                (format!("Option<{ty}>"), true, false)
            } else if request && nullable {
                let _ = writeln!(
                    out,
                    "    #[serde(default, deserialize_with = \"crate::types::double_option\", skip_serializing_if = \"Option::is_none\")]"
                );
                (format!("Option<Option<{ty}>>"), true, true)
            } else {
                let _ = writeln!(
                    out,
                    "    #[serde(default, skip_serializing_if = \"Option::is_none\")]"
                );
                (format!("Option<{ty}>"), true, false)
            };
            let _ = writeln!(out, "    pub {field}: {decl},");
            fields.push((
                field,
                ty,
                optional,
                double,
                is_tag && !optional,
                wire.clone(),
            ));
        }
        if name.contains("InputSchema") {
            // a JSON Schema: keys beyond the modelled ones (`additionalProperties`, `$schema`, ...) are kept
            let _ = writeln!(out, "    /// Every other key of the schema, kept as it is.");
            let _ = writeln!(out, "    #[serde(flatten)]");
            let _ = writeln!(out, "    pub extra: Map<String, Value>,");
            fields.push((
                "extra".into(),
                "Map<String, Value>".into(),
                false,
                false,
                true,
                String::new(),
            ));
        }
        out.push_str("}\n");
        if request {
            // A constructor over the required fields and a setter per optional field.
            let mut args: Vec<&(String, String, bool, bool, bool, String)> =
                fields.iter().filter(|f| !f.2 && !f.4).collect();
            // `name` leads, as it does in the API's docs; the rest keep the spec's order
            args.sort_by_key(|f| f.5 != "name");
            let _ = writeln!(out, "\nimpl {name} {{");
            let _ = writeln!(
                out,
                "    /// A `{name}` with its required fields; every optional field is absent."
            );
            let params: Vec<String> = args
                .iter()
                .map(|f| format!("{}: impl Into<{}>", f.0, f.1))
                .collect();
            let _ = writeln!(out, "    pub fn new({}) -> Self {{", params.join(", "));
            let _ = writeln!(out, "        {name} {{");
            for f in &fields {
                if f.2 {
                    let _ = writeln!(out, "            {}: None,", f.0);
                } else if f.4 {
                    let _ = writeln!(out, "            {}: Default::default(),", f.0);
                } else {
                    let _ = writeln!(out, "            {}: {}.into(),", f.0, f.0);
                }
            }
            let _ = writeln!(out, "        }}\n    }}");
            for f in fields.iter().filter(|f| f.2 && !f.1.starts_with("tags::")) {
                let bare = f.0.trim_start_matches("r#");
                let set = if f.3 {
                    "Some(Some(value.into()))".to_string()
                } else {
                    "Some(value.into())".into()
                };
                let _ = writeln!(out, "\n    /// Sets `{}`.", f.5);
                let _ = writeln!(
                    out,
                    "    pub fn {}(mut self, value: impl Into<{}>) -> Self {{",
                    f.0, f.1
                );
                let _ = writeln!(out, "        self.{} = {set};\n        self\n    }}", f.0);
                if f.3 {
                    let _ = writeln!(
                        out,
                        "\n    /// Sends `{}` as an explicit `null` (clears it).",
                        f.5
                    );
                    let _ = writeln!(out, "    pub fn clear_{bare}(mut self) -> Self {{");
                    let _ = writeln!(
                        out,
                        "        self.{} = Some(None);\n        self\n    }}",
                        f.0
                    );
                }
            }
            out.push_str("}\n");
        }
        out
    }

    fn tagged_union(&mut self, name: &str, s: &Value) -> String {
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
        let _ = writeln!(out, "    {name}, {};", lit(prop));
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

    fn untagged_union(&mut self, name: &str, s: &Value) -> String {
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

    fn open_enum(&mut self, name: &str, s: &Value) -> String {
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
            let _ = writeln!(out, "    /// `{v}`");
            let _ = writeln!(out, "    {variant} = {},", lit(v));
        }
        out.push_str("}\n");
        out
    }

    // ---- operations ---------------------------------------------------------------------

    /// The operations module, and the query structs (which live among the types).
    fn operations(&mut self) -> (String, String) {
        struct Op {
            group: String,
            method: String,
            verb: String,
            path: String,
            beta: String,
            code: String,
        }
        let mut ops: Vec<Op> = Vec::new();
        let mut query_structs = String::new();
        let paths = self.spec["paths"].as_object().expect("paths").clone();
        for (path, verbs) in &paths {
            for (verb, op) in verbs.as_object().expect("verbs") {
                let group = op["x-group"].as_str().expect("x-group").to_string();
                let method = op["x-method"].as_str().expect("x-method").to_string();
                let beta = op["x-anthropic-beta"].as_str().unwrap_or("").to_string();
                let (code, qs) = self.operation(path, verb, op, ops.len());
                query_structs.push_str(&qs);
                ops.push(Op {
                    group,
                    method,
                    verb: verb.to_uppercase(),
                    path: path.clone(),
                    beta,
                    code,
                });
            }
        }
        let mut out = String::new();
        // the operation table
        let _ = writeln!(
            out,
            "/// Every operation of the API that this crate binds, in the order of the spec."
        );
        let _ = writeln!(out, "pub static OPERATIONS: &[Operation] = &[");
        for o in &ops {
            let _ = writeln!(
                out,
                "    Operation {{ id: {}, method: {}, path: {}, beta: {} }},",
                lit(&format!("{}.{}", o.group, o.method)),
                lit(&o.verb),
                lit(&o.path),
                lit(&o.beta)
            );
        }
        out.push_str("];\n\n");
        // resource structs, accessors and methods
        let groups: BTreeSet<String> = ops.iter().map(|o| o.group.clone()).collect();
        for g in &groups {
            let ty = group_type(g);
            let _ = writeln!(
                out,
                "/// The `{g}` resource: `client.{}`.",
                g.split('.')
                    .map(|p| format!("{p}()"))
                    .collect::<Vec<_>>()
                    .join(".")
            );
            let _ = writeln!(out, "#[derive(Debug, Clone, Copy)]");
            let _ = writeln!(out, "pub struct {ty}<'c> {{\n    client: &'c Client,\n}}\n");
            let _ = writeln!(out, "impl<'c> {ty}<'c> {{");
            let _ = writeln!(out, "    #[allow(dead_code)]\n    pub(crate) fn client(&self) -> &'c Client {{\n        self.client\n    }}\n");
            // sub-resources
            for sub in groups.iter().filter(|s| {
                s.starts_with(&format!("{g}."))
                    && s.matches('.').count() == g.matches('.').count() + 1
            }) {
                let leaf = sub.rsplit('.').next().expect("leaf");
                let _ = writeln!(out, "    /// The `{sub}` resource.");
                let _ = writeln!(out, "    pub fn {leaf}(&self) -> {}<'c> {{\n        {} {{ client: self.client }}\n    }}\n", group_type(sub), group_type(sub));
            }
            for o in ops.iter().filter(|o| &o.group == g) {
                out.push_str(&o.code);
            }
            out.push_str("}\n\n");
        }
        let _ = writeln!(out, "impl Client {{");
        for g in groups.iter().filter(|g| !g.contains('.')) {
            let _ = writeln!(out, "    /// The `{g}` resource.");
            let _ = writeln!(
                out,
                "    pub fn {g}(&self) -> {}<'_> {{\n        {} {{ client: self }}\n    }}\n",
                group_type(g),
                group_type(g)
            );
        }
        out.push_str("}\n");
        (out, query_structs)
    }

    /// One operation: its two methods, and its query struct.
    fn operation(&mut self, path: &str, verb: &str, op: &Value, index: usize) -> (String, String) {
        // an event stream's raw response is `<method>_response`; src/stream.rs builds
        // the `EventStream` that users call `<method>` on top of it
        let is_stream = op["responses"]["200"].get("x-stream").is_some();
        let method_name = format!(
            "{}{}",
            op["x-method"].as_str().expect("x-method"),
            if is_stream { "_response" } else { "" }
        );
        let method = method_name.as_str();
        let mut args: Vec<String> = Vec::new();
        let mut call_args: Vec<String> = Vec::new();
        let mut path_params: Vec<String> = Vec::new();
        let mut query_params: Vec<Value> = Vec::new();
        for p in op["parameters"].as_array().into_iter().flatten() {
            match p.get("in").and_then(Value::as_str) {
                Some("path") => path_params.push(p["name"].as_str().expect("name").to_string()),
                Some("query") => query_params.push(p.clone()),
                _ => {}
            }
        }
        for p in &path_params {
            args.push(format!("{p}: &str"));
            call_args.push(p.clone());
        }
        let mut qs = String::new();
        let query_expr = if query_params.is_empty() {
            "Vec::new()".to_string()
        } else {
            let qname = op["x-query-name"]
                .as_str()
                .expect("x-query-name")
                .to_string();
            qs = self.query_struct(&qname, &query_params, op);
            args.push(format!("params: &{qname}"));
            call_args.push("params".into());
            "params.to_query()".to_string()
        };
        let mut body_expr = "Body::Empty".to_string();
        let mut multipart = false;
        if let Some(content) = op.get("requestBody").and_then(|b| b["content"].as_object()) {
            if let Some(j) = content.get("application/json") {
                let t = self.rust_type(&j["schema"]);
                args.push(format!("body: &{t}"));
                call_args.push("body".into());
                body_expr = "Body::json(body)?".into();
            } else if content.contains_key("multipart/form-data") {
                args.push("form: impl Into<Multipart>".into());
                call_args.push("form".into());
                body_expr = "Body::Multipart(form.into())".into();
                multipart = true;
            }
        }
        let resp = &op["responses"]["200"];
        let (ret, finish) = if resp.get("x-stream").is_some() {
            ("Response".to_string(), "Ok(response)".to_string())
        } else if resp.get("x-pagination").is_some() {
            let item = self.rust_type(
                &resp["content"]["application/json"]["schema"]["properties"]["data"]["items"],
            );
            let again = if query_params.iter().any(|q| q["name"] == "page") {
                let path_clones: Vec<String> = path_params
                    .iter()
                    .map(|p| format!("let {p} = {p}.to_string();"))
                    .collect();
                let path_refs: Vec<String> = path_params.iter().map(|p| format!("&{p}")).collect();
                let group_call = op["x-group"]
                    .as_str()
                    .expect("group")
                    .split('.')
                    .map(|p| format!("{p}()"))
                    .collect::<Vec<_>>()
                    .join(".");
                format!(
                    "let client = self.client.clone();\n        let params = params.clone();\n        let options = options.clone();\n        {}\n        Ok(page.with_next(move |cursor| {{\n            let mut params = params.clone();\n            params.page = Some(cursor.to_string());\n            client.{group_call}.{method}_with({}&params, &options)\n        }}))",
                    path_clones.join("\n        "),
                    path_refs.iter().map(|p| format!("{p}, ")).collect::<String>(),
                )
            } else {
                "Ok(page)".into()
            };
            (
                format!("Page<{item}>"),
                format!("let page: Page<{item}> = response.json()?;\n        {again}"),
            )
        } else if let Some(j) = resp.get("content").and_then(|c| c.get("application/json")) {
            let t = self.rust_type(&j["schema"]);
            (t, "response.json()".into())
        } else if resp
            .get("content")
            .and_then(|c| c.get("application/octet-stream"))
            .is_some()
        {
            ("Response".into(), "Ok(response)".into())
        } else {
            ("()".into(), "response.finish()".into())
        };
        let mut code = String::new();
        let summary = op.get("summary").and_then(Value::as_str).unwrap_or(method);
        let mut d = summary.to_string();
        if let Some(desc) = op.get("description").and_then(Value::as_str) {
            d.push_str("\n\n");
            d.push_str(desc);
        }
        d.push_str(&format!("\n\n`{} {path}`", verb.to_uppercase()));
        if multipart {
            d.push_str("\n\nThe body is `multipart/form-data`; `Files::upload` builds it from a path or any reader.");
        }
        code.push_str(&doc(Some(&d), "    "));
        let _ = writeln!(
            code,
            "    pub fn {method}(&self{}) -> Result<{ret}> {{",
            args.iter().map(|a| format!(", {a}")).collect::<String>()
        );
        let _ = writeln!(
            code,
            "        self.{method}_with({}&RequestOptions::default())\n    }}\n",
            call_args
                .iter()
                .map(|a| format!("{a}, "))
                .collect::<String>()
        );
        let _ = writeln!(code, "    /// [`Self::{method}`] with per-call options (deadline, retries, extra headers and query).");
        let _ = writeln!(
            code,
            "    pub fn {method}_with(&self{}, options: &RequestOptions) -> Result<{ret}> {{",
            args.iter().map(|a| format!(", {a}")).collect::<String>()
        );
        // the path, every parameter checked and percent-encoded
        let mut fmt_path = String::new();
        let mut fmt_args = Vec::new();
        let mut rest = path;
        while let Some(start) = rest.find('{') {
            let end = rest[start..].find('}').expect("closing brace") + start;
            fmt_path.push_str(&rest[..start]);
            fmt_path.push_str("{}");
            let name = &rest[start + 1..end];
            fmt_args.push(format!("path_segment({}, {name})?", lit(name)));
            rest = &rest[end + 1..];
        }
        fmt_path.push_str(rest);
        if fmt_args.is_empty() {
            let _ = writeln!(code, "        let path = {}.to_string();", lit(&fmt_path));
        } else {
            let _ = writeln!(
                code,
                "        let path = format!({}, {});",
                lit(&fmt_path),
                fmt_args.join(", ")
            );
        }
        let _ = writeln!(code, "        let response = self.client.execute(&OPERATIONS[{index}], path, {query_expr}, {body_expr}, options)?;");
        let _ = writeln!(code, "        {finish}\n    }}\n");
        (code, qs)
    }

    fn query_struct(&mut self, name: &str, params: &[Value], op: &Value) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "/// The query of `{}`; every field is optional.",
            op["operationId"].as_str().unwrap_or("")
        );
        let _ = writeln!(out, "#[derive(Debug, Clone, PartialEq, Default)]");
        let _ = writeln!(out, "pub struct {name} {{");
        let mut fields = Vec::new();
        for p in params {
            let wire = p["name"].as_str().expect("name");
            let field = snake(p.get("x-rust-name").and_then(Value::as_str).unwrap_or(wire));
            // a query value of `null` is the same as no value: the SDK leaves both out
            let ty = self.rust_type_plain(Self::unwrap(&p["schema"]));
            let fallback = format!("`{wire}`.");
            out.push_str(&doc(
                Some(
                    p.get("description")
                        .and_then(Value::as_str)
                        .unwrap_or(&fallback),
                ),
                "    ",
            ));
            let _ = writeln!(out, "    pub {field}: Option<{ty}>,");
            let array = p["schema"]["type"] == "array";
            fields.push((field, ty, wire.to_string(), array));
        }
        out.push_str("}\n\n");
        let _ = writeln!(out, "impl {name} {{");
        for (field, ty, wire, _) in &fields {
            let bare = field.trim_start_matches("r#");
            let _ = writeln!(out, "    /// Sets `{wire}`.");
            let _ = writeln!(out, "    pub fn {bare}(mut self, value: impl Into<{ty}>) -> Self {{\n        self.{field} = Some(value.into());\n        self\n    }}\n");
        }
        let _ = writeln!(
            out,
            "    /// The query pairs, in the spec's order; arrays repeat their key."
        );
        let _ = writeln!(
            out,
            "    pub fn to_query(&self) -> Vec<(&'static str, String)> {{"
        );
        let _ = writeln!(out, "        let mut q = Vec::new();");
        for (field, _, wire, array) in &fields {
            if *array {
                let _ = writeln!(out, "        for v in self.{field}.iter().flatten() {{\n            q.push(({}, crate::operations::QueryValue::query_value(v)));\n        }}", lit(wire));
            } else {
                let _ = writeln!(out, "        if let Some(v) = &self.{field} {{\n            q.push(({}, crate::operations::QueryValue::query_value(v)));\n        }}", lit(wire));
            }
        }
        let _ = writeln!(out, "        q\n    }}\n}}\n");
        out
    }
}

fn required_set(s: &Value) -> BTreeSet<String> {
    s.get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// `sessions.threads.events` -> `SessionsThreadsEvents`.
fn group_type(g: &str) -> String {
    g.split('.').map(camel).collect()
}
