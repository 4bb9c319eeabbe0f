//! `environments`: list, get, create, update, archive and delete environments.

use super::resource::{list_all, show, Group, Operation, Param, ID};
use managed_agents::types::*;

/// `environments`.
pub const ENVIRONMENTS: Group = Group {
    name: "environments",
    about: "Environments (list, get, create, update, archive, delete)",
    after_help: Some(crate::definition_help!(
        "  managed-agents environments create env.yaml\n  managed-agents environments list --include-archived"
    )),
    example: "environments list",
    operations: &[
        Operation {
            name: "list",
            about: "Every environment",
            params: &[Param::Limit, Param::IncludeArchived],
            example: "environments list",
            exec: |c| {
                let p = EnvironmentListParams::default().include_archived(c.include_archived());
                list_all(c.client.environments().list(&c.limited(p, |p, n| p.limit(n))))
            },
        },
        Operation {
            name: "get",
            about: "One environment",
            params: &[ID],
            example: "environments get env_011CZx",
            exec: |c| show(c.client.environments().retrieve(c.id("id"))),
        },
        Operation {
            name: "create",
            about: "Create an environment from a definition file",
            params: &[Param::Definition],
            example: "environments create env.yaml",
            exec: |c| {
                let params = c.definition::<EnvironmentCreateParams>()?;
                show(c.client.environments().create(&params))
            },
        },
        Operation {
            name: "update",
            about: "Update an environment from a file",
            params: &[ID, Param::Definition],
            example: "environments update env_011CZx env.yaml",
            exec: |c| {
                let params = c.definition::<EnvironmentUpdateParams>()?;
                show(c.client.environments().update(c.id("id"), &params))
            },
        },
        Operation {
            name: "archive",
            about: "Archive an environment",
            params: &[ID],
            example: "environments archive env_011CZx",
            exec: |c| show(c.client.environments().archive(c.id("id"))),
        },
        Operation {
            name: "delete",
            about: "Delete an environment",
            params: &[ID],
            example: "environments delete env_011CZx",
            exec: |c| show(c.client.environments().delete(c.id("id"))),
        },
    ],
    groups: &[],
};
