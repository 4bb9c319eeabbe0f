//! The command line of the resource groups (agents, environments, sessions, files, vaults,
//! memory stores, skills, deployments), declared with clap.

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// How `list` commands page.
#[derive(Args, Debug, Clone, Copy)]
pub struct ListArgs {
    /// Items per page asked of the API (every page is printed).
    #[arg(long, value_name = "N")]
    pub limit: Option<u16>,
}

/// `list` of groups whose API lists archived items on request.
#[derive(Args, Debug, Clone, Copy)]
pub struct ArchivedListArgs {
    #[command(flatten)]
    pub list: ListArgs,
    /// Include archived items.
    #[arg(long)]
    pub include_archived: bool,
}

const DEFINITION: &str = "A definition file is YAML or JSON (by its extension; `-` reads stdin) with the\nfields of the API's create request; an unknown field or a wrong type is an error.";

/// `agents`.
#[derive(Subcommand, Debug)]
#[command(after_help = format!("{DEFINITION}\n\nExamples:\n  managed-agents agents list\n  managed-agents agents create reviewer.yaml\n  managed-agents agents get agent_011CZx --version 2"))]
pub enum AgentsCmd {
    /// Every agent, as a JSON array.
    List(ArchivedListArgs),
    /// One agent.
    Get {
        id: String,
        /// A version other than the latest.
        #[arg(long)]
        version: Option<i64>,
    },
    /// Create an agent from a definition file.
    Create { file: String },
    /// Update an agent from a file (with the `version` it updates).
    Update { id: String, file: String },
    /// Archive an agent.
    Archive { id: String },
    /// Every version of an agent.
    Versions {
        id: String,
        #[command(flatten)]
        list: ListArgs,
    },
}

/// `environments`.
#[derive(Subcommand, Debug)]
#[command(after_help = format!("{DEFINITION}\n\nExamples:\n  managed-agents environments create env.yaml\n  managed-agents environments list --include-archived"))]
pub enum EnvironmentsCmd {
    /// Every environment.
    List(ArchivedListArgs),
    /// One environment.
    Get { id: String },
    /// Create an environment from a definition file.
    Create { file: String },
    /// Update an environment from a file.
    Update { id: String, file: String },
    /// Archive an environment.
    Archive { id: String },
    /// Delete an environment.
    Delete { id: String },
}

/// `sessions`.
#[derive(Subcommand, Debug)]
#[command(after_help = format!("{DEFINITION}\n\nExamples:\n  managed-agents sessions events sesn_011CZx --follow\n  managed-agents sessions threads list sesn_011CZx\n  managed-agents sessions resources add sesn_011CZx resource.yaml"))]
pub enum SessionsCmd {
    /// Every session.
    List(ArchivedListArgs),
    /// One session.
    Get { id: String },
    /// Create a session from a definition file.
    Create { file: String },
    /// Update a session from a file.
    Update { id: String, file: String },
    /// Archive a session.
    Archive { id: String },
    /// Delete a session.
    Delete { id: String },
    /// The session's events as JSON lines.
    Events {
        id: String,
        /// Then stream new ones until stopped.
        #[arg(long)]
        follow: bool,
    },
    /// The session's threads (multi-agent sessions).
    #[command(subcommand)]
    Threads(ThreadsCmd),
    /// The session's resources (mounted files, repositories).
    #[command(subcommand)]
    Resources(SessionResourcesCmd),
}

/// `sessions threads`.
#[derive(Subcommand, Debug)]
pub enum ThreadsCmd {
    /// Every thread of a session.
    List {
        session: String,
        #[command(flatten)]
        list: ListArgs,
    },
    /// One thread.
    Get { session: String, thread: String },
    /// Archive a thread.
    Archive { session: String, thread: String },
    /// A thread's events as JSON lines.
    Events { session: String, thread: String },
}

/// `sessions resources`.
#[derive(Subcommand, Debug)]
pub enum SessionResourcesCmd {
    /// Every resource of a session.
    List {
        session: String,
        #[command(flatten)]
        list: ListArgs,
    },
    /// One resource.
    Get { session: String, resource: String },
    /// Add a resource from a definition file ({file_id, mount_path}).
    Add { session: String, file: String },
    /// Delete a resource.
    Delete { session: String, resource: String },
}

/// `files`.
#[derive(Subcommand, Debug)]
#[command(
    after_help = "Examples:\n  managed-agents files upload notes.md\n  managed-agents files list --scope sesn_011CZx\n  managed-agents files download file_011CZx --out notes.md --force"
)]
pub enum FilesCmd {
    /// Every file (of a session's outputs with --scope).
    List {
        /// A session id: its output files.
        #[arg(long, value_name = "ID")]
        scope: Option<String>,
        #[command(flatten)]
        list: ListArgs,
    },
    /// One file's metadata.
    Get { id: String },
    /// Upload a file (`-`: stdin, named by --name).
    Upload {
        path: String,
        /// The file name to give stdin.
        #[arg(long, default_value = "stdin")]
        name: String,
    },
    /// Download a file: into the current folder under its own name (when it is a plain file
    /// name, else one made from its id), or to --out (a file, or a folder).
    Download {
        id: String,
        /// Where to write it (`-`: stdout).
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
        /// Overwrite an existing file (a symlink is replaced, never followed).
        #[arg(long)]
        force: bool,
    },
    /// Delete a file.
    Delete { id: String },
}

/// `vaults`.
#[derive(Subcommand, Debug)]
#[command(after_help = format!("{DEFINITION}\n\nExamples:\n  managed-agents vaults create vault.yaml\n  managed-agents vaults credentials list vlt_011CZx"))]
pub enum VaultsCmd {
    /// Every vault.
    List(ArchivedListArgs),
    /// One vault.
    Get { id: String },
    /// Create a vault from a definition file.
    Create { file: String },
    /// Update a vault from a file.
    Update { id: String, file: String },
    /// Archive a vault.
    Archive { id: String },
    /// Delete a vault.
    Delete { id: String },
    /// A vault's credentials.
    #[command(subcommand)]
    Credentials(CredentialsCmd),
}

/// `vaults credentials`.
#[derive(Subcommand, Debug)]
pub enum CredentialsCmd {
    /// Every credential of a vault.
    List {
        vault: String,
        #[command(flatten)]
        list: ArchivedListArgs,
    },
    /// One credential.
    Get { vault: String, credential: String },
    /// Create a credential from a definition file.
    Create { vault: String, file: String },
    /// Update a credential from a file.
    Update {
        vault: String,
        credential: String,
        file: String,
    },
    /// Archive a credential.
    Archive { vault: String, credential: String },
    /// Delete a credential.
    Delete { vault: String, credential: String },
}

/// `memory-stores`.
#[derive(Subcommand, Debug)]
#[command(after_help = format!("{DEFINITION}\n\nExamples:\n  managed-agents memory-stores create store.yaml\n  managed-agents memory-stores memories list memstore_011CZx"))]
pub enum MemoryStoresCmd {
    /// Every memory store.
    List(ArchivedListArgs),
    /// One memory store.
    Get { id: String },
    /// Create a memory store from a definition file.
    Create { file: String },
    /// Update a memory store from a file.
    Update { id: String, file: String },
    /// Archive a memory store.
    Archive { id: String },
    /// Delete a memory store.
    Delete { id: String },
    /// A store's memories.
    #[command(subcommand)]
    Memories(MemoriesCmd),
}

/// `memory-stores memories`.
#[derive(Subcommand, Debug)]
pub enum MemoriesCmd {
    /// Every memory of a store.
    List {
        store: String,
        #[command(flatten)]
        list: ListArgs,
    },
    /// One memory.
    Get { store: String, memory: String },
    /// Create a memory from a definition file ({path, content}).
    Create { store: String, file: String },
    /// Update a memory from a file.
    Update {
        store: String,
        memory: String,
        file: String,
    },
    /// Delete a memory.
    Delete { store: String, memory: String },
}

/// `skills`.
#[derive(Subcommand, Debug)]
#[command(
    after_help = "A skill folder holds SKILL.md and any other files; all are uploaded with their paths.\n\nExamples:\n  managed-agents skills create ./my-skill --title 'My skill'\n  managed-agents skills versions create skill_011CZx ./my-skill"
)]
pub enum SkillsCmd {
    /// Every skill.
    List(ListArgs),
    /// One skill.
    Get { id: String },
    /// Create a skill by uploading a folder.
    Create {
        folder: PathBuf,
        /// The skill's display title.
        #[arg(long)]
        title: Option<String>,
    },
    /// Delete a skill.
    Delete { id: String },
    /// A skill's versions.
    #[command(subcommand)]
    Versions(SkillVersionsCmd),
}

/// `skills versions`.
#[derive(Subcommand, Debug)]
pub enum SkillVersionsCmd {
    /// Every version of a skill.
    List {
        skill: String,
        #[command(flatten)]
        list: ListArgs,
    },
    /// One version.
    Get { skill: String, version: String },
    /// Create a version by uploading a folder.
    Create { skill: String, folder: PathBuf },
    /// Delete a version.
    Delete { skill: String, version: String },
}

/// `deployments`.
#[derive(Subcommand, Debug)]
#[command(after_help = format!("{DEFINITION}\n\nExamples:\n  managed-agents deployments create nightly.yaml\n  managed-agents deployments run dep_011CZx"))]
pub enum DeploymentsCmd {
    /// Every deployment.
    List(ArchivedListArgs),
    /// One deployment.
    Get { id: String },
    /// Create a deployment from a definition file.
    Create { file: String },
    /// Update a deployment from a file.
    Update { id: String, file: String },
    /// Archive a deployment.
    Archive { id: String },
    /// Pause a deployment's schedule.
    Pause { id: String },
    /// Resume a paused deployment.
    Unpause { id: String },
    /// Start a run of a deployment now.
    Run { id: String },
}

/// `deployment-runs`.
#[derive(Subcommand, Debug)]
pub enum DeploymentRunsCmd {
    /// Every run (of one deployment with --deployment).
    List {
        #[arg(long, value_name = "ID")]
        deployment: Option<String>,
        #[command(flatten)]
        list: ListArgs,
    },
    /// One run.
    Get { id: String },
}
