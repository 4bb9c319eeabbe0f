//! The spec's operations and schemas, as the schema test checks against them: each
//! operation's method, path and success answer, and its OpenAPI 3.0 schemas made strict JSON
//! Schema (`nullable` a null alternative, open enums any string, no property outside the
//! schema), validated with `jsonschema` (formats checked).

use super::Api;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The document every operation and schema comes from.
const SPEC: &str = include_str!("../../../../spec/openapi.json");

/// What an operation answers on success.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Kind {
    Json,
    Bytes,
    Sse,
    NoContent,
}

pub(super) struct Op {
    pub(super) method: String,
    pub(super) path: String,
    pub(super) kind: Kind,
    /// The success schema (JSON and SSE), refs pointing into `#/components/schemas`.
    pub(super) schema: Option<Value>,
    /// The fields its JSON body must have.
    pub(super) required: Vec<String>,
    /// The `anthropic-beta` the official SDK sends with it.
    pub(super) beta: String,
}

/// The spec's OpenAPI 3.0 schema as strict JSON Schema (walked keyword by keyword, so that a
/// property named `properties` or `nullable` is left alone).
fn strict(schema: &mut Value) {
    let Some(m) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(props)) = m.get_mut("properties") {
        for p in props.values_mut() {
            strict(p);
        }
        m.entry("additionalProperties").or_insert(json!(false));
    }
    for k in ["items", "additionalProperties"] {
        if let Some(s) = m.get_mut(k) {
            strict(s);
        }
    }
    for k in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(list)) = m.get_mut(k) {
            list.iter_mut().for_each(strict);
        }
    }
    // an open enum takes any string: the known values document it, a new one is no error
    if m.remove("x-open-enum") == Some(Value::Bool(true)) {
        m.remove("enum");
    }
    if m.remove("nullable") == Some(Value::Bool(true)) {
        let inner = Value::Object(std::mem::take(m));
        *schema = json!({"anyOf": [inner, {"type": "null"}]});
    }
}

/// The spec's operations by `operationId`, and its components made strict.
pub(super) fn load() -> (BTreeMap<String, Op>, Value) {
    let spec: Value = serde_json::from_str(SPEC).unwrap();
    let mut components = spec["components"].clone();
    // an error may carry `details` (a refused heartbeat's lease state, checked apart)
    components["schemas"]["ErrorResponse"]["properties"]["error"]["properties"]["details"] =
        json!({"type": "object"});
    for s in components["schemas"].as_object_mut().unwrap().values_mut() {
        strict(s);
    }
    let mut ops = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let (code, answer) = responses.iter().next().unwrap();
            let (kind, mut schema) = match answer["content"].as_object() {
                None => {
                    assert_eq!(code, "204", "{path}");
                    (Kind::NoContent, None)
                }
                Some(c) if c.contains_key("application/json") => {
                    (Kind::Json, Some(c["application/json"]["schema"].clone()))
                }
                Some(c) if c.contains_key("text/event-stream") => {
                    (Kind::Sse, Some(c["text/event-stream"]["schema"].clone()))
                }
                Some(_) => (Kind::Bytes, None),
            };
            if let Some(s) = schema.as_mut() {
                strict(s);
            }
            let name = op["operationId"].as_str().unwrap().to_string();
            let method = method.to_uppercase();
            let body = &op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
            let body = body.as_str().and_then(|r| r.rsplit('/').next());
            let required = body
                .and_then(|b| spec["components"]["schemas"][b]["required"].as_array())
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str().map(String::from))
                .collect();
            ops.insert(
                name,
                Op {
                    method,
                    path: path.clone(),
                    kind,
                    schema,
                    required,
                    beta: op["x-anthropic-beta"].as_str().unwrap_or("").to_string(),
                },
            );
        }
    }
    (ops, components)
}

impl Api {
    /// The operations whose JSON body has required fields, by name.
    pub(super) fn with_required_fields(&self) -> Vec<&str> {
        let ops = self.ops.iter();
        ops.filter(|(_, o)| !o.required.is_empty())
            .map(|(name, _)| name.as_str())
            .collect()
    }

    pub(super) fn validate(&self, key: &str, schema: &Value, value: &Value) -> Result<(), String> {
        let mut cache = self.validators.borrow_mut();
        let v = cache.entry(key.to_string()).or_insert_with(|| {
            let mut root = schema.clone();
            root["components"] = self.components.clone();
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("{key}: the schema does not compile: {e}"))
        });
        let errors: Vec<String> = v
            .iter_errors(value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }

    pub(super) fn kind(&self, op: &str) -> Kind {
        self.ops[op].kind
    }
}
