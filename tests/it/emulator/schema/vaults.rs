//! Vaults and their credentials: create, list, retrieve, update, archive, delete, and an
//! MCP OAuth credential validated; the refusals: a missing field, an unknown id, a credential
//! of another vault, a kind that cannot be validated.

use super::{id, obj, Api};
use serde_json::json;

pub(crate) fn check(api: &Api) {
    let vault = api.ok(
        "vaults.create",
        &[],
        "",
        json!({"display_name": "keys", "metadata": {"k": "v"}}),
    );
    api.err("vaults.create", &[], "", obj(), 400);
    let v = id(&vault);
    api.ok("vaults.list", &[], "include_archived=true", ());
    api.err("vaults.list", &[], "limit=all", (), 400);
    api.ok("vaults.retrieve", &[&v], "", ());
    api.err("vaults.retrieve", &["vlt_missing"], "", (), 404);
    api.ok("vaults.update", &[&v], "", json!({"display_name": "keys2"}));
    api.err("vaults.update", &["vlt_missing"], "", obj(), 404);
    api.err("vaults.update", &[&v], "", json!({"display_name": {}}), 400);

    let bearer = api.ok(
        "vaults.credentials.create",
        &[&v],
        "",
        json!({"display_name": "docs", "auth": {"type": "static_bearer",
            "token": "secret", "mcp_server_url": "https://mcp.example.com"}}),
    );
    assert!(!bearer.to_string().contains("secret"), "{bearer}");
    let oauth = api.ok(
        "vaults.credentials.create",
        &[&v],
        "",
        json!({"auth": {"type": "mcp_oauth", "access_token": "at",
            "mcp_server_url": "https://mcp.example.com", "expires_at": "2030-01-01T00:00:00Z",
            "refresh": {"refresh_token": "rt", "client_id": "c",
                "token_endpoint": "https://auth.example.com/token",
                "token_endpoint_auth": {"type": "client_secret_post", "client_secret": "s"}}}}),
    );
    api.ok(
        "vaults.credentials.create",
        &[&v],
        "",
        json!({"auth": {"type": "environment_variable", "secret_name": "API_TOKEN",
            "secret_value": "x", "networking": {"type": "unrestricted"}}}),
    );
    api.err("vaults.credentials.create", &[&v], "", obj(), 400);
    api.err(
        "vaults.credentials.create",
        &[&v],
        "",
        json!({"auth": {"type": "static_bearer", "token": "t"}}),
        400,
    );
    api.err(
        "vaults.credentials.create",
        &[&v],
        "",
        json!({"auth": {"type": "password", "value": "p"}}),
        400,
    );
    api.err(
        "vaults.credentials.create",
        &["vlt_missing"],
        "",
        json!({"auth": {"type": "static_bearer", "token": "t", "mcp_server_url": "https://x"}}),
        404,
    );
    let (b, o) = (id(&bearer), id(&oauth));
    api.ok("vaults.credentials.list", &[&v], "", ());
    api.err("vaults.credentials.list", &["vlt_missing"], "", (), 404);
    api.ok("vaults.credentials.retrieve", &[&v, &b], "", ());
    api.err(
        "vaults.credentials.retrieve",
        &[&v, "vcrd_missing"],
        "",
        (),
        404,
    );
    api.ok(
        "vaults.credentials.update",
        &[&v, &b],
        "",
        json!({"display_name": "docs2", "auth": {"type": "static_bearer", "token": "new"}}),
    );
    api.err(
        "vaults.credentials.update",
        &[&v, "vcrd_missing"],
        "",
        obj(),
        404,
    );
    api.ok("vaults.credentials.mcp_oauth_validate", &[&v, &o], "", ());
    api.err(
        "vaults.credentials.mcp_oauth_validate",
        &[&v, &b],
        "",
        (),
        400,
    );
    api.ok("vaults.credentials.archive", &[&v, &b], "", ());
    api.err(
        "vaults.credentials.archive",
        &[&v, "vcrd_missing"],
        "",
        (),
        404,
    );
    // a credential is found only under its own vault
    let other = id(&api.ok("vaults.create", &[], "", json!({"display_name": "o"})));
    api.err("vaults.credentials.retrieve", &[&other, &o], "", (), 404);
    api.ok("vaults.credentials.delete", &[&v, &o], "", ());
    api.err("vaults.credentials.delete", &[&v, &o], "", (), 404);

    api.ok("vaults.archive", &[&v], "", ());
    api.err("vaults.archive", &["vlt_missing"], "", (), 404);
    // an archived vault is refused by a new session
    let env = id(&api.ok("environments.create", &[], "", json!({"name": "v"})));
    let agent = id(&api.ok(
        "agents.create",
        &[],
        "",
        json!({"name": "V", "model": "claude-opus-4-5"}),
    ));
    api.err(
        "sessions.create",
        &[],
        "",
        json!({"agent": agent, "environment_id": env, "vault_ids": [v]}),
        400,
    );
    api.ok("vaults.delete", &[&v], "", ());
    api.err("vaults.delete", &[&v], "", (), 404);
}
