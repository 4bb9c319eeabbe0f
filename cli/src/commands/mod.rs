//! The command line: the program's arguments, the list of commands and the dispatch to the
//! `exec` of each. One file per command holds its arguments, its help and its `exec` (as
//! cargo's `commands/<cmd>.rs`); the resource groups are tables run by `resource`.

mod agents;
pub mod batch;
mod completions;
mod deployment_runs;
mod deployments;
pub mod emulator;
mod environments;
mod files;
mod memory_stores;
mod record;
mod resource;
pub mod run;
mod sessions;
mod skills;
mod vaults;
pub mod worker;

use crate::exit::{Exit, Failure};
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use resource::Group;

const EXAMPLES: &str = "\
Reads ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL. Resource commands print JSON.

Exit codes: 0 end_turn or done, 1 API or connection error, 2 bad arguments, input or local path,
3 session terminated or deleted, 4 deadline, 5 stopped otherwise (retries exhausted, budget,
refusal), 6 a batch's budget spent (--max-cost), 130 interrupted (Ctrl-C), 141 output closed (as
`| head`). Of these only 2 and 6 are not worth retrying (a Kubernetes podFailurePolicy's
FailIndex; see `batch --help`).

Examples:
  managed-agents run --agent agent_011CZx --environment env_011CZx --message 'Review the auth module' \\
      --tool run_tests='pytest -q' --deadline 10m --download-outputs out/
  managed-agents batch tasks.jsonl --agent agent_011CZx --environment env_011CZx --parallel 8 --out results.jsonl
  managed-agents batch tasks.jsonl --agent agent_011CZx --environment env_011CZx --shard 1/3 --out results-1.jsonl
  managed-agents batch summary results-*.jsonl
  managed-agents agents create reviewer.yaml
  managed-agents sessions events sesn_011CZx --follow
  managed-agents completions bash > /etc/bash_completion.d/managed-agents";

/// The Claude Managed Agents API from the shell.
#[derive(Parser, Debug)]
#[command(name = "managed-agents", version, after_help = EXAMPLES)]
pub struct Cli {
    /// More log output (-v: info, -vv: debug); RUST_LOG works too.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// No progress or summaries on stderr (errors still).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Export the spans of every API call, stream, turn and tool call over OTLP/HTTP to this
    /// collector (`/v1/traces` is added); default: `OTEL_EXPORTER_OTLP_ENDPOINT`. Headers
    /// come from `OTEL_EXPORTER_OTLP_HEADERS`. A batch is one trace per task, or one trace
    /// with each task under the span `TRACEPARENT` names when it is set. Requests then carry
    /// their span's `traceparent`.
    #[arg(long, global = true, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one session end to end, answering custom tools with commands.
    Run(run::RunArgs),
    /// Run one session per line of a JSONL file, N at a time, resumably.
    Batch(batch::BatchArgs),
    #[command(flatten)]
    Resource(Resource),
    /// Serve a self-hosted environment's work queue: run its sessions' tools on this machine.
    Worker(worker::WorkerArgs),
    /// Run a program (any language, any SDK) through a recording proxy, into a cassette.
    Record(record::RecordArgs),
    /// Run the embedded emulator (a local Managed Agents API) with a script and faults.
    Emulator(emulator::EmulatorArgs),
    /// Print a shell completion script.
    Completions(completions::CompletionsArgs),
}

/// Every resource group, in the order of the help.
const GROUPS: &[Group] = &[
    agents::AGENTS,
    environments::ENVIRONMENTS,
    sessions::SESSIONS,
    files::FILES,
    vaults::VAULTS,
    memory_stores::MEMORY_STORES,
    skills::SKILLS,
    deployments::DEPLOYMENTS,
    deployment_runs::DEPLOYMENT_RUNS,
];

/// Holds a resource command: its group and the arguments given to it.
pub struct Resource {
    group: &'static Group,
    matches: ArgMatches,
}

impl std::fmt::Debug for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resource")
            .field("group", &self.group.name)
            .finish_non_exhaustive()
    }
}

impl FromArgMatches for Resource {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let (name, sub) = matches
            .subcommand()
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::MissingSubcommand))?;
        let group = GROUPS
            .iter()
            .find(|g| g.name == name)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidSubcommand))?;
        Ok(Resource {
            group,
            matches: sub.clone(),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Subcommand for Resource {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        GROUPS
            .iter()
            .fold(cmd, |cmd, g| cmd.subcommand(g.command()))
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_subcommands(cmd)
    }

    fn has_subcommand(name: &str) -> bool {
        GROUPS.iter().any(|g| g.name == name)
    }
}

/// Runs the command given.
pub fn exec(command: Command, quiet: bool) -> Result<Exit, Failure> {
    match command {
        Command::Run(a) => run::exec(a, quiet),
        Command::Batch(a) => batch::exec(a, quiet),
        Command::Resource(r) => r.group.exec(&crate::client::client()?, &r.matches, quiet),
        Command::Worker(a) => worker::exec(a, quiet),
        Command::Record(a) => record::exec(a, quiet),
        Command::Emulator(a) => emulator::exec(a),
        Command::Completions(a) => completions::exec(a, Cli::command()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        if cmd.get_after_help().is_none() && cmd.get_name() != "help" {
            missing.push(path.to_string());
        }
        for a in cmd.get_positionals() {
            if a.get_help().is_none() {
                missing.push(format!("{path} <{}>", a.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            let p = format!("{path} {}", sub.get_name());
            check(sub, p.trim(), missing);
        }
    }

    #[test]
    fn every_command_has_an_example() {
        let cmd = Cli::command();
        cmd.clone().debug_assert();
        let mut missing = Vec::new();
        for sub in cmd.get_subcommands() {
            check(sub, sub.get_name(), &mut missing);
        }
        assert!(missing.is_empty(), "no example: {missing:?}");
        // each example is a command that parses, of the command it is shown for
        let mut examples = Vec::new();
        for g in GROUPS {
            g.examples("", &mut examples);
        }
        assert!(examples.len() > 60, "{}", examples.len());
        for (path, e) in &examples {
            assert!(e.starts_with(path.as_str()), "{path}: {e}");
            let line = e.split(" |").next().unwrap_or(e);
            let mut words = vec!["managed-agents".to_string()];
            for (i, part) in line.split('\'').enumerate() {
                if i % 2 == 1 {
                    words.push(part.to_string());
                } else {
                    words.extend(part.split_whitespace().map(String::from));
                }
            }
            if let Err(err) = cmd.clone().try_get_matches_from(&words) {
                panic!("{e}: {err}");
            }
        }
    }

    #[test]
    fn the_help_names_every_exit_code() {
        let mut help = Cli::command();
        let mut text = help.render_long_help().to_string();
        for sub in ["run", "worker"] {
            if let Some(s) = help.find_subcommand_mut(sub) {
                text.push_str(&s.render_long_help().to_string());
            }
        }
        for exit in Exit::ALL {
            let code = exit.code().to_string();
            assert!(
                text.split(|c: char| !c.is_ascii_digit()).any(|w| w == code),
                "{exit:?} ({code}) is in no help"
            );
        }
    }
}
