//! The spec as a typed model: the one place that reads `spec/openapi.json` (and
//! `spec/deprecated.json`) as JSON. Everything the generator writes is emitted from these types.
//!
//! The model keeps the spec's order everywhere (schemas, properties, mappings, operations), so
//! the generated code follows it too.

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

/// One operation of the API.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    /// `operationId` (`sessions.events.list`).
    pub(crate) id: Option<String>,
    /// `x-group`, as the Python SDK names it (`sessions.events`).
    pub(crate) group: String,
    /// `x-method` (`list`).
    pub(crate) method: String,
    /// The HTTP method, lower case as the spec has it.
    pub(crate) verb: String,
    /// The path template (`/v1/sessions/{session_id}`).
    pub(crate) path: String,
    pub(crate) summary: Option<String>,
    pub(crate) description: Option<String>,
    /// The `anthropic-beta` value (`x-anthropic-beta`), empty when none.
    pub(crate) beta: String,
    /// The `accept` the official SDK sends (`x-accept`; JSON when the spec names none).
    pub(crate) accept: String,
    /// The path parameters, in the spec's order.
    pub(crate) path_params: Vec<String>,
    /// The query parameters, with the name of their struct (`x-query-name`).
    pub(crate) query: Option<Query>,
    pub(crate) body: Body,
    pub(crate) response: Response,
}

/// The query of an operation.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    /// The name of its struct.
    pub(crate) name: String,
    pub(crate) params: Vec<QueryParam>,
}

#[derive(Debug, Clone)]
pub(crate) struct QueryParam {
    /// The name on the wire (`created_at[gt]`).
    pub(crate) wire: String,
    /// `x-rust-name`, when the wire name does not make one.
    pub(crate) rust_name: Option<String>,
    pub(crate) ty: TypeRef,
    pub(crate) description: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum Body {
    None,
    Json(TypeRef),
    Multipart,
}

/// What the success answer (`200`) is.
#[derive(Debug, Clone)]
pub(crate) enum Response {
    /// An event stream (`x-stream`).
    Stream,
    /// A page of a cursor-paginated list (`x-pagination`).
    Page(TypeRef),
    Json(TypeRef),
    /// Bytes (`application/octet-stream`).
    Bytes,
    /// No `200`, or one without content.
    Empty,
}

/// One entry of the SDK's error table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ErrorClass {
    pub(crate) status: u16,
    pub(crate) code: Option<String>,
    pub(crate) class: String,
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

impl Schema {
    fn parse(name: &str, s: &Value) -> Schema {
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
    fn consts(&self, out: &mut Vec<String>) {
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

impl Operation {
    fn parse(path: &str, verb: &str, op: &Value) -> Operation {
        let params = op["parameters"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let of = |place: &'static str| params.iter().filter(move |p| p["in"] == place);
        let path_params = of("path")
            .map(|p| p["name"].as_str().expect("name").to_string())
            .collect();
        let query_params: Vec<QueryParam> = of("query")
            .map(|p| QueryParam {
                wire: p["name"].as_str().expect("name").to_string(),
                rust_name: text(&p["x-rust-name"]),
                ty: TypeRef::parse(&p["schema"]),
                description: text(&p["description"]),
            })
            .collect();
        let query = (!query_params.is_empty()).then(|| Query {
            name: op["x-query-name"]
                .as_str()
                .expect("x-query-name")
                .to_string(),
            params: query_params,
        });
        let content = &op["requestBody"]["content"];
        let body = if let Some(j) = content.get("application/json") {
            Body::Json(TypeRef::parse(&j["schema"]))
        } else if content.get("multipart/form-data").is_some() {
            Body::Multipart
        } else {
            Body::None
        };
        let ok = &op["responses"]["200"];
        let response = if ok.get("x-stream").is_some() {
            Response::Stream
        } else if ok.get("x-pagination").is_some() {
            let page = &ok["content"]["application/json"]["schema"];
            Response::Page(TypeRef::parse(&page["properties"]["data"]["items"]))
        } else if let Some(j) = ok["content"].get("application/json") {
            Response::Json(TypeRef::parse(&j["schema"]))
        } else if ok["content"].get("application/octet-stream").is_some() {
            Response::Bytes
        } else {
            Response::Empty
        };
        Operation {
            id: text(&op["operationId"]),
            group: op["x-group"].as_str().expect("x-group").to_string(),
            method: op["x-method"].as_str().expect("x-method").to_string(),
            verb: verb.to_string(),
            path: path.to_string(),
            summary: text(&op["summary"]),
            description: text(&op["description"]),
            beta: op["x-anthropic-beta"].as_str().unwrap_or("").to_string(),
            accept: op["x-accept"]
                .as_str()
                .unwrap_or("application/json")
                .to_string(),
            path_params,
            query,
            body,
            response,
        }
    }
}

/// The table as the spec lists it.
pub(crate) fn error_table(spec: &Value) -> Vec<ErrorClass> {
    spec["x-error-classes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| ErrorClass {
            status: e["status"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .expect("x-error-classes: status"),
            code: text(&e["code"]),
            class: e["class"]
                .as_str()
                .expect("x-error-classes: class")
                .to_string(),
        })
        .collect()
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(String::from)
}

fn ref_tail(r: &str) -> Option<&str> {
    r.rsplit('/').next()
}

fn ref_name(s: &Value) -> Option<&str> {
    s.get("$ref")?.as_str().and_then(ref_tail)
}

/// The schema behind `allOf: [x]` wrappers (which only carry a description or `nullable`).
fn unwrap(s: &Value) -> &Value {
    match s.get("allOf").and_then(Value::as_array) {
        Some(all) if all.len() == 1 => &all[0],
        _ => s,
    }
}

/// The value of a constant string schema (`type: string, enum: ["x"]`).
fn constant(s: &Value) -> Option<&str> {
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
