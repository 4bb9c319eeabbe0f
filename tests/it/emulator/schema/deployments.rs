//! Deployments and their runs: create, list, retrieve, update, pause, unpause, run (a run that
//! starts a session, and one that records an error), archive; the refusals: a missing field,
//! an unknown id, a paused or archived deployment run.

use super::{id, obj, Api};
use serde_json::json;

pub(crate) fn check(api: &Api) {
    let env = id(&api.ok("environments.create", &[], "", json!({"name": "d"})));
    let agent = id(&api.ok(
        "agents.create",
        &[],
        "",
        json!({"name": "D", "model": "claude-opus-4-5"}),
    ));
    let vault = id(&api.ok("vaults.create", &[], "", json!({"display_name": "dv"})));
    let initial = json!([{"type": "user.message", "content": [{"type": "text", "text": "go"}]}]);
    let dep = api.ok(
        "deployments.create",
        &[],
        "",
        json!({"name": "nightly", "agent": agent, "environment_id": env,
               "initial_events": initial, "vault_ids": [vault], "metadata": {"k": "v"},
               "description": "runs", "schedule": {"type": "cron", "expression": "0 3 * * *",
               "timezone": "UTC"}}),
    );
    api.err(
        "deployments.create",
        &[],
        "",
        json!({"name": "x", "agent": agent, "environment_id": env}),
        400,
    );
    api.err(
        "deployments.create",
        &[],
        "",
        json!({"name": "x", "agent": "agent_missing", "environment_id": env,
               "initial_events": initial}),
        404,
    );
    let d = id(&dep);
    // resources (a repository's token kept out), a budget, and every kind of initial event
    let store = id(&api.ok("memory_stores.create", &[], "", json!({"name": "dm"})));
    let full = api.ok(
        "deployments.create",
        &[],
        "",
        json!({"name": "full", "agent": {"type": "agent", "id": agent, "version": 1},
               "environment_id": env,
               "resources": [
                   {"type": "github_repository", "url": "https://github.com/o/r",
                    "authorization_token": "ghp_secret", "checkout": {"type": "branch", "name": "main"}},
                   {"type": "memory_store", "memory_store_id": store, "access": "read_only"}],
               "budget": {"type": "limit", "max_list_cost": {"amount": "500", "currency": "USD"}},
               "initial_events": [
                   {"type": "user.message", "content": [{"type": "text", "text": "go"}]},
                   {"type": "system.message", "content": [{"type": "text", "text": "be brief"}]},
                   {"type": "user.define_outcome", "description": "a report",
                    "rubric": {"type": "text", "content": "complete"}}]}),
    );
    assert!(!full.to_string().contains("ghp_secret"), "{full}");
    let full_run = api.ok("deployments.run", &[&id(&full)], "", ());
    let session = full_run["session_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let s = api.ok("sessions.retrieve", &[&session], "", ());
    assert_eq!(s["deployment_id"], full["id"], "{s}");
    api.ok("deployments.list", &[], &format!("agent_id={agent}"), ());
    api.err(
        "deployments.list",
        &[],
        "status=active&include_archived=true",
        (),
        400,
    );
    api.ok("deployments.retrieve", &[&d], "", ());
    api.err("deployments.retrieve", &["depl_missing"], "", (), 404);
    api.ok(
        "deployments.update",
        &[&d],
        "",
        json!({"name": "nightly2", "schedule": null, "metadata": {"k": null}}),
    );
    api.err("deployments.update", &["depl_missing"], "", obj(), 404);
    // a name and initial events cannot be cleared
    api.err("deployments.update", &[&d], "", json!({"name": null}), 400);
    api.err("deployments.update", &[&d], "", json!({"name": ""}), 400);
    api.err(
        "deployments.update",
        &[&d],
        "",
        json!({"description": 1}),
        400,
    );
    api.err(
        "deployments.update",
        &[&d],
        "",
        json!({"initial_events": null}),
        400,
    );

    // a run starts a session
    let run = api.ok("deployments.run", &[&d], "", ());
    assert!(run["session_id"].is_string(), "{run}");
    api.err("deployments.run", &["depl_missing"], "", (), 404);
    // a paused deployment does not run
    api.ok("deployments.pause", &[&d], "", ());
    api.err("deployments.pause", &["depl_missing"], "", (), 404);
    api.err("deployments.run", &[&d], "", (), 400);
    api.ok("deployments.unpause", &[&d], "", ());
    api.err("deployments.unpause", &["depl_missing"], "", (), 404);
    // a run whose vault is gone records the error and pauses the deployment
    api.ok("vaults.delete", &[&vault], "", ());
    let failed = api.ok("deployments.run", &[&d], "", ());
    assert_eq!(failed["error"]["type"], "vault_not_found_error", "{failed}");
    let paused = api.ok("deployments.retrieve", &[&d], "", ());
    assert_eq!(paused["status"], "paused", "{paused}");

    api.ok(
        "deployment_runs.list",
        &[],
        &format!("deployment_id={d}"),
        (),
    );
    api.ok("deployment_runs.list", &[], "has_error=true", ());
    api.err("deployment_runs.list", &[], "has_error=maybe", (), 400);
    api.ok("deployment_runs.retrieve", &[&id(&run)], "", ());
    api.ok("deployment_runs.retrieve", &[&id(&failed)], "", ());
    api.err("deployment_runs.retrieve", &["drun_missing"], "", (), 404);

    api.ok("deployments.archive", &[&d], "", ());
    api.err("deployments.archive", &["depl_missing"], "", (), 404);
    // an archived deployment neither runs nor pauses
    api.err("deployments.run", &[&d], "", (), 400);
    api.err("deployments.pause", &[&d], "", (), 400);
}
