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
    api.ok("environments.archive", &[&e], "", ());
    api.err("environments.archive", &["env_missing"], "", (), 404);
    let gone = api.ok("environments.create", &[], "", json!({"name": "gone"}));
    api.ok("environments.delete", &[&id(&gone)], "", ());
    api.err("environments.delete", &[&id(&gone)], "", (), 404);
    api.err("environments.retrieve", &[&id(&gone)], "", (), 404);
}
