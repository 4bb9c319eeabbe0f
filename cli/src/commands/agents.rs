//! `agents`: list, get, create, update, archive and the versions of agents.

use super::resource::{list_all, show, Group, Operation, Param, ID};
use clap::Arg;
use managed_agents::types::*;

/// `agents`.
pub const AGENTS: Group = Group {
    name: "agents",
    about: "Agents (list, get, create, update, archive, versions)",
    after_help: Some(crate::definition_help!(
        "  managed-agents agents list\n  managed-agents agents create reviewer.yaml\n  managed-agents agents get agent_011CZx --version 2"
    )),
    example: "agents list",
    operations: &[
        Operation {
            name: "list",
            about: "Every agent, as a JSON array",
            params: &[Param::Limit, Param::IncludeArchived],
            example: "agents list --include-archived",
            exec: |c| {
                let p = AgentListParams::default().include_archived(c.include_archived());
                list_all(c.client.agents().list(&c.limited(p, |p, n| p.limit(n))))
            },
        },
        Operation {
            name: "get",
            about: "One agent",
            params: &[ID, Param::Other(version)],
            example: "agents get agent_011CZx --version 2",
            exec: |c| {
                let mut p = AgentRetrieveParams::default();
                if let Some(v) = c.value::<i64>("version") {
                    p = p.version(v);
                }
                show(c.client.agents().retrieve(c.id("id"), &p))
            },
        },
        Operation {
            name: "create",
            about: "Create an agent from a definition file",
            params: &[Param::Definition],
            example: "agents create reviewer.yaml",
            exec: |c| show(c.client.agents().create(&c.definition::<AgentCreateParams>()?)),
        },
        Operation {
            name: "update",
            about: "Update an agent from a file (with the `version` it updates)",
            params: &[ID, Param::Definition],
            example: "agents update agent_011CZx reviewer-v2.yaml",
            exec: |c| {
                let params = c.definition::<AgentUpdateParams>()?;
                show(c.client.agents().update(c.id("id"), &params))
            },
        },
        Operation {
            name: "archive",
            about: "Archive an agent",
            params: &[ID],
            example: "agents archive agent_011CZx",
            exec: |c| show(c.client.agents().archive(c.id("id"))),
        },
        Operation {
            name: "versions",
            about: "Every version of an agent",
            params: &[ID, Param::Limit],
            example: "agents versions agent_011CZx",
            exec: |c| {
                let p = c.limited(AgentsVersionListParams::default(), |p, n| p.limit(n));
                list_all(c.client.agents().versions().list(c.id("id"), &p))
            },
        },
    ],
    groups: &[],
};

/// Makes `--version` of `agents get`.
fn version() -> Arg {
    Arg::new("version")
        .long("version")
        .value_name("VERSION")
        .value_parser(clap::value_parser!(i64))
        .help("A version other than the latest")
}
