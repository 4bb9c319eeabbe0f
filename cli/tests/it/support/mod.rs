//! What the tests share: the binary and ways to run it, an emulator with a client and the
//! resources a test starts from (a cloud environment and an agent; a self-hosted environment
//! with a session sent its message and a worker command to serve it), temporary folders, the
//! reading of results and events, and the scripted server of `server`.
#![allow(dead_code)]

mod process;
// the library's scripted server, one copy for both suites
#[path = "../../../../tests/it/support/server.rs"]
mod server;

pub use process::*;
pub use server::*;

use managed_agents::{types::*, Client};
use managed_agents_emulator::Emulator;
use serde_json::{json, Value};
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_managed-agents");

/// Runs the binary with `args` against the emulator, with an API key.
pub fn cli(emu: &Emulator, args: &[&str]) -> Output {
    command(emu).args(args).output().unwrap()
}

/// Runs the binary with `args` against the emulator, with an API key, in `dir`.
pub fn cli_in(emu: &Emulator, dir: &Path, args: &[&str]) -> Output {
    command(emu).args(args).current_dir(dir).output().unwrap()
}

/// Makes a command of the binary against the emulator, with an API key.
pub fn command(emu: &Emulator) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("ANTHROPIC_API_KEY", "test")
        .env("ANTHROPIC_BASE_URL", emu.base_url());
    cmd
}

/// Makes the arguments `run --agent AGENT --environment ENV --message go EXTRA..`.
pub fn run_args<'a>(agent: &'a str, env: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        "--agent",
        agent,
        "--environment",
        env,
        "--message",
        "go",
    ];
    args.extend_from_slice(extra);
    args
}

/// Makes the arguments `batch TASKS --agent AGENT --environment ENV --out OUT EXTRA..`.
pub fn batch_args<'a>(
    tasks: &'a Path,
    out: &'a Path,
    agent: &'a str,
    env: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "batch",
        tasks.to_str().unwrap(),
        "--agent",
        agent,
        "--environment",
        env,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args
}

/// Runs `managed-agents run --agent AGENT --environment ENV --message go EXTRA..`.
pub fn run(emu: &Emulator, agent: &str, env: &str, extra: &[&str]) -> Output {
    cli(emu, &run_args(agent, env, extra))
}

/// Returns an output's bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Returns a command's stderr as text.
pub fn stderr(o: &Output) -> String {
    text(&o.stderr)
}

/// Starts a strict emulator and a client of it.
pub fn emulator() -> (Emulator, Client) {
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    let c = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    (emu, c)
}

/// Starts an emulator with a cloud environment and an agent (with the custom tool `shout`
/// when `with_tool`): the emulator, a client, the agent's id and the environment's.
pub fn setup(with_tool: bool) -> (Emulator, Client, String, String) {
    let (emu, c) = emulator();
    let env = c
        .environments()
        .create(&EnvironmentCreateParams::cloud("e"))
        .unwrap();
    let mut p = AgentCreateParams::new("A", "claude-opus-4-5");
    if with_tool {
        p = p.tool(CustomToolParams::new(
            "shout",
            "Upper-case",
            json!({"type": "object", "properties": {"text": {"type": "string"}}}),
        ));
    }
    let agent = c.agents().create(&p).unwrap();
    (emu, c, agent.id, env.id)
}

/// Creates a self-hosted environment and an agent for it: their ids, the environment's first.
pub fn self_hosted(c: &Client) -> (String, String) {
    let env = c
        .environments()
        .create(&EnvironmentCreateParams::new("local").config(SelfHostedConfigParams::new()))
        .unwrap()
        .id;
    let agent = c
        .agents()
        .create(&AgentCreateParams::new("Local", "claude-opus-4-5"))
        .unwrap()
        .id;
    (env, agent)
}

/// Creates a session of `agent` in `env` and sends it the message `go`: its id.
pub fn session_sent_go(c: &Client, agent: &str, env: &str) -> String {
    session_of(c, &SessionCreateParams::new(agent, env))
}

/// Creates a session from `params` and sends it the message `go`: its id.
pub fn session_of(c: &Client, params: &SessionCreateParams) -> String {
    let session = c.sessions().create(params).unwrap().id;
    c.sessions()
        .events()
        .send(
            &session,
            &EventSendParams::one(UserMessageEventParams::text("go")),
        )
        .unwrap();
    session
}

/// Makes the command `managed-agents worker --environment ENV` against the emulator, with
/// the environment key `env-key` and no API key.
pub fn worker(emu: &Emulator, env: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["worker", "--environment", env])
        .env("ANTHROPIC_ENVIRONMENT_KEY", "env-key")
        .env("ANTHROPIC_BASE_URL", emu.base_url())
        .env_remove("ANTHROPIC_API_KEY");
    cmd
}

/// Returns every event of a session as JSON.
pub fn events(c: &Client, session: &str) -> Vec<Value> {
    c.sessions()
        .events()
        .list(session, &Default::default())
        .unwrap()
        .auto_paging()
        .map(|e| serde_json::to_value(e.unwrap()).unwrap())
        .collect()
}

/// Returns the custom tool results of the first session listed, as JSON.
pub fn custom_tool_results(c: &Client) -> Vec<Value> {
    let session = &c.sessions().list(&Default::default()).unwrap().data[0];
    c.sessions()
        .events()
        .list(&session.id, &Default::default())
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .filter_map(|e| match e {
            SessionEvent::UserCustomToolResult(r) => Some(serde_json::to_value(r).unwrap()),
            _ => None,
        })
        .collect()
}

/// Holds a temporary folder, removed with what it holds when dropped.
pub struct Temp(tempfile::TempDir);

impl std::ops::Deref for Temp {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for Temp {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<OsStr> for Temp {
    fn as_ref(&self) -> &OsStr {
        self.0.path().as_os_str()
    }
}

/// Makes a new temporary folder whose name starts with `name`.
pub fn temp(name: &str) -> Temp {
    Temp(
        tempfile::Builder::new()
            .prefix(&format!("ma-cli-{name}-"))
            .tempdir()
            .unwrap(),
    )
}

/// Counts the whole lines in a results file that a running batch may be writing: a line
/// read while its write is under way is not counted.
pub fn lines_written(path: &Path) -> usize {
    std::fs::read(path)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Reads a results file's lines.
pub fn results(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
