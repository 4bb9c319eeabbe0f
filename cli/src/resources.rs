//! The resource commands that are plain JSON in, JSON out: agents, environments, vaults (and
//! credentials), memory stores (and memories), deployments and deployment runs.

use crate::cli::*;
use crate::input::definition;
use crate::{print_json, Failure};
use managed_agents::types::*;
use managed_agents::{Client, Page, Result as ApiResult};
use serde::Serialize;

/// Prints every item of every page as one JSON array.
pub fn list_all<T: Serialize>(page: ApiResult<Page<T>>) -> Result<u8, Failure> {
    let mut all = Vec::new();
    for item in page? {
        all.push(item?);
    }
    print_json(&all)
}

/// Prints a call's answer.
pub fn show<T: Serialize>(answer: ApiResult<T>) -> Result<u8, Failure> {
    print_json(&answer?)
}

fn limit(l: ListArgs) -> Option<i64> {
    l.limit.map(i64::from)
}

pub fn agents(c: &Client, cmd: AgentsCmd) -> Result<u8, Failure> {
    let a = c.agents();
    match cmd {
        AgentsCmd::List(l) => {
            let mut p = AgentListParams::default().include_archived(l.include_archived);
            if let Some(n) = limit(l.list) {
                p = p.limit(n);
            }
            list_all(a.list(&p))
        }
        AgentsCmd::Get { id, version } => {
            let mut p = AgentRetrieveParams::default();
            if let Some(v) = version {
                p = p.version(v);
            }
            show(a.retrieve(&id, &p))
        }
        AgentsCmd::Create { file } => show(a.create(&definition::<AgentCreateParams>(&file)?)),
        AgentsCmd::Update { id, file } => {
            show(a.update(&id, &definition::<AgentUpdateParams>(&file)?))
        }
        AgentsCmd::Archive { id } => show(a.archive(&id)),
        AgentsCmd::Versions { id, list } => {
            let mut p = AgentsVersionListParams::default();
            if let Some(n) = limit(list) {
                p = p.limit(n);
            }
            list_all(a.versions().list(&id, &p))
        }
    }
}

pub fn environments(c: &Client, cmd: EnvironmentsCmd) -> Result<u8, Failure> {
    let e = c.environments();
    match cmd {
        EnvironmentsCmd::List(l) => {
            let mut p = EnvironmentListParams::default().include_archived(l.include_archived);
            if let Some(n) = limit(l.list) {
                p = p.limit(n);
            }
            list_all(e.list(&p))
        }
        EnvironmentsCmd::Get { id } => show(e.retrieve(&id)),
        EnvironmentsCmd::Create { file } => {
            show(e.create(&definition::<EnvironmentCreateParams>(&file)?))
        }
        EnvironmentsCmd::Update { id, file } => {
            show(e.update(&id, &definition::<EnvironmentUpdateParams>(&file)?))
        }
        EnvironmentsCmd::Archive { id } => show(e.archive(&id)),
        EnvironmentsCmd::Delete { id } => show(e.delete(&id)),
    }
}

pub fn vaults(c: &Client, cmd: VaultsCmd) -> Result<u8, Failure> {
    let v = c.vaults();
    match cmd {
        VaultsCmd::List(l) => {
            let mut p = VaultListParams::default().include_archived(l.include_archived);
            if let Some(n) = limit(l.list) {
                p = p.limit(n);
            }
            list_all(v.list(&p))
        }
        VaultsCmd::Get { id } => show(v.retrieve(&id)),
        VaultsCmd::Create { file } => show(v.create(&definition::<VaultCreateParams>(&file)?)),
        VaultsCmd::Update { id, file } => {
            show(v.update(&id, &definition::<VaultUpdateParams>(&file)?))
        }
        VaultsCmd::Archive { id } => show(v.archive(&id)),
        VaultsCmd::Delete { id } => show(v.delete(&id)),
        VaultsCmd::Credentials(cmd) => credentials(c, cmd),
    }
}

fn credentials(c: &Client, cmd: CredentialsCmd) -> Result<u8, Failure> {
    let cr = c.vaults().credentials();
    match cmd {
        CredentialsCmd::List { vault, list } => {
            let mut p = CredentialListParams::default().include_archived(list.include_archived);
            if let Some(n) = limit(list.list) {
                p = p.limit(n);
            }
            list_all(cr.list(&vault, &p))
        }
        CredentialsCmd::Get { vault, credential } => show(cr.retrieve(&vault, &credential)),
        CredentialsCmd::Create { vault, file } => {
            show(cr.create(&vault, &definition::<CredentialCreateParams>(&file)?))
        }
        CredentialsCmd::Update {
            vault,
            credential,
            file,
        } => show(cr.update(
            &vault,
            &credential,
            &definition::<CredentialUpdateParams>(&file)?,
        )),
        CredentialsCmd::Archive { vault, credential } => show(cr.archive(&vault, &credential)),
        CredentialsCmd::Delete { vault, credential } => show(cr.delete(&vault, &credential)),
    }
}

pub fn memory_stores(c: &Client, cmd: MemoryStoresCmd) -> Result<u8, Failure> {
    let m = c.memory_stores();
    match cmd {
        MemoryStoresCmd::List(l) => {
            let mut p = MemoryStoreListParams::default().include_archived(l.include_archived);
            if let Some(n) = limit(l.list) {
                p = p.limit(n);
            }
            list_all(m.list(&p))
        }
        MemoryStoresCmd::Get { id } => show(m.retrieve(&id)),
        MemoryStoresCmd::Create { file } => {
            show(m.create(&definition::<MemoryStoreCreateParams>(&file)?))
        }
        MemoryStoresCmd::Update { id, file } => {
            show(m.update(&id, &definition::<MemoryStoreUpdateParams>(&file)?))
        }
        MemoryStoresCmd::Archive { id } => show(m.archive(&id)),
        MemoryStoresCmd::Delete { id } => show(m.delete(&id)),
        MemoryStoresCmd::Memories(cmd) => memories(c, cmd),
    }
}

fn memories(c: &Client, cmd: MemoriesCmd) -> Result<u8, Failure> {
    let m = c.memory_stores().memories();
    match cmd {
        MemoriesCmd::List { store, list } => {
            let mut p = MemoryListParams::default();
            if let Some(n) = limit(list) {
                p = p.limit(n);
            }
            list_all(m.list(&store, &p))
        }
        MemoriesCmd::Get { store, memory } => show(m.retrieve(
            &store,
            &memory,
            &MemoryRetrieveParams::default().view(MemoryView::Full),
        )),
        MemoriesCmd::Create { store, file } => show(m.create(
            &store,
            &MemoryCreateQuery::default(),
            &definition::<MemoryCreateParams>(&file)?,
        )),
        MemoriesCmd::Update {
            store,
            memory,
            file,
        } => show(m.update(
            &store,
            &memory,
            &MemoryUpdateQuery::default(),
            &definition::<MemoryUpdateParams>(&file)?,
        )),
        MemoriesCmd::Delete { store, memory } => {
            show(m.delete(&store, &memory, &MemoryDeleteParams::default()))
        }
    }
}

pub fn deployments(c: &Client, cmd: DeploymentsCmd) -> Result<u8, Failure> {
    let d = c.deployments();
    match cmd {
        DeploymentsCmd::List(l) => {
            let mut p = DeploymentListParams::default().include_archived(l.include_archived);
            if let Some(n) = limit(l.list) {
                p = p.limit(n);
            }
            list_all(d.list(&p))
        }
        DeploymentsCmd::Get { id } => show(d.retrieve(&id)),
        DeploymentsCmd::Create { file } => {
            show(d.create(&definition::<DeploymentCreateParams>(&file)?))
        }
        DeploymentsCmd::Update { id, file } => {
            show(d.update(&id, &definition::<DeploymentUpdateParams>(&file)?))
        }
        DeploymentsCmd::Archive { id } => show(d.archive(&id)),
        DeploymentsCmd::Pause { id } => show(d.pause(&id)),
        DeploymentsCmd::Unpause { id } => show(d.unpause(&id)),
        DeploymentsCmd::Run { id } => show(d.run(&id)),
    }
}

pub fn deployment_runs(c: &Client, cmd: DeploymentRunsCmd) -> Result<u8, Failure> {
    let r = c.deployment_runs();
    match cmd {
        DeploymentRunsCmd::List { deployment, list } => {
            let mut p = DeploymentRunListParams::default();
            if let Some(d) = deployment {
                p = p.deployment_id(d);
            }
            if let Some(n) = limit(list) {
                p = p.limit(n);
            }
            list_all(r.list(&p))
        }
        DeploymentRunsCmd::Get { id } => show(r.retrieve(&id)),
    }
}
