//! `deployments`: list, get, create, update and archive deployments, pause and unpause their
//! schedules and start a run now.

use super::resource::{list_all, show, Group, Operation, Param, ID};
use managed_agents::types::*;

/// `deployments`.
pub const DEPLOYMENTS: Group = Group {
    name: "deployments",
    about: "Deployments (create, pause, unpause, run, ...)",
    after_help: Some(crate::definition_help!(
        "  managed-agents deployments create nightly.yaml\n  managed-agents deployments run dep_011CZx"
    )),
    example: "deployments list",
    operations: &[
        Operation {
            name: "list",
            about: "Every deployment",
            params: &[Param::Limit, Param::IncludeArchived],
            example: "deployments list",
            exec: |c| {
                let p = DeploymentListParams::default().include_archived(c.include_archived());
                list_all(c.client.deployments().list(&c.limited(p, |p, n| p.limit(n))))
            },
        },
        Operation {
            name: "get",
            about: "One deployment",
            params: &[ID],
            example: "deployments get dep_011CZx",
            exec: |c| show(c.client.deployments().retrieve(c.id("id"))),
        },
        Operation {
            name: "create",
            about: "Create a deployment from a definition file",
            params: &[Param::Definition],
            example: "deployments create nightly.yaml",
            exec: |c| {
                let params = c.definition::<DeploymentCreateParams>()?;
                show(c.client.deployments().create(&params))
            },
        },
        Operation {
            name: "update",
            about: "Update a deployment from a file",
            params: &[ID, Param::Definition],
            example: "deployments update dep_011CZx nightly.yaml",
            exec: |c| {
                let params = c.definition::<DeploymentUpdateParams>()?;
                show(c.client.deployments().update(c.id("id"), &params))
            },
        },
        Operation {
            name: "archive",
            about: "Archive a deployment",
            params: &[ID],
            example: "deployments archive dep_011CZx",
            exec: |c| show(c.client.deployments().archive(c.id("id"))),
        },
        Operation {
            name: "pause",
            about: "Pause a deployment's schedule",
            params: &[ID],
            example: "deployments pause dep_011CZx",
            exec: |c| show(c.client.deployments().pause(c.id("id"))),
        },
        Operation {
            name: "unpause",
            about: "Resume a paused deployment",
            params: &[ID],
            example: "deployments unpause dep_011CZx",
            exec: |c| show(c.client.deployments().unpause(c.id("id"))),
        },
        Operation {
            name: "run",
            about: "Start a run of a deployment now",
            params: &[ID],
            example: "deployments run dep_011CZx",
            exec: |c| show(c.client.deployments().run(c.id("id"))),
        },
    ],
    groups: &[],
};
