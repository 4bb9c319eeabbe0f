//! `managed-agents`: run one session or thousands from the shell, resumably, with hard
//! deadlines; manage every resource of the API with JSON output; run the emulator.
//! Built on the library's public API only. This file owns the program's start: the command
//! line parsed, the keys taken out of the environment, the log set up, the command run and
//! its failure printed as one line.

mod client;
mod commands;
mod cost;
mod download;
mod exit;
mod groups;
mod input;
mod journal;
mod log_limit;
mod logging;
mod output;
mod parse;
mod plan;
mod progress;
mod results;
mod sandbox;
mod secrets;
mod shard;
mod signals;
mod summary;
mod task;
mod telemetry;
mod throttle;
mod tools;

use clap::Parser;
use commands::{Cli, Command};
use exit::{Exit, Failure};
use output::{escape_controls, note, stdout_failed};
use std::process::ExitCode;

fn main() -> ExitCode {
    // a bug must still read as one line, not a backtrace
    std::panic::set_hook(Box::new(|info| {
        note(&format!("error: internal error: {info}"));
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
            // help and version go to stdout (a write that fails is an error, as every output's
            // is), errors to stderr
            if let Err(err) = e.print() {
                if !e.use_stderr() {
                    stdout_failed(&err);
                }
            }
            return code.into();
        }
    };
    // first, while this is the only thread: no child, log line or thread sees a key
    match &cli.command {
        // the worker authenticates with the environment key alone
        Command::Worker(a) => secrets::take(Some(&a.environment_key_env), &[secrets::API_KEY_VAR]),
        // the program it runs is given its keys, as it would be without the proxy
        Command::Record(_) => {}
        _ => secrets::take(None, &[]),
    }
    // its values may be secrets: out of the environment with the keys
    let otlp_headers = telemetry::take_headers();
    logging::init(cli.verbose);
    let spans = match otlp_headers
        .and_then(|headers| telemetry::init(cli.otlp_endpoint.as_deref(), headers))
    {
        Ok(spans) => spans,
        Err(message) => {
            note(&format!("error: {}", escape_controls(&message)));
            return Exit::Usage.into();
        }
    };
    let result = commands::exec(cli.command, cli.quiet);
    if let Some(spans) = spans {
        spans.shutdown();
    }
    match result {
        Ok(code) => code.into(),
        Err(Failure(code, message)) => {
            note(&format!("error: {}", escape_controls(&message)));
            code.into()
        }
    }
}
