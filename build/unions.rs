//! Unions and enums: `type`-tagged unions, untagged unions, open string enums.

use super::model::{Kind, Schema, SchemaKind};
use super::names::{camel, doc, lit};
use super::schema::Gen;
use super::template::fill;
use std::collections::BTreeSet;

const TAGGED_UNION: &str = r#"crate::types::tagged_union! {
{doc}    {name}, {property}, {side};
{variants}}
"#;

const TAGGED_UNION_DOC: &str = "    /// One of the objects below, told apart by their `{property}`; a `{property}` this version does not know is kept whole in `Unknown`.\n";

const TAGGED_VARIANT: &str = r#"    /// `{property}: {tag}`
    {variant}({ty}) = {value},
"#;

const JSON_FAST_PATH: &str = r#"crate::types::json_fast_path! {
    {name}, {property};
{variants}}
"#;

const ACCESSOR: &str = r#"
impl {name} {
    /// The `{field}` of the object, whichever its kind (`None` when it has none).
    pub fn {field}(&self) -> Option<&str> {
        match self {
{arms}            {name}::Unknown(v) => v.get({wire}).and_then(Value::as_str),
        }
    }
}
"#;

const UNTAGGED_UNION: &str = r#"#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum {name} {
{variants}    /// A shape this version of the crate does not know, kept as it came.
    Unknown(Value),
}
"#;

const UNTAGGED_UNION_DOC: &str = "/// One of several shapes, tried in the order below; anything else is kept whole in `Unknown`.\n";

const UNTAGGED_VARIANT: &str = r#"    /// A `{ty}`.
    {variant}({ty}),
"#;

const FROM: &str = r#"
impl From<{ty}> for {name} {
    fn from(value: {ty}) -> Self {
        {name}::{variant}({value})
    }
}
"#;

const OPEN_ENUM: &str = r#"crate::types::open_enum! {
{doc}    {name};
{values}}
"#;

const OPEN_ENUM_DOC: &str =
    "    /// A string the API defines; a value this version does not know is kept in `Other`.\n";

impl Gen<'_> {
    /// A `oneOf` union told apart by its discriminator, with `Unknown` for other values.
    pub(crate) fn tagged_union(&mut self, s: &Schema) -> String {
        let SchemaKind::Tagged(union) = &s.kind else {
            panic!("{}: not a tagged union", s.name);
        };
        let name = s.name.as_str();
        let property = union.property.as_str();
        let doc = match &s.description {
            Some(d) => doc(Some(d), "    "),
            None => fill(TAGGED_UNION_DOC, &[("property", property)]),
        };
        // a union of request objects stays strict; a response union keeps a known kind that
        // does not read as `Unknown`
        let side = if self.is_request_union(union) {
            "request"
        } else {
            "response"
        };
        let mut seen = BTreeSet::new();
        // (variant, member type, value)
        let mut variants: Vec<(String, &str, &str)> = Vec::new();
        for (tag, ty) in &union.mapping {
            let mut variant = camel(tag);
            assert!(
                variant != "Unknown",
                "{name}: a known variant is named Unknown"
            );
            while !seen.insert(variant.clone()) {
                variant.push('_');
            }
            variants.push((variant, ty, tag));
        }
        let listed: String = variants
            .iter()
            .map(|(v, ty, tag)| {
                fill(
                    TAGGED_VARIANT,
                    &[
                        ("property", property),
                        ("tag", tag),
                        ("variant", v),
                        ("ty", ty),
                        ("value", &lit(tag)),
                    ],
                )
            })
            .collect();
        let mut out = fill(
            TAGGED_UNION,
            &[
                ("doc", &doc),
                ("name", name),
                ("property", &lit(property)),
                ("side", side),
                ("variants", &listed),
            ],
        );
        // the unions an event stream is read into get a faster reader for JSON text: the
        // stream unions, and the union of a stream's kinds less its previews (an event is read
        // straight into `SessionEvent`, not read into the stream union and moved across)
        if name.starts_with("Stream") || self.stream_events().contains(&name) {
            let listed: String = variants
                .iter()
                .map(|(v, ty, tag)| format!("    {v}({ty}) = {},\n", lit(tag)))
                .collect();
            out.push_str(&fill(
                JSON_FAST_PATH,
                &[
                    ("name", name),
                    ("property", &lit(property)),
                    ("variants", &listed),
                ],
            ));
        }
        // fields every member has as a string: an accessor that also reads `Unknown`
        for field in ["id", "processed_at"] {
            // per member: Some(optional?) when it has the field as a string
            let members: Option<Vec<bool>> = variants
                .iter()
                .map(|(_, ty, _)| {
                    let member = self.api.schema(ty).expect("a union's member is a schema");
                    let p = member.properties().iter().find(|p| p.wire == field)?;
                    matches!(p.ty.kind, Kind::String | Kind::Const(_)).then_some(!p.required)
                })
                .collect();
            let Some(members) = members.filter(|m| !m.is_empty()) else {
                continue;
            };
            let arms: String = variants
                .iter()
                .zip(&members)
                .map(|((v, _, _), optional)| {
                    if *optional {
                        format!("            {name}::{v}(x) => x.{field}.as_deref(),\n")
                    } else {
                        format!("            {name}::{v}(x) => Some(&x.{field}),\n")
                    }
                })
                .collect();
            out.push_str(&fill(
                ACCESSOR,
                &[
                    ("name", name),
                    ("field", field),
                    ("arms", &arms),
                    ("wire", &lit(field)),
                ],
            ));
        }
        out
    }

    /// An `anyOf` union: serde's untagged enum, richer objects tried first, then `Unknown`.
    pub(crate) fn untagged_union(&mut self, s: &Schema) -> String {
        let SchemaKind::Untagged(members) = &s.kind else {
            panic!("{}: not an untagged union", s.name);
        };
        let name = s.name.as_str();
        let mut out = match &s.description {
            Some(d) => doc(Some(d), ""),
            None => UNTAGGED_UNION_DOC.to_string(),
        };
        // Objects with more properties first, so that a richer shape is not read as a poorer one.
        let mut variants: Vec<(String, String, usize)> = Vec::new();
        for m in members {
            let ty = self.rust_type(m);
            let (variant, weight) = match &m.kind {
                Kind::Ref(r) => {
                    let n = self
                        .api
                        .schema(r)
                        .expect("a union's member is a schema")
                        .properties()
                        .len();
                    let short = r
                        .strip_prefix(name)
                        .filter(|x| !x.is_empty() && !x.starts_with(|c: char| c.is_ascii_digit()));
                    (short.unwrap_or(r).to_string(), n)
                }
                _ => (camel(&ty), 0),
            };
            variants.push((variant, ty, weight));
        }
        variants.sort_by_key(|v| std::cmp::Reverse(v.2));
        let listed: String = variants
            .iter()
            .map(|(v, ty, _)| fill(UNTAGGED_VARIANT, &[("ty", ty), ("variant", v)]))
            .collect();
        out.push_str(&fill(
            UNTAGGED_UNION,
            &[("name", name), ("variants", &listed)],
        ));
        for (variant, ty, _) in &variants {
            let from = |ty: &str, value: &str| {
                fill(
                    FROM,
                    &[
                        ("ty", ty),
                        ("name", name),
                        ("variant", variant),
                        ("value", value),
                    ],
                )
            };
            out.push_str(&from(ty, "value"));
            if self.api.schema(ty).is_some_and(|s| s.open_enum) {
                out.push_str(&from("&str", "value.into()"));
                out.push_str(&from("String", "value.into()"));
            }
            if ty == "String" {
                out.push_str(&from("&str", "value.to_string()"));
            }
        }
        out
    }

    /// An open string enum: one variant per value, `Other(String)` for the rest.
    pub(crate) fn open_enum(&mut self, s: &Schema) -> String {
        let SchemaKind::Enum(values) = &s.kind else {
            panic!("{}: not an enum", s.name);
        };
        let name = s.name.as_str();
        let doc_text = match &s.description {
            Some(d) => doc(Some(d), "    "),
            None => OPEN_ENUM_DOC.to_string(),
        };
        let mut seen = BTreeSet::new();
        let mut listed = String::new();
        for v in values {
            let mut variant = camel(&v.value);
            assert!(variant != "Other", "{name}: a known value is named Other");
            while !seen.insert(variant.clone()) {
                variant.push('_');
            }
            match &v.description {
                Some(d) => {
                    listed.push_str(&format!("    /// `{}`:\n    ///\n", v.value));
                    listed.push_str(&doc(Some(d), "    "));
                }
                None => listed.push_str(&format!("    /// `{}`\n", v.value)),
            }
            if let Some(note) = &v.deprecated {
                listed.push_str(&format!("    #[deprecated(note = {})]\n", lit(note)));
            }
            listed.push_str(&format!("    {variant} = {},\n", lit(&v.value)));
        }
        fill(
            OPEN_ENUM,
            &[("doc", &doc_text), ("name", name), ("values", &listed)],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::Api;
    use super::super::schema::Gen;
    use serde_json::{json, Value};

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

    fn api() -> Api {
        Api::from_json(&json!({"components": {"schemas": {
            "A": {"type": "object", "properties": {"type": {"type": "string", "enum": ["a"]}}},
            "B": {"type": "object", "properties": {"type": {"type": "string", "enum": ["b.c"]}}},
            "AParams": {"type": "object", "x-request": true,
                        "properties": {"type": {"type": "string", "enum": ["a"]}}},
            "Status": {"type": "string", "enum": ["idle", "running"]},
            "Thing": union(&[("a", "A"), ("b.c", "B")]),
            "ThingParams": union(&[("a", "AParams")])
        }}}))
    }

    #[test]
    fn a_response_union_is_lenient_and_a_request_union_strict() {
        let api = api();
        let mut g = Gen::new(&api);
        let code = g.tagged_union(api.schema("Thing").unwrap());
        assert!(code.contains("    Thing, \"type\", response;"), "{code}");
        assert!(code.contains("    A(A) = \"a\","));
        assert!(code.contains("    BC(B) = \"b.c\","));
        let code = g.tagged_union(api.schema("ThingParams").unwrap());
        assert!(
            code.contains("    ThingParams, \"type\", request;"),
            "{code}"
        );
    }

    #[test]
    fn an_open_enum_lists_its_values_and_keeps_others() {
        let api = api();
        let mut g = Gen::new(&api);
        let code = g.open_enum(api.schema("Status").unwrap());
        assert!(code.starts_with("crate::types::open_enum! {"), "{code}");
        assert!(code.contains("    Idle = \"idle\","));
        assert!(code.contains("    Running = \"running\","));
    }
}
