//! `managed-agents`: run one session or thousands from the shell, resumably, with hard
//! deadlines; manage every resource of the API with JSON output; run the emulator.
//! Built on the library's public API only. This file owns the exit codes, the error type of
//! commands, output (quiet on a closed pipe) and the dispatch of commands.

mod batch;
mod cli;
mod cli_resources;
mod download;
mod emulator;
mod examples;
mod files;
mod input;
mod journal;
mod log_limit;
mod parse;
mod progress;
mod resources;
// the tool needs a newer Rust than the library (its `cli` feature brings zip, 1.89)
#[clippy::msrv = "1.89"]
mod results;
mod run;
mod sandbox;
mod secrets;
mod sessions;
mod signals;
mod tools;
mod worker;

use clap::{CommandFactory, FromArgMatches};
use managed_agents::Error;
use std::io::Write;
use std::process::ExitCode;

/// Exit codes, one per way a command can end.
pub mod exit {
    /// The turn ended (or the command did what it was asked).
    pub const OK: u8 = 0;
    /// The API refused, or the connection failed.
    pub const API: u8 = 1;
    /// Bad arguments, input files or local paths.
    pub const USAGE: u8 = 2;
    /// The session terminated (or was deleted).
    pub const TERMINATED: u8 = 3;
    /// The deadline passed.
    pub const DEADLINE: u8 = 4;
    /// The session stopped otherwise (retries exhausted, budget, refusal).
    pub const STOPPED: u8 = 5;
    /// Interrupted (Ctrl-C).
    pub const INTERRUPTED: u8 = 130;
    /// Standard output was closed by its reader (`| head`), as a shell reports SIGPIPE.
    pub const BROKEN_PIPE: u8 = 141;
}

/// A command's failure: an exit code and a one-line message.
#[derive(Debug)]
pub struct Failure(pub u8, pub String);

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = match &e {
            Error::InvalidInput { .. } | Error::Io { .. } => exit::USAGE,
            Error::Timeout { .. } => exit::DEADLINE,
            _ => exit::API,
        };
        let message = match &e {
            // the library's hint names a builder method; the CLI has no way to set it
            Error::BodyTooLarge {
                limit, request_id, ..
            } => format!(
                "the answer's body is over the limit of {limit} bytes{}",
                request_id
                    .as_ref()
                    .map_or(String::new(), |id| format!(" (request-id {id})"))
            ),
            _ => e.to_string(),
        };
        Failure(code, message)
    }
}

/// Text from a server or a file, with control characters escaped so it cannot move the
/// cursor, clear the screen or fake a line of its own.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The HTTP transport's crates: at trace level they dump the raw bytes of each request,
/// headers (the API key, the environment key) and bodies (a vault credential's token) included.
const TRANSPORT_TARGETS: &[&str] = &["ureq", "ureq_proto", "rustls"];

/// The log of `-v` and `RUST_LOG`, with the transport's trace records dropped whatever the
/// filter says (their debug records redact credentials and are kept).
struct Logger(env_logger::Logger);

impl Logger {
    fn dropped(metadata: &log::Metadata<'_>) -> bool {
        metadata.level() >= log::Level::Trace
            && TRANSPORT_TARGETS.iter().any(|t| {
                metadata
                    .target()
                    .strip_prefix(t)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
            })
    }
}

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        !Self::dropped(metadata) && self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !Self::dropped(record.metadata()) {
            self.0.log(record);
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let logger = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_target(verbose > 1)
        .build();
    log::set_max_level(logger.filter());
    let _ = log::set_boxed_logger(Box::new(log_limit::RateLimited::new(Logger(logger))));
}

fn main() -> ExitCode {
    // a bug must still read as one line, not a backtrace
    std::panic::set_hook(Box::new(|info| {
        note(&format!("error: internal error: {info}"));
    }));
    let parsed = examples::with_examples(cli::Cli::command())
        .try_get_matches()
        .and_then(|m| cli::Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            // help and version go to stdout (a write that fails is an error, as every output's
            // is), errors to stderr
            if let Err(err) = e.print() {
                if !e.use_stderr() {
                    stdout_failed(&err);
                }
            }
            return ExitCode::from(code);
        }
    };
    // first, while this is the only thread: no child, log line or thread sees a key
    match &cli.command {
        // the worker authenticates with the environment key alone
        cli::Command::Worker(a) => {
            secrets::take(Some(&a.environment_key_env), &[secrets::API_KEY_VAR])
        }
        _ => secrets::take(None, &[]),
    }
    init_logging(cli.verbose);
    let quiet = cli.quiet;
    let result = dispatch(cli.command, quiet);
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure(code, message)) => {
            note(&format!("error: {}", escape_controls(&message)));
            ExitCode::from(code)
        }
    }
}

fn dispatch(command: cli::Command, quiet: bool) -> Result<u8, Failure> {
    use cli::Command as C;
    match command {
        C::Run(a) => run::run(a, quiet),
        C::Batch(a) => {
            // Ctrl-C is the batch's own (finish the running sessions); SIGTERM and SIGHUP end
            // it now, its tools with it (a resume runs the tasks not written)
            signals::on_termination(|stop| {
                tools::interrupt();
                note(&format!(
                    "\n{}: quitting now; run again with the same --out to resume",
                    stop.name()
                ));
                batch::give_up_running();
                std::process::exit(stop.code().into());
            });
            batch::batch(a, quiet)
        }
        C::Agents(c) => resources::agents(&client()?, c),
        C::Environments(c) => resources::environments(&client()?, c),
        C::Sessions(c) => sessions::sessions(&client()?, c),
        C::Files(c) => files::files(&client()?, c, quiet),
        C::Vaults(c) => resources::vaults(&client()?, c),
        C::MemoryStores(c) => resources::memory_stores(&client()?, c),
        C::Skills(c) => files::skills(&client()?, c),
        C::Deployments(c) => resources::deployments(&client()?, c),
        C::DeploymentRuns(c) => resources::deployment_runs(&client()?, c),
        C::Worker(a) => worker::worker(a, quiet),
        C::Emulator(a) => emulator::emulator(a),
        C::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cli::Cli::command(), "managed-agents", &mut buf);
            write_stdout(&buf);
            Ok(exit::OK)
        }
    }
}

/// A client from the API key taken at start and `ANTHROPIC_BASE_URL`; a missing key is a
/// usage error.
pub fn client() -> Result<managed_agents::Client, Failure> {
    let mut builder = managed_agents::Client::builder();
    if let Some(key) = secrets::var(secrets::API_KEY_VAR) {
        builder = builder.api_key(key);
    }
    builder.build().map_err(|e| match e {
        // said in the CLI's terms: the variable it came from, no builder method
        Error::InvalidInput { param, message, .. } if param == "base_url" => Failure(
            exit::USAGE,
            format!(
                "ANTHROPIC_BASE_URL: {}",
                message.trim_end_matches(", or allow_plain_http(true)")
            ),
        ),
        e => Failure::from(e),
    })
}

/// Prints a value as pretty JSON.
pub fn print_json(v: &impl serde::Serialize) -> Result<u8, Failure> {
    let text = serde_json::to_string_pretty(v).map_err(|e| Failure(exit::API, e.to_string()))?;
    out(&text);
    Ok(exit::OK)
}

/// Writes bytes to stdout. Output that cannot be written ends the program, its tools killed:
/// a reader that went away (`| head`) quietly, with the status a shell gives a process killed
/// by SIGPIPE; any other write error (a full disk) with a one-line error and exit 1.
pub fn write_stdout(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        stdout_failed(&e);
    }
}

/// Ends the program after a failed write to stdout (see [`write_stdout`]).
pub fn stdout_failed(e: &std::io::Error) -> ! {
    tools::kill_all();
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(exit::BROKEN_PIPE.into());
    }
    note(&format!("error: cannot write to stdout: {e}"));
    std::process::exit(exit::API.into());
}

/// Writes a line to stdout (see [`write_stdout`]).
pub fn out(line: &str) {
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    write_stdout(buf.as_bytes());
}

/// Writes a line to stderr; a closed stderr is ignored, never a crash.
pub fn note(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
