//! The model of the spec's operations: method and path, parameters, body and answer.

use super::{text, TypeRef};
use serde_json::Value;

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
impl Operation {
    pub(super) fn parse(path: &str, verb: &str, op: &Value) -> Operation {
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
