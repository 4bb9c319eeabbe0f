//! The command line, declared with clap: every command, its arguments, its help and examples.
//! The resource groups' subcommands are in `cli_resources.rs`.

pub use crate::cli_resources::*;
use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

const EXAMPLES: &str = "\
Reads ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL. Resource commands print JSON.

Exit codes: 0 end_turn or done, 1 API or connection error, 2 bad arguments, input or local path,
3 session terminated or deleted, 4 deadline, 5 stopped otherwise (retries exhausted, budget,
refusal), 130 interrupted (Ctrl-C), 141 output closed (as `| head`).

Examples:
  managed-agents run --agent agent_011CZx --environment env_011CZx --message 'Review the auth module' \\
      --tool run_tests='pytest -q' --deadline 10m --download-outputs out/
  managed-agents batch tasks.jsonl --agent agent_011CZx --environment env_011CZx --parallel 8 --out results.jsonl
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
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one session end to end, answering custom tools with commands.
    Run(RunArgs),
    /// Run one session per line of a JSONL file, N at a time, resumably.
    Batch(BatchArgs),
    /// Agents (list, get, create, update, archive, versions).
    #[command(subcommand)]
    Agents(AgentsCmd),
    /// Environments (list, get, create, update, archive, delete).
    #[command(subcommand)]
    Environments(EnvironmentsCmd),
    /// Sessions, their events, threads and resources.
    #[command(subcommand)]
    Sessions(SessionsCmd),
    /// Files (list, get, upload, download, delete).
    #[command(subcommand)]
    Files(FilesCmd),
    /// Vaults and their credentials.
    #[command(subcommand)]
    Vaults(VaultsCmd),
    /// Memory stores and their memories.
    #[command(subcommand, name = "memory-stores")]
    MemoryStores(MemoryStoresCmd),
    /// Skills and their versions (upload a skill folder).
    #[command(subcommand)]
    Skills(SkillsCmd),
    /// Deployments (create, pause, unpause, run, ...).
    #[command(subcommand)]
    Deployments(DeploymentsCmd),
    /// The runs of deployments.
    #[command(subcommand, name = "deployment-runs")]
    DeploymentRuns(DeploymentRunsCmd),
    /// Serve a self-hosted environment's work queue: run its sessions' tools on this machine.
    Worker(WorkerArgs),
    /// Run the embedded emulator (a local Managed Agents API) with a script and faults.
    Emulator(EmulatorArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  managed-agents completions zsh > ~/.zfunc/_managed-agents"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

pub use crate::parse::duration;

fn tool(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((n, c)) if !n.is_empty() && !c.is_empty() => Ok((n.to_string(), c.to_string())),
        _ => Err("expected NAME=COMMAND".into()),
    }
}

/// What the tool commands of `run` and `batch` share.
#[derive(Args, Debug, Clone)]
pub struct ToolArgs {
    /// Answer the custom tool NAME by running COMMAND with `sh -c`: the tool input as JSON on
    /// stdin, its stdout the result (at most 30,000 characters; a longer output is saved whole
    /// to a file in the temporary folder that the result names), a non-zero exit an error
    /// result with the exit status and the end of stderr (repeatable, one command per NAME).
    #[arg(long = "tool", value_name = "NAME=COMMAND", value_parser = tool)]
    pub tools: Vec<(String, String)>,
    /// How long one tool command may run before it and its children are killed.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = duration)]
    pub tool_timeout: Duration,
}

/// `worker`.
#[derive(Args, Debug)]
#[command(after_help = "\
Reads the environment key from ANTHROPIC_ENVIRONMENT_KEY (or the variable --environment-key-env
names) and ANTHROPIC_BASE_URL. Each item's session runs in its own directory under --workdir.
The file tools (read, write, edit, glob, grep) are confined to it. bash starts there but runs
with this process's rights: it can read and write whatever this user can (`echo hi > ../x`
works), and so can a --tool command. --sandbox confines them (Linux): writes only beneath
--workdir, which all items share (from an item's directory `../x` is --workdir/x, allowed;
another item's directory too). Otherwise run the worker as a user with few rights, or in a
container. Neither bash nor a --tool command can read a key: the keys are taken out of the
environment at start (and, on Linux, out of /proc/PID/environ; the process is non-dumpable).

Ctrl-C, SIGTERM and SIGHUP stop the items running: their tools are killed, their sessions sent
user.interrupt (so none waits for a result nobody will post), the items stopped and counted
failed; a second one quits at once. One line per item on stderr.

Exit codes: 0 stopped or done, 1 API error, 2 bad arguments or no environment key,
130 Ctrl-C, 143 SIGTERM, 129 SIGHUP.

Examples:
  ANTHROPIC_ENVIRONMENT_KEY=... managed-agents worker --environment env_011CZx --workdir /srv/work \\
      --concurrency 4 --tool run_tests='pytest -q'
  managed-agents worker --environment env_011CZx --once
  managed-agents worker --environment env_011CZx --memory-sync-interval 1m --memory-sync-deletions log_only")]
pub struct WorkerArgs {
    /// The self-hosted environment whose queue to serve.
    #[arg(long, value_name = "ID")]
    pub environment: String,
    /// The variable that holds the environment key.
    #[arg(long, value_name = "VAR", default_value = "ANTHROPIC_ENVIRONMENT_KEY")]
    pub environment_key_env: String,
    /// Where the items' work directories are made (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// How many items run at once.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Handle one item, then exit.
    #[arg(long)]
    pub once: bool,
    /// Confine the worker, and so bash and the --tool commands, with Landlock (Linux 5.13 or
    /// later): write only beneath --workdir (TMPDIR is its .tmp folder) and to device files,
    /// read and run only there and in the system's folders (/usr, /bin, /lib, /etc, /opt, /run,
    /// /var, /proc, /sys). The network is not confined; refused where Landlock is missing.
    #[arg(long)]
    pub sandbox: bool,
    /// How often a session's memory stores, mirrored in its work directory, are synced back
    /// while it runs (default 15s, at least 5s); `off` runs sessions without their memory
    /// stores.
    #[arg(long, value_name = "DURATION", value_parser = crate::worker::sync_interval)]
    pub memory_sync_interval: Option<crate::worker::SyncInterval>,
    /// What a file deleted in a memory store's folder does: `enabled` deletes the memory on
    /// the server, `log_only` logs what would be deleted, `disabled` keeps it.
    #[arg(long, value_name = "MODE", default_value = "enabled",
        value_parser = clap::builder::PossibleValuesParser::new(["enabled", "log_only", "disabled"])
            .map(|m: String| crate::worker::delete_mode(&m)))]
    pub memory_sync_deletions: managed_agents::environments::MemoryDeleteMode,
    #[command(flatten)]
    pub tools: ToolArgs,
}

/// `run`.
#[derive(Args, Debug)]
#[command(after_help = "\
Exit codes: 0 end_turn, 1 API error, 2 bad arguments, 3 terminated or deleted, 4 deadline,
5 stopped otherwise, 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP.

Ctrl-C, SIGTERM and SIGHUP kill the tool commands running (their whole process groups) and send
the session `user.interrupt`; so does the deadline (--on-deadline archive archives it too). The
session's id is printed either way.

Examples:
  managed-agents run --agent agent_011CZx --environment env_011CZx --message 'Review the auth module' \\
      --tool run_tests='pytest -q \"$(jq -r .test_path)\"' --download-outputs out/
  echo 'Summarise README.md' | managed-agents run --agent agent_011CZx --environment env_011CZx --message-file -")]
pub struct RunArgs {
    /// The agent, at its latest version unless one is given.
    #[arg(long, value_name = "ID[@VERSION]")]
    pub agent: String,
    /// The environment.
    #[arg(long, value_name = "ID")]
    pub environment: String,
    /// The user message.
    #[arg(
        long,
        required_unless_present = "message_file",
        conflicts_with = "message_file"
    )]
    pub message: Option<String>,
    /// Read the user message from a file (`-`: stdin).
    #[arg(long, value_name = "FILE")]
    pub message_file: Option<String>,
    /// The session's title.
    #[arg(long)]
    pub title: Option<String>,
    /// Mount an uploaded file (repeatable).
    #[arg(long, value_name = "file:FILE_ID:PATH")]
    pub resource: Vec<String>,
    /// A vault of credentials (repeatable).
    #[arg(long, value_name = "ID")]
    pub vault: Vec<String>,
    #[command(flatten)]
    pub tools: ToolArgs,
    /// The whole run's deadline, session creation included.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = duration)]
    pub deadline: Duration,
    /// What to do with the session when the deadline passes: interrupt it (`user.interrupt`:
    /// its turn ends, it stays for a later message) or interrupt and archive it.
    #[arg(long, value_name = "WHAT", value_enum, default_value = "interrupt")]
    pub on_deadline: crate::run::OnDeadline,
    /// Download the session's output files into DIR at the end (never overwriting a file).
    #[arg(long, value_name = "DIR")]
    pub download_outputs: Option<PathBuf>,
    /// Every event as a JSON line on stdout, then a summary line.
    #[arg(long)]
    pub json: bool,
    /// A --tool name the agent has no custom tool of is an error (exit 2), not a warning.
    #[arg(long)]
    pub strict_tools: bool,
}

/// `batch`.
#[derive(Args, Debug)]
#[command(after_help = "\
Runs one session per line of TASKS, N at a time on one client, and appends one line per finished
task to --out: {\"id\", \"session_id\", \"stop_reason\", \"text\", \"usage\", \"error\"}. Running it
again with the same --out skips the tasks already there (resumable after a crash or Ctrl-C).
Each task's session is journaled in --out's journal (FILE.journal, fsync'd) as soon as it exists,
before its message, and created with the metadata {\"batch\": BATCH_ID, \"task\": TASK_ID}; a run
again carries on in it: a session whose turn ended is recorded without sending anything, one
still running is followed, one never sent its message gets it. No crash makes a task pay for a
second session. `batch cleanup --out FILE` archives the batch's sessions no task claims.
Ctrl-C stops starting new sessions and lets the running ones finish; a second Ctrl-C (or SIGTERM,
SIGHUP) quits, doing with the running sessions what --on-deadline says.
A task whose tool command was killed by a signal gets \"tool_killed\": true, its call is left
unanswered, and it runs again in the same session (the call answered anew), up to --max-attempts
times in all. A failed task is not done: a run again says how many failed before, runs
them with --retry-failed, and exits 1 while failures remain.

A task line: {\"id\": \"t1\", \"message\": \"...\"} with optional \"agent\" (ID or ID@VERSION),
\"environment\", \"title\", \"vault_ids\", \"resources\" (as the API takes them).

Example:
  managed-agents batch tasks.jsonl --agent agent_011CZx --environment env_011CZx --parallel 8 --out results.jsonl")]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BatchArgs {
    #[command(subcommand)]
    pub command: Option<BatchCmd>,
    /// The tasks, one JSON object a line (`-`: stdin).
    #[arg(value_name = "TASKS.jsonl", required = true)]
    pub tasks: Option<String>,
    /// Where results go (appended; locked while the batch runs); its journal is FILE.journal.
    #[arg(long, value_name = "FILE", required = true)]
    pub out: Option<PathBuf>,
    /// The batch's id, the metadata `batch` of its sessions (default: the one its journal
    /// names, else the results file's name and the start time).
    #[arg(long, value_name = "ID")]
    pub batch_id: Option<String>,
    /// What to do with a session the batch gives up on (its --deadline passed, the batch
    /// quits): interrupt it (`user.interrupt`; a run again asks its task again in it),
    /// interrupt and archive it, or leave it running.
    #[arg(long, value_name = "WHAT", value_enum, default_value = "interrupt")]
    pub on_deadline: crate::run::OnDeadline,
    /// Sessions at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub parallel: u16,
    /// The agent of tasks that name none.
    #[arg(long, value_name = "ID[@VERSION]")]
    pub agent: Option<String>,
    /// The environment of tasks that name none.
    #[arg(long, value_name = "ID")]
    pub environment: Option<String>,
    #[command(flatten)]
    pub tools: ToolArgs,
    /// Each session's deadline, its creation included.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = duration)]
    pub deadline: Duration,
    /// Run again the tasks that did not end their turn (an error, a deadline, another stop).
    #[arg(long)]
    pub retry_failed: bool,
    /// The most times one task is run, over every run with the same --out: a task whose tool
    /// was killed runs again until then, a failed one with --retry-failed.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_attempts: u16,
    /// A --tool name a task's agent has no custom tool of is an error (exit 2), not a warning.
    #[arg(long)]
    pub strict_tools: bool,
}

/// `batch`'s subcommands.
#[derive(Subcommand, Debug)]
pub enum BatchCmd {
    /// Archive the sessions of a batch (by their metadata) that no task of it claims.
    Cleanup(CleanupArgs),
}

/// `batch cleanup`.
#[derive(Args, Debug)]
#[command(after_help = "\
Lists the sessions, and archives those whose metadata names the batch of FILE's journal and
that neither the journal nor the results claim: sessions a run created and was killed before
journaling, never sent a message. Not while the batch runs (its results file is locked).

Example:
  managed-agents batch cleanup --out results.jsonl")]
pub struct CleanupArgs {
    /// The batch's results file (its journal, FILE.journal, names the batch).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `emulator`.
#[derive(Args, Debug)]
#[command(after_help = "\
A script file is YAML or JSON: a list of steps, each one of
  {say: TEXT} | echo | think | {call_tool: {name: N, input: {...}}} | call_first_custom_tool
  {ask_confirmation: {name: N, input: {...}}} | {write_file: {name: N, content: TEXT}}
  {agent_tool: {name: N, input: {...}}} (a built-in tool a worker runs)
  fail | terminate | {pause: DURATION or MS}
  {delegate: {agent: NAME, message: TEXT, script: [STEPS]}}  (a multi-agent session: a child
  thread runs the callable agent NAME, plays its own steps and reports back)
A faults file: {drop_stream_after, drop_mid_line, trickle, stall, slow, fail_next, fail_status,
retry_after_ms, fail_every} (the flags of the same names; durations as 2s or milliseconds),
and close_next, close_every, no_keep_alive, fail_polls, fail_heartbeats, stop_heartbeats,
lease_ttl, skill_content_base64 (the library's Faults fields).

Examples:
  managed-agents emulator --port 8080 --say 'Hello' &
  ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_API_KEY=test managed-agents agents list
  managed-agents emulator --script script.yaml --fail-next 3 --fail-status 529
  managed-agents emulator --webhook-url http://127.0.0.1:9000/hooks --webhook-secret whsec_...
A receiver verifies each delivery with the secret: client.beta.webhooks.unwrap(body,
headers=headers, key=SECRET) with the official Python SDK, managed_agents::webhooks::unwrap in Rust.")]
pub struct EmulatorArgs {
    /// The port on 127.0.0.1 (a free one when not given).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Refuse any `anthropic-version` or `anthropic-beta` other than the official SDKs' (a
    /// request without a version, or without its operation's beta, is refused either way).
    #[arg(long)]
    pub strict: bool,
    /// The agent's script, from a YAML or JSON file.
    #[arg(long, value_name = "FILE")]
    pub script: Option<String>,
    /// A script of one message (instead of --script).
    #[arg(long, value_name = "TEXT", conflicts_with = "script")]
    pub say: Option<String>,
    /// The faults, from a YAML or JSON file (flags below override it).
    #[arg(long, value_name = "FILE")]
    pub faults: Option<String>,
    /// Close each event stream after this many events.
    #[arg(long, value_name = "N")]
    pub drop_stream_after: Option<usize>,
    /// Cut dropped streams in the middle of a line.
    #[arg(long)]
    pub drop_mid_line: bool,
    /// Send stream bytes one at a time with this pause.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub trickle: Option<Duration>,
    /// Say nothing this long before answering.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub stall: Option<Duration>,
    /// Wait this long before each answer.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub slow: Option<Duration>,
    /// Answer this many of the next requests with --fail-status.
    #[arg(long, value_name = "N")]
    pub fail_next: Option<usize>,
    /// The status of failed answers (429 or 529).
    #[arg(long, value_name = "STATUS")]
    pub fail_status: Option<u16>,
    /// The retry-after-ms of failed answers.
    #[arg(long, value_name = "MS")]
    pub retry_after_ms: Option<u64>,
    /// Fail every N-th request.
    #[arg(long, value_name = "N")]
    pub fail_every: Option<usize>,
    /// POST the API's webhook events (session status changes; objects created, updated,
    /// archived, deleted) to URL, signed, each tried up to 5 times until a 2xx answer.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// The signing secret of the webhook deliveries, whsec_<base64> (default: the
    /// ANTHROPIC_WEBHOOK_SIGNING_KEY variable).
    #[arg(long, value_name = "SECRET", requires = "webhook_url")]
    pub webhook_secret: Option<String>,
}
