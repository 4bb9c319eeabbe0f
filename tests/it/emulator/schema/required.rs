//! Every field a request body must have, left out one at a time from a valid body: each is a
//! 400 that names the field, for every operation whose body has required fields.

use super::{id, Api, Body};
use serde_json::json;

pub(crate) fn check(api: &Api) {
    let env_body = json!({"name": "r"});
    let env = id(&api.ok("environments.create", &[], "", env_body.clone()));
    let agent_body = json!({"name": "R", "model": "claude-opus-4-5"});
    let agent = id(&api.ok("agents.create", &[], "", agent_body.clone()));
    let session_body = json!({"agent": agent, "environment_id": env});
    let session = id(&api.ok("sessions.create", &[], "", session_body.clone()));
    let vault = id(&api.ok("vaults.create", &[], "", json!({"display_name": "r"})));
    let store = id(&api.ok("memory_stores.create", &[], "", json!({"name": "r"})));
    let file = id(&api.ok(
        "files.upload",
        &[],
        "",
        Body::Multipart(vec![("file", Some("r.txt".into()), b"r".to_vec())]),
    ));
    let repo = api.ok(
        "sessions.create",
        &[],
        "",
        json!({"agent": agent, "environment_id": env, "resources": [{"type": "github_repository",
            "url": "https://github.com/o/r", "authorization_token": "t"}]}),
    );
    let hosted = id(&api.ok(
        "environments.create",
        &[],
        "",
        json!({"name": "rh", "config": {"type": "self_hosted"}}),
    ));
    api.ok(
        "sessions.create",
        &[],
        "",
        json!({"agent": agent, "environment_id": hosted}),
    );
    let work = api.ok("environments.work.list", &[&hosted], "", ());
    let message = json!([{"type": "user.message", "content": [{"type": "text", "text": "x"}]}]);
    let checks: Vec<(&str, Vec<String>, serde_json::Value)> = vec![
        ("environments.create", vec![], env_body),
        ("agents.create", vec![], agent_body),
        ("sessions.create", vec![], session_body),
        (
            "deployments.create",
            vec![],
            json!({"name": "r", "agent": agent, "environment_id": env, "initial_events": message}),
        ),
        ("vaults.create", vec![], json!({"display_name": "r"})),
        (
            "vaults.credentials.create",
            vec![vault],
            json!({"auth": {"type": "static_bearer", "token": "t", "mcp_server_url": "https://x"}}),
        ),
        ("memory_stores.create", vec![], json!({"name": "r"})),
        (
            "memory_stores.memories.create",
            vec![store],
            json!({"path": "/r.md", "content": "r"}),
        ),
        (
            "sessions.events.send",
            vec![session.clone()],
            json!({ "events": message }),
        ),
        (
            "sessions.resources.add",
            vec![session],
            json!({"type": "file", "file_id": file}),
        ),
        (
            "sessions.resources.update",
            vec![id(&repo), id(&repo["resources"][0])],
            json!({"authorization_token": "t2"}),
        ),
        (
            "environments.work.update",
            vec![hosted, id(&work["data"][0])],
            json!({"metadata": {"k": "v"}}),
        ),
    ];
    let mut fields = 0;
    for (op, ids, body) in &checks {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        fields += api.requires(op, &ids, body);
    }
    // every operation whose body has required fields is checked
    let mut checked: Vec<&str> = checks.iter().map(|(op, _, _)| *op).collect();
    checked.sort_unstable();
    assert_eq!(checked, api.with_required_fields());
    assert!(fields >= checks.len());
}
