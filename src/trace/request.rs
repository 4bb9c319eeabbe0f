//! What an API call's request and response record on its span ([`start_call`] before the
//! request is sent, [`end_call`] when the call ends): method, route, server and URL, the
//! ids in the bodies of some operations (the Python SDK's `SPAN_ATTRIBUTES` and
//! `span_created_id`), the status, the request id headers and the error.

use super::{fail, CallSpan};
use crate::client::Client;
use crate::error::Error;
use crate::op::Operation;
use crate::response::Response;
use serde_json::Value;

/// The request and response attributes of some operations, read off their bodies, as the
/// Python SDK's `SPAN_ATTRIBUTES` (a value of another type sets nothing).
struct BodyAttributes {
    /// Fields of the request's body: attribute, path.
    request: &'static [(&'static str, &'static [&'static str])],
    /// Fields of the response's body: attribute, path.
    response: &'static [(&'static str, &'static [&'static str])],
}

fn body_attributes(op: &Operation) -> Option<&'static BodyAttributes> {
    match op.id {
        "sessions.create" => Some(&BodyAttributes {
            request: &[
                ("anthropic.session.environment.id", &["environment_id"]),
                // `agent` is an id, or an object with one
                ("gen_ai.agent.id", &["agent"]),
                ("gen_ai.agent.id", &["agent", "id"]),
            ],
            response: &[
                ("gen_ai.agent.name", &["agent", "name"]),
                ("gen_ai.request.model", &["agent", "model", "id"]),
            ],
        }),
        _ => None,
    }
}

/// The attribute that names what an operation created, from the response's `id`, as the
/// Python SDK's `span_created_id`.
fn created_id(op: &Operation) -> Option<&'static str> {
    Some(match op.id {
        "agents.create" => "gen_ai.agent.id",
        "deployments.create" => "anthropic.deployment.id",
        "environments.create" => "anthropic.environment.id",
        "files.upload" => "anthropic.file.id",
        "memory_stores.create" => "gen_ai.memory.store.id",
        "memory_stores.memories.create" => "gen_ai.memory.record.id",
        "sessions.create" => "anthropic.session.id",
        "sessions.resources.add" => "anthropic.session.resource.id",
        "skills.create" => "anthropic.skill.id",
        "skills.versions.create" => "anthropic.skill.version.id",
        "vaults.create" => "anthropic.vault.id",
        "vaults.credentials.create" => "anthropic.vault.credential.id",
        _ => return None,
    })
}

/// The query parameters whose value is content (they filter like a search, or come from
/// stored content): a query with one is recorded only in content mode.
const CONTENT_QUERY_PARAMS: &[&str] = &["email", "path_prefix", "expected_content_sha256"];

/// The value at `path` in `value`.
fn dig<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

/// Records a string field of `value` at `path`, if it is one.
fn record_str(span: &tracing::Span, attribute: &'static str, value: &Value, path: &[&str]) {
    if let Some(s) = dig(value, path).and_then(Value::as_str) {
        span.record(attribute, s);
    }
}

/// Records what the request of an API call gives its span before it is sent: method,
/// route, server, URL, and the request body's attributes.
pub(crate) fn start_call(
    call: &CallSpan,
    client: &Client,
    op: &Operation,
    path: &str,
    query: &[(&'static str, String)],
    body: &crate::body::Body,
) {
    let Some(span) = call.span.as_ref().filter(|s| !s.is_disabled()) else {
        return;
    };
    span.record("http.request.method", op.method);
    span.record("http.route", op.path);
    let base = client.inner.base_url.as_str();
    let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
    let authority = rest.split('/').next().unwrap_or(rest);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => match p.parse::<i64>() {
            Ok(port) => (h, port),
            Err(_) => (authority, default_port(scheme)),
        },
        _ => (authority, default_port(scheme)),
    };
    span.record(
        "server.address",
        host.trim_start_matches('[').trim_end_matches(']'),
    );
    span.record("server.port", port);
    span.record("url.scheme", scheme);
    span.record("url.path", path);
    let content_query = query.iter().any(|(k, _)| CONTENT_QUERY_PARAMS.contains(k));
    if !content_query || client.inner.traces.content {
        let query: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", crate::path::encode(k), crate::path::encode(v)))
            .collect();
        let query = query.join("&");
        let full = format!("{base}{path}");
        if query.is_empty() {
            span.record("url.full", full.as_str());
        } else {
            span.record("url.query", query.as_str());
            span.record("url.full", format!("{full}?{query}").as_str());
        }
    }
    if let (Some(table), crate::body::Body::Json(bytes)) = (body_attributes(op), body) {
        if let Ok(json) = serde_json::from_slice::<Value>(bytes) {
            for (attribute, path) in table.request {
                record_str(span, attribute, &json, path);
            }
        }
    }
}

fn default_port(scheme: &str) -> i64 {
    if scheme == "http" {
        80
    } else {
        443
    }
}

/// Records how an API call ended and ends its span, unless the response's body is still
/// to be read: then the response keeps the span until the body is dropped.
pub(crate) fn end_call(
    call: CallSpan,
    op: &Operation,
    resends: u32,
    result: crate::error::Result<Response>,
) -> crate::error::Result<Response> {
    let Some(span) = call.span.filter(|s| !s.is_disabled()) else {
        return result;
    };
    if resends > 0 {
        span.record("http.request.resend_count", i64::from(resends));
    }
    match result {
        Ok(mut response) => {
            span.record("http.response.status_code", i64::from(response.status()));
            record_headers(&span, &response);
            // the body is parsed again only for the operations that read it
            let reads_body = created_id(op).is_some() || body_attributes(op).is_some();
            if let Some(json) = response
                .read_body()
                .filter(|_| reads_body)
                .and_then(|b| serde_json::from_slice::<Value>(b).ok())
            {
                if let Some(attribute) = created_id(op) {
                    record_str(&span, attribute, &json, &["id"]);
                }
                if let Some(table) = body_attributes(op) {
                    for (attribute, path) in table.response {
                        record_str(&span, attribute, &json, path);
                    }
                }
            }
            if op.streams_body() {
                // the body's reader ends the span; an event stream's status stays unset,
                // as the Python SDK's (it has no end to read to)
                response.keep_span(span);
            } else {
                span.record("otel.status_code", "ok");
            }
            Ok(response)
        }
        Err(error) => {
            if let Error::Api {
                status, request_id, ..
            } = &error
            {
                span.record("http.response.status_code", i64::from(*status));
                if let Some(id) = request_id {
                    span.record("anthropic.request.id", id.as_str());
                }
            }
            fail(&span, &error);
            Err(error)
        }
    }
}

fn record_headers(span: &tracing::Span, response: &Response) {
    for (attribute, header) in [
        ("anthropic.request.id", "request-id"),
        ("anthropic.organization.id", "anthropic-organization-id"),
        ("anthropic.workspace.id", "anthropic-workspace-id"),
    ] {
        if let Some(value) = response.header(header).filter(|v| !v.is_empty()) {
            span.record(attribute, value);
        }
    }
}
