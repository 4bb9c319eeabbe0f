//! The spec as a typed model: the one place that reads `spec/openapi.json` (and
//! `spec/deprecated.json`) as JSON. Everything the generator writes is emitted from these types.
//!
//! The model keeps the spec's order everywhere (schemas, properties, mappings, operations), so
//! the generated code follows it too. `schemas` holds the types' model, `operations` the
//! calls', `errors` the SDK's error table; this file the whole and what they share.

mod errors;
mod operations;
mod schemas;

pub(crate) use errors::{error_table, ErrorClass};
pub(crate) use operations::{Body, Operation, Query, Response};
pub(crate) use schemas::{EnumValue, Kind, Property, Schema, SchemaKind, Tagged, TypeRef};

use super::names::camel;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The whole API: what the generator needs of the document, read once.
#[derive(Debug)]
pub(crate) struct Api {
    /// The `anthropic-version` the official SDK sends (`info.x-anthropic-version`).
    pub(crate) version: Option<String>,
    /// Every component schema, in the spec's order.
    pub(crate) schemas: Vec<Schema>,
    /// Every operation, in the spec's order (paths, then verbs).
    pub(crate) operations: Vec<Operation>,
    /// The SDK's error table (`x-error-classes`).
    pub(crate) errors: Vec<ErrorClass>,
    /// Constant string value -> the name of its zero-sized type in `tags`.
    pub(crate) tags: BTreeMap<String, String>,
    index: HashMap<String, usize>,
}

impl Api {
    /// Reads the spec and the values `deprecated.json` keeps.
    pub(crate) fn parse(openapi: &str, deprecated: &str) -> Api {
        let spec: Value = serde_json::from_str(openapi).expect("spec/openapi.json is not JSON");
        let kept: Value =
            serde_json::from_str(deprecated).expect("spec/deprecated.json is not JSON");
        let mut api = Api::from_json(&spec);
        api.keep_deprecated(&kept["values"]);
        api
    }

    /// The model of a spec already read as JSON.
    pub(crate) fn from_json(spec: &Value) -> Api {
        let schemas: Vec<Schema> = spec["components"]["schemas"]
            .as_object()
            .expect("components.schemas")
            .iter()
            .map(|(name, s)| Schema::parse(name, s))
            .collect();
        let index = schemas
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        let mut operations = Vec::new();
        for (path, verbs) in spec["paths"].as_object().into_iter().flatten() {
            for (verb, op) in verbs.as_object().expect("verbs") {
                operations.push(Operation::parse(path, verb, op));
            }
        }
        let mut api = Api {
            version: text(&spec["info"]["x-anthropic-version"]),
            schemas,
            operations,
            errors: error_table(spec),
            tags: BTreeMap::new(),
            index,
        };
        api.tags = api.name_tags();
        api
    }

    /// The schema of a name.
    pub(crate) fn schema(&self, name: &str) -> Option<&Schema> {
        self.index.get(name).map(|&i| &self.schemas[i])
    }

    /// The schemas that become Rust items: all but the error body (`Error` reads it) and
    /// file bodies.
    pub(crate) fn generated(&self) -> impl Iterator<Item = &Schema> {
        self.schemas
            .iter()
            .filter(|s| s.name != "ErrorResponse" && !s.binary)
    }

    /// Names each constant string of the generated schemas, in their order: `CamelCase` of the
    /// value, numbered from 2 when another value took the name first.
    fn name_tags(&self) -> BTreeMap<String, String> {
        let mut values = Vec::new();
        for op in &self.operations {
            for p in op.query.iter().flat_map(|q| &q.params) {
                p.ty.consts(&mut values);
            }
            if let Body::Json(t) = &op.body {
                t.consts(&mut values);
            }
            if let Response::Json(t) | Response::Page(t) = &op.response {
                t.consts(&mut values);
            }
        }
        for s in self.generated() {
            match &s.kind {
                SchemaKind::Object(props) => {
                    for p in props.iter().flatten() {
                        p.ty.consts(&mut values);
                    }
                }
                SchemaKind::Untagged(members) => members.iter().for_each(|m| m.consts(&mut values)),
                SchemaKind::Alias(t) => t.consts(&mut values),
                SchemaKind::Tagged(_) | SchemaKind::Enum(_) => {}
            }
        }
        let mut tags: BTreeMap<String, String> = BTreeMap::new();
        let mut taken = BTreeSet::new();
        for value in values {
            if tags.contains_key(&value) {
                continue;
            }
            let mut base = camel(&value);
            if base == "Self" {
                base.push('_');
            }
            let mut name = base.clone();
            let mut n = 2;
            while taken.contains(&name) {
                name = format!("{base}{n}");
                n += 1;
            }
            taken.insert(name.clone());
            tags.insert(value, name);
        }
        tags
    }

    /// Adds the values `spec/deprecated.json` keeps to their open enums, each with its note,
    /// unless the spec lists it again.
    pub(crate) fn keep_deprecated(&mut self, kept: &Value) {
        for (name, values) in kept.as_object().into_iter().flatten() {
            let list = match self
                .index
                .get(name.as_str())
                .map(|&i| &mut self.schemas[i].kind)
            {
                Some(SchemaKind::Enum(list)) => list,
                _ => panic!("spec/deprecated.json names {name}, which is not an enum of the spec"),
            };
            for (value, note) in values.as_object().into_iter().flatten() {
                if list.iter().any(|v| &v.value == value) {
                    continue;
                }
                list.push(EnumValue {
                    value: value.clone(),
                    description: None,
                    deprecated: note.as_str().map(String::from),
                });
            }
        }
    }
}

pub(super) fn text(v: &Value) -> Option<String> {
    v.as_str().map(String::from)
}

pub(super) fn ref_tail(r: &str) -> Option<&str> {
    r.rsplit('/').next()
}

pub(super) fn ref_name(s: &Value) -> Option<&str> {
    s.get("$ref")?.as_str().and_then(ref_tail)
}

/// The schema behind `allOf: [x]` wrappers (which only carry a description or `nullable`).
pub(super) fn unwrap(s: &Value) -> &Value {
    match s.get("allOf").and_then(Value::as_array) {
        Some(all) if all.len() == 1 => &all[0],
        _ => s,
    }
}

/// The value of a constant string schema (`type: string, enum: ["x"]`).
pub(super) fn constant(s: &Value) -> Option<&str> {
    match s["enum"].as_array().map(Vec::as_slice) {
        Some([one]) if s["type"] == "string" => one.as_str(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_operation_reads_into_its_parts() {
        let api = Api::from_json(&json!({
            "info": {"x-anthropic-version": "2026-10-21"},
            "components": {"schemas": {}},
            "paths": {"/v1/things/{thing_id}/items": {
                "get": {
                    "operationId": "things.items.list", "x-group": "things.items", "x-method": "list",
                    "x-query-name": "ItemListParams",
                    "parameters": [
                        {"name": "thing_id", "in": "path", "schema": {"type": "string"}},
                        {"$ref": "#/components/parameters/WorkspaceId"},
                        {"name": "types[]", "in": "query", "x-rust-name": "types",
                         "schema": {"type": "array", "items": {"type": "string"}}}
                    ],
                    "responses": {"200": {"x-pagination": "cursor", "content": {"application/json": {"schema": {
                        "properties": {"data": {"items": {"$ref": "#/components/schemas/Item"}}}
                    }}}}}
                },
                "post": {
                    "x-group": "things.items", "x-method": "upload", "x-anthropic-beta": "b",
                    "x-accept": "application/binary",
                    "requestBody": {"content": {"multipart/form-data": {}}},
                    "responses": {"200": {"content": {"application/octet-stream": {}}}}
                }
            }}
        }));
        assert_eq!(api.version.as_deref(), Some("2026-10-21"));
        let [list, upload] = &api.operations[..] else {
            panic!("{:?}", api.operations);
        };
        assert_eq!(
            (list.group.as_str(), list.method.as_str()),
            ("things.items", "list")
        );
        assert_eq!(list.path_params, ["thing_id"]);
        let query = list.query.as_ref().unwrap();
        assert_eq!(query.name, "ItemListParams");
        assert_eq!(query.params.len(), 1, "a header parameter is not a query");
        assert_eq!(query.params[0].rust_name.as_deref(), Some("types"));
        assert!(matches!(query.params[0].ty.kind, Kind::Array(_)));
        assert!(matches!(&list.response, Response::Page(t) if t.kind == Kind::Ref("Item".into())));
        assert!(matches!(list.body, Body::None));
        assert_eq!(
            (list.beta.as_str(), list.accept.as_str()),
            ("", "application/json")
        );
        assert!(matches!(upload.body, Body::Multipart));
        assert!(matches!(upload.response, Response::Bytes));
        assert_eq!(
            (upload.beta.as_str(), upload.accept.as_str()),
            ("b", "application/binary")
        );
        assert!(upload.query.is_none() && upload.id.is_none());
    }

    fn with_status() -> Api {
        Api::from_json(&json!({"components": {"schemas": {
            "Status": {"type": "string", "enum": ["idle", "running"],
                       "x-enum-descriptions": {"idle": "Waiting."}},
            "Thing": {"type": "object"}
        }}}))
    }

    #[test]
    fn a_kept_value_is_added_with_its_note_unless_the_spec_lists_it() {
        let mut api = with_status();
        api.keep_deprecated(&json!({"Status": {"paused": "Gone in 2.17.", "idle": "listed"}}));
        let Some(SchemaKind::Enum(values)) = api.schema("Status").map(|s| &s.kind) else {
            panic!("Status is an enum");
        };
        let seen: Vec<(&str, Option<&str>, Option<&str>)> = values
            .iter()
            .map(|v| {
                (
                    v.value.as_str(),
                    v.description.as_deref(),
                    v.deprecated.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("idle", Some("Waiting."), None),
                ("running", None, None),
                ("paused", None, Some("Gone in 2.17."))
            ]
        );
    }

    #[test]
    #[should_panic(expected = "names Thing, which is not an enum")]
    fn keeping_a_value_of_something_else_than_an_enum_is_refused() {
        with_status().keep_deprecated(&json!({"Thing": {"x": "note"}}));
    }

    #[test]
    fn an_object_without_properties_is_told_from_one_with_none() {
        let api = Api::from_json(&json!({"components": {"schemas": {
            "Free": {"type": "object"},
            "Empty": {"type": "object", "properties": {}}
        }}}));
        assert!(matches!(
            api.schema("Free").unwrap().kind,
            SchemaKind::Object(None)
        ));
        assert!(
            matches!(&api.schema("Empty").unwrap().kind, SchemaKind::Object(Some(p)) if p.is_empty())
        );
    }
}
