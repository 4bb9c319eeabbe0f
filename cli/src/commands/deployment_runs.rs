//! `deployment-runs`: list (of one deployment or all) and get the runs of deployments.

use super::resource::{list_all, show, Group, Operation, Param, ID};
use clap::Arg;
use managed_agents::types::*;

/// `deployment-runs`.
pub const DEPLOYMENT_RUNS: Group = Group {
    name: "deployment-runs",
    about: "The runs of deployments",
    after_help: None,
    example: "deployment-runs list --deployment dep_011CZx",
    operations: &[
        Operation {
            name: "list",
            about: "Every run (of one deployment with --deployment)",
            params: &[Param::Other(deployment), Param::Limit],
            example: "deployment-runs list --deployment dep_011CZx",
            exec: |c| {
                let mut p = DeploymentRunListParams::default();
                if let Some(d) = c.value::<String>("deployment") {
                    p = p.deployment_id(d);
                }
                list_all(
                    c.client
                        .deployment_runs()
                        .list(&c.limited(p, |p, n| p.limit(n))),
                )
            },
        },
        Operation {
            name: "get",
            about: "One run",
            params: &[ID],
            example: "deployment-runs get deprun_011CZx",
            exec: |c| show(c.client.deployment_runs().retrieve(c.id("id"))),
        },
    ],
    groups: &[],
};

/// Makes `--deployment` of `deployment-runs list`.
fn deployment() -> Arg {
    Arg::new("deployment").long("deployment").value_name("ID")
}
