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
