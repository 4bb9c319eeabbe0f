//! Memory stores, their memories and memory versions: create, list, retrieve, update (with a
//! precondition), delete, redact; the refusals: a missing field, a path taken (409), a stale
//! precondition (409), an unknown id, a memory of another store.

use super::{id, obj, Api};
use serde_json::json;

pub(crate) fn check(api: &Api) {
    let store = api.ok(
        "memory_stores.create",
        &[],
        "",
        json!({"name": "notes", "description": "d", "metadata": {"k": "v"}}),
    );
    api.err("memory_stores.create", &[], "", obj(), 400);
    let st = id(&store);
    api.ok("memory_stores.list", &[], "limit=3", ());
    api.err("memory_stores.list", &[], "limit=z", (), 400);
    api.err("memory_stores.list", &[], "limit=101", (), 400);
    api.err("memory_stores.list", &[], "limit=0", (), 400);
    api.ok("memory_stores.retrieve", &[&st], "", ());
    api.err("memory_stores.retrieve", &["memstore_missing"], "", (), 404);
    api.ok(
        "memory_stores.update",
        &[&st],
        "",
        json!({"name": "notes2"}),
    );
    api.err(
        "memory_stores.update",
        &["memstore_missing"],
        "",
        obj(),
        404,
    );

    let mem = api.ok(
        "memory_stores.memories.create",
        &[&st],
        "",
        json!({"path": "/a/b.md", "content": "abc"}),
    );
    api.ok(
        "memory_stores.memories.create",
        &[&st],
        "view=full",
        json!({"path": "/a/c.md", "content": "c"}),
    );
    api.err(
        "memory_stores.memories.create",
        &[&st],
        "",
        json!({"content": "no path"}),
        400,
    );
    api.err(
        "memory_stores.memories.create",
        &[&st],
        "",
        json!({"path": "/a/b.md", "content": "again"}),
        409,
    );
    let m = id(&mem);
    api.ok("memory_stores.memories.list", &[&st], "path_prefix=/a/", ());
    api.ok("memory_stores.memories.list", &[&st], "view=full", ());
    api.err(
        "memory_stores.memories.list",
        &["memstore_missing"],
        "",
        (),
        404,
    );
    api.ok("memory_stores.memories.retrieve", &[&st, &m], "", ());
    api.err(
        "memory_stores.memories.retrieve",
        &[&st, "mem_missing"],
        "",
        (),
        404,
    );
    let sha = mem["content_sha256"].as_str().unwrap().to_string();
    api.ok(
        "memory_stores.memories.update",
        &[&st, &m],
        "",
        json!({"content": "abcd", "precondition": {"type": "content_sha256", "content_sha256": sha}}),
    );
    api.err(
        "memory_stores.memories.update",
        &[&st, &m],
        "",
        json!({"content": "x", "precondition": {"type": "content_sha256", "content_sha256": sha}}),
        409,
    );
    // a memory is found only in its own store
    let other = id(&api.ok("memory_stores.create", &[], "", json!({"name": "o"})));
    api.err(
        "memory_stores.memories.retrieve",
        &[&other, &m],
        "",
        (),
        404,
    );

    let versions = api.ok(
        "memory_stores.memory_versions.list",
        &[&st],
        &format!("memory_id={m}"),
        (),
    );
    api.err(
        "memory_stores.memory_versions.list",
        &["memstore_missing"],
        "",
        (),
        404,
    );
    api.err(
        "memory_stores.memory_versions.list",
        &[&st],
        "limit=0",
        (),
        400,
    );
    api.err("memory_stores.memories.list", &[&st], "limit=500", (), 400);
    let v = id(&versions["data"][0]);
    api.ok("memory_stores.memory_versions.retrieve", &[&st, &v], "", ());
    api.err(
        "memory_stores.memory_versions.retrieve",
        &[&st, "memver_missing"],
        "",
        (),
        404,
    );
    api.ok("memory_stores.memory_versions.redact", &[&st, &v], "", ());
    api.err(
        "memory_stores.memory_versions.redact",
        &[&other, &v],
        "",
        (),
        404,
    );

    api.ok("memory_stores.memories.delete", &[&st, &m], "", ());
    api.err("memory_stores.memories.delete", &[&st, &m], "", (), 404);
    api.ok("memory_stores.archive", &[&st], "", ());
    api.err("memory_stores.archive", &["memstore_missing"], "", (), 404);
    // an archived store is not updated
    api.err(
        "memory_stores.update",
        &[&st],
        "",
        json!({"name": "late"}),
        400,
    );
    api.ok("memory_stores.delete", &[&st], "", ());
    api.err("memory_stores.delete", &[&st], "", (), 404);
}
