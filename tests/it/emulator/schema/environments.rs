//! Environments: create, list, retrieve, update, archive, delete; and what an archived or
//! deleted environment refuses.

use super::{id, obj, Api};
use serde_json::json;

pub(crate) fn check(api: &Api) {
    let env = api.ok(
        "environments.create",
        &[],
        "",
        json!({"name": "dev", "description": "d", "metadata": {"k": "v"},
               "config": {"type": "cloud", "networking": {"type": "limited",
                   "allowed_hosts": ["example.com"], "allow_package_managers": true}}}),
    );
    api.ok(
        "environments.create",
        &[],
        "",
        json!({"name": "self", "config": {"type": "self_hosted"}}),
    );
    api.err("environments.create", &[], "", obj(), 400);
    assert_eq!(env["scope"], "organization", "{env}");
    api.err(
        "environments.create",
        &[],
        "",
        json!({"name": "mine", "scope": "account"}),
        400,
    );
    let many: serde_json::Map<String, serde_json::Value> =
        (0..17).map(|i| (format!("k{i}"), json!("v"))).collect();
    api.err_code(
        "environments.create",
        &[],
        "",
        json!({"name": "m", "metadata": many}),
        400,
        "invalid_metadata",
    );
    let e = id(&env);
    api.ok("environments.list", &[], "limit=1", ());
    api.ok("environments.list", &[], "include_archived=true", ());
    api.err("environments.list", &[], "limit=many", (), 400);
    api.ok("environments.retrieve", &[&e], "", ());
    api.err("environments.retrieve", &["env_missing"], "", (), 404);
    api.ok(
        "environments.update",
        &[&e],
        "",
        json!({"name": "dev2", "metadata": {"k": null, "j": "w"}}),
    );
    api.err("environments.update", &["env_missing"], "", obj(), 404);
    api.err("environments.update", &[&e], "", json!({"name": 5}), 400);
    // a new config is completed as at create; its kind does not change
    let updated = api.ok(
        "environments.update",
        &[&e],
        "",
        json!({"config": {"type": "cloud", "networking": {"type": "limited"}}}),
    );
    assert_eq!(updated["config"]["networking"]["allowed_hosts"], json!([]));
    api.err_code(
        "environments.update",
        &[&e],
        "",
        json!({"config": {"type": "self_hosted"}}),
        400,
        "invalid_config_type_change",
    );
    api.err_code(
        "environments.update",
        &[&e],
        "",
        json!({"metadata": {"k": "x".repeat(513)}}),
        400,
        "invalid_metadata",
    );
    api.ok("environments.archive", &[&e], "", ());
    api.err_code(
        "environments.update",
        &[&e],
        "",
        json!({"name": "late"}),
        400,
        "environment_archived",
    );
    api.err("environments.archive", &["env_missing"], "", (), 404);
    let gone = api.ok("environments.create", &[], "", json!({"name": "gone"}));
    api.ok("environments.delete", &[&id(&gone)], "", ());
    api.err("environments.delete", &[&id(&gone)], "", (), 404);
    api.err("environments.retrieve", &[&id(&gone)], "", (), 404);
}
