//! `managed-agents`: run one session or thousands from the shell, resumably, with hard
//! deadlines; manage agents, environments, sessions, files and vaults with JSON output.
//! Built on the library's public API only.

mod args;
mod resources;
mod session;

use args::Usage;
use managed_agents::Error;
use std::process::ExitCode;

/// Exit codes, one per way a command can end.
pub mod exit {
    /// The turn ended (or the command did what it was asked).
    pub const OK: u8 = 0;
    /// The API refused, or the connection failed.
    pub const API: u8 = 1;
    /// Bad arguments or input files.
    pub const USAGE: u8 = 2;
    /// The session terminated (or was deleted).
    pub const TERMINATED: u8 = 3;
    /// The deadline passed.
    pub const DEADLINE: u8 = 4;
    /// The session stopped otherwise (retries exhausted, budget, refusal).
    pub const STOPPED: u8 = 5;
    /// Interrupted (Ctrl-C).
    pub const INTERRUPTED: u8 = 130;
}

const HELP: &str = "\
managed-agents — the Claude Managed Agents API from the shell

Usage: managed-agents <command> [options]      (managed-agents <command> --help for more)

Commands:
  run           run one session end to end, answering custom tools with commands
  batch         run one session per line of a JSONL file, N at a time, resumably
  agents        list | get ID | create FILE | archive ID
  environments  list | get ID | create FILE | archive ID | delete ID
  sessions      list | get ID | create FILE | archive ID | delete ID | events ID [--follow]
  files         list [--scope ID] | get ID | upload PATH | download ID [--out PATH] | delete ID
  vaults        list | get ID | create FILE | archive ID | delete ID
  emulator      run the embedded emulator [--port P]

Reads ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL. Resource commands print JSON.

Exit codes: 0 end_turn/ok, 1 API or connection error, 2 bad arguments or input,
3 terminated, 4 deadline, 5 stopped otherwise (retries exhausted, budget, refusal), 130 Ctrl-C.

Examples:
  managed-agents run --agent agent_011CZx --environment env_011CZx --message 'Review the auth module' \\
      --tool run_tests='pytest -q' --deadline 10m --download-outputs out/
  managed-agents batch tasks.jsonl --agent agent_011CZx --environment env_011CZx --parallel 8 --out results.jsonl
  managed-agents agents create reviewer.yaml
  managed-agents sessions events sesn_011CZx --follow
";

/// A command's failure: an exit code and a one-line message.
pub struct Failure(pub u8, pub String);

impl From<Usage> for Failure {
    fn from(u: Usage) -> Self {
        Failure(exit::USAGE, u.0)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = match &e {
            Error::InvalidInput { .. } => exit::USAGE,
            Error::Timeout { .. } => exit::DEADLINE,
            _ => exit::API,
        };
        Failure(code, e.to_string())
    }
}

fn main() -> ExitCode {
    // a bug must still read as one line, not a backtrace
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error: {info}");
    }));
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("-h") | Some("--help") | Some("help") => {
            out(HELP.trim_end());
            Ok(exit::OK)
        }
        Some("-V") | Some("--version") => {
            out(&format!("managed-agents {}", env!("CARGO_PKG_VERSION")));
            Ok(exit::OK)
        }
        Some("run") => session::run(&args[1..]),
        Some("batch") => session::batch(&args[1..]),
        Some("emulator") => resources::emulator(&args[1..]),
        Some(group @ ("agents" | "environments" | "sessions" | "files" | "vaults")) => {
            resources::command(group, &args[1..])
        }
        Some(other) => Err(Failure(
            exit::USAGE,
            format!("unknown command {other:?}; see managed-agents --help"),
        )),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure(code, message)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

/// A client from the environment; a missing key is a usage error.
pub fn client() -> Result<managed_agents::Client, Failure> {
    managed_agents::Client::from_env().map_err(Failure::from)
}

/// Prints a value as pretty JSON.
pub fn print_json(v: &impl serde::Serialize) -> Result<u8, Failure> {
    let text = serde_json::to_string_pretty(v).map_err(|e| Failure(exit::API, e.to_string()))?;
    out(&text);
    Ok(exit::OK)
}

/// Writes a line to stdout; a reader that went away (`| head`) is not an error.
pub fn out(line: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}
