//! The work queue of a self-hosted environment: poll, ack, heartbeat, update, retrieve, list,
//! stats, stop; the refusals: an unknown environment or item, a bad long-poll bound, an ack of
//! an item not handed out (409), a heartbeat with a stale last heartbeat (412), a stop of a
//! stopped item (409), an update without metadata.

use super::{id, obj, Api};
use serde_json::json;

pub(crate) fn check(api: &Api) {
    let env = id(&api.ok(
        "environments.create",
        &[],
        "",
        json!({"name": "hosted", "config": {"type": "self_hosted"}}),
    ));
    let agent = id(&api.ok(
        "agents.create",
        &[],
        "",
        json!({"name": "H", "model": "claude-opus-4-5"}),
    ));
    api.ok(
        "sessions.create",
        &[],
        "",
        json!({"agent": agent, "environment_id": env}),
    );
    api.ok("environments.work.stats", &[&env], "", ());
    api.err("environments.work.stats", &["env_missing"], "", (), 404);
    let listed = api.ok("environments.work.list", &[&env], "", ());
    let w = id(&listed["data"][0]);
    api.err("environments.work.list", &["env_missing"], "", (), 404);
    // an item not handed out cannot be acknowledged
    api.err("environments.work.ack", &[&env, &w], "", (), 409);
    let polled = api.ok("environments.work.poll", &[&env], "block_ms=100", ());
    assert_eq!(id(&polled), w, "{polled}");
    // nothing left: the poll answers null, which its schema allows
    api.ok("environments.work.poll", &[&env], "block_ms=1", ());
    api.err("environments.work.poll", &[&env], "block_ms=-5", (), 400);
    api.err("environments.work.poll", &["env_missing"], "", (), 404);
    api.ok("environments.work.ack", &[&env, &w], "", ());
    api.err(
        "environments.work.ack",
        &[&env, "work_missing"],
        "",
        (),
        404,
    );
    let beat = api.ok(
        "environments.work.heartbeat",
        &[&env, &w],
        "expected_last_heartbeat=NO_HEARTBEAT&desired_ttl_seconds=30",
        (),
    );
    assert_eq!(beat["lease_extended"], true, "{beat}");
    api.err(
        "environments.work.heartbeat",
        &[&env, &w],
        "expected_last_heartbeat=NO_HEARTBEAT",
        (),
        412,
    );
    api.ok(
        "environments.work.update",
        &[&env, &w],
        "",
        json!({"metadata": {"worker": "w1"}}),
    );
    api.err("environments.work.update", &[&env, &w], "", obj(), 400);
    api.ok("environments.work.retrieve", &[&env, &w], "", ());
    api.err(
        "environments.work.retrieve",
        &[&env, "work_missing"],
        "",
        (),
        404,
    );
    api.ok(
        "environments.work.stop",
        &[&env, &w],
        "",
        json!({"force": true}),
    );
    api.err(
        "environments.work.stop",
        &[&env, &w],
        "",
        json!({"force": true}),
        409,
    );
}
