//! The router: a request's method and path to the resource group that answers it.

use super::reply::{decode, metadata_problem, not_found, refused, Query, Request, Routed};
use super::resources;
use super::shared::Shared;
use super::{deployments, route_webhooks, sessions};
use std::sync::Arc;

/// Answers one request (`target` is the path with its query string).
pub(crate) fn route(
    shared: &Arc<Shared>,
    method: &str,
    target: &str,
    content_type: &str,
    worker_id: Option<&str>,
    body: &[u8],
) -> Routed {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = Query::parse(query);
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let Some((&"v1", segs)) = segs.split_first() else {
        return Err(not_found("path", path));
    };
    // every object's metadata has the same limits
    if method == "POST" && content_type.starts_with("application/json") {
        let body: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        if let Some(problem) = body.as_ref().and_then(|b| metadata_problem(&b["metadata"])) {
            return Ok(refused(
                400,
                "invalid_request_error",
                problem,
                "invalid_metadata",
            ));
        }
    }
    let r = Request {
        method,
        query: &query,
        content_type,
        worker_id,
        body,
    };
    let before = route_webhooks::observe_before(shared, method, segs);
    let routed = match segs {
        ["environments", rest @ ..] => resources::environments::route(shared, &r, rest),
        ["agents", rest @ ..] => resources::agents::route(shared, &r, rest),
        ["sessions", rest @ ..] => sessions::route(shared, &r, rest),
        ["files", rest @ ..] => resources::files::route(shared, &r, rest),
        ["vaults", rest @ ..] => resources::vaults::route(shared, &r, rest),
        ["memory_stores", rest @ ..] => resources::memory_stores::route(shared, &r, rest),
        ["deployments", rest @ ..] => deployments::route(shared, &r, rest),
        ["deployment_runs", rest @ ..] => deployments::route_runs(shared, &r, rest),
        ["skills", rest @ ..] => resources::skills::route(shared, &r, rest),
        _ => Err(not_found("path", &segs.join("/"))),
    };
    route_webhooks::observe_after(shared, method, segs, before, &routed);
    routed
}
