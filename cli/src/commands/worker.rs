//! `worker`: its arguments, help and `exec`: serves a self-hosted environment's work queue with
//! the library's `EnvironmentWorker`, custom tools answered by commands as `run` answers them,
//! Ctrl-C, SIGTERM and SIGHUP setting the worker's stop signal (the items running are
//! cancelled, their tools killed, their sessions interrupted, the items stopped), one line per
//! item on stderr.

use crate::exit::{Exit, Failure};
use crate::output::{escape_controls, note};
use crate::parse::duration;
use crate::signals;
use crate::tools::{self, ToolArgs, ToolFailure};
use clap::builder::TypedValueParser;
use clap::Args;
use managed_agents::environments::{
    Disposition, EnvironmentWorker, ItemReport, MemoryDeleteMode, Poller, PollerOptions, WorkItem,
    MIN_MEMORY_SYNC_INTERVAL,
};
use managed_agents::{Client, Error};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// Holds the arguments of `worker`.
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
    #[arg(long, value_name = "DURATION", value_parser = sync_interval)]
    pub memory_sync_interval: Option<SyncInterval>,
    /// What a file deleted in a memory store's folder does: `enabled` deletes the memory on
    /// the server, `log_only` logs what would be deleted, `disabled` keeps it.
    #[arg(long, value_name = "MODE", default_value = "enabled",
        value_parser = clap::builder::PossibleValuesParser::new(["enabled", "log_only", "disabled"])
            .map(|m: String| delete_mode(&m)))]
    pub memory_sync_deletions: MemoryDeleteMode,
    #[command(flatten)]
    pub tools: ToolArgs,
}

/// How long after a first stop signal a second one waits before it quits: the items'
/// shells are killed within a tenth of that.
const QUIT_GRACE: Duration = Duration::from_secs(1);

/// `--memory-sync-interval`: a duration, or `None` for `off`.
#[derive(Debug, Clone, Copy)]
pub struct SyncInterval(pub Option<Duration>);

/// Reads `--memory-sync-interval`: `off`, or a duration of at least
/// [`MIN_MEMORY_SYNC_INTERVAL`].
pub fn sync_interval(s: &str) -> Result<SyncInterval, String> {
    if s == "off" {
        return Ok(SyncInterval(None));
    }
    let d = duration(s)?;
    if d < MIN_MEMORY_SYNC_INTERVAL {
        return Err(format!(
            "at least {} (or off)",
            humantime::format_duration(MIN_MEMORY_SYNC_INTERVAL)
        ));
    }
    Ok(SyncInterval(Some(d)))
}

/// Reads `--memory-sync-deletions`, one of the values the parser allows.
pub fn delete_mode(s: &str) -> MemoryDeleteMode {
    match s {
        "log_only" => MemoryDeleteMode::LogOnly,
        "disabled" => MemoryDeleteMode::Disabled,
        _ => MemoryDeleteMode::Enabled,
    }
}

/// Writes the line for a finished item.
fn line(item: &WorkItem, report: &Result<ItemReport, Error>) -> String {
    let what = match report {
        Err(e) => format!("failed: {e}"),
        Ok(r) => {
            let how = match &r.disposition {
                Disposition::Ran => "ran".to_string(),
                Disposition::Skipped => "skipped".to_string(),
                Disposition::Terminated => "session terminated".to_string(),
                Disposition::Failed(e) => format!("failed: {e}"),
                _ => "done".to_string(),
            };
            let lease = match &r.lease_end {
                Some(end) if end.is_lost() => ", lease lost",
                _ => "",
            };
            let stopped = if r.stopped { ", stopped" } else { "" };
            format!("{how}{lease}{stopped}")
        }
    };
    escape_controls(&format!(
        "{} {} {what}",
        item.id,
        item.session_id().unwrap_or(&item.data_id)
    ))
}

/// Runs `worker`: serves the queue until stopped (or one item with `--once`).
pub fn exec(a: WorkerArgs, quiet: bool) -> Result<Exit, Failure> {
    let key = crate::secrets::var(&a.environment_key_env)
        .filter(|k| !k.trim().is_empty())
        .map(String::from)
        .ok_or_else(|| {
            Failure(
                Exit::Usage,
                format!(
                    "no environment key: set {} to the environment's key (or name another variable with --environment-key-env)",
                    a.environment_key_env
                ),
            )
        })?;
    let client = Client::builder()
        .environment_key(key.clone())
        .build()
        .map_err(Failure::from)?;
    let mut w = EnvironmentWorker::new(&client)
        .environment_id(a.environment.clone())
        .environment_key(key.clone())
        .concurrency(a.concurrency.into())
        .memory_sync_deletions(a.memory_sync_deletions);
    if let Some(SyncInterval(interval)) = a.memory_sync_interval {
        w = w.memory_sync_interval(interval);
    }
    if let Some(dir) = &a.workdir {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure(Exit::Usage, format!("--workdir {}: {e}", dir.display())))?;
        w = w.workdir(dir);
    }
    if a.sandbox {
        sandbox(a.workdir.as_deref(), quiet)?;
    }
    let tool_timeout = a.tools.tool_timeout;
    for tool in a.tools.commands() {
        w = w.tool(tool.name.clone(), move |call| {
            let input = Value::Object(call.input.clone()).to_string();
            match tools::run(&tool, input, tool_timeout, call.deadline) {
                Ok(out) => Ok(out),
                Err(ToolFailure::Failed(m)) | Err(ToolFailure::Killed(m)) => Err(m),
            }
        });
    }
    let stop = w.stop_signal();
    let mut first = None;
    signals::on_stop(move |signal| {
        tools::interrupt();
        if let Some(at) = first {
            // a second one: quit without waiting for the items, once the first has had the
            // moment it takes to kill their shells (so none is left running)
            note(&format!("\n{} again: quitting now", signal.name()));
            std::thread::sleep(QUIT_GRACE.saturating_sub(std::time::Instant::elapsed(&at)));
            signal.code().exit();
        }
        first = Some(std::time::Instant::now());
        note(&format!(
            "\n{}: stopping the items running (again to quit now)",
            signal.name()
        ));
        stop.set();
    });
    if !quiet {
        w = w.on_report(|item, report| note(&line(item, report)));
    }
    if a.once {
        let options = PollerOptions::new()
            .environment_key(key)
            .stop_signal(w.stop_signal());
        let mut poller = Poller::new(&client, &a.environment, options).map_err(Failure::from)?;
        let Some(item) = poller.next() else {
            return Ok(signal_code().unwrap_or(Exit::Ok));
        };
        let item = item.map_err(Failure::from)?;
        let report = w.handle_item(&item);
        if !quiet {
            note(&line(&item, &report));
        }
        if let Some(code) = signal_code() {
            return Ok(code);
        }
        return match report {
            Ok(r) if matches!(r.disposition, Disposition::Failed(_)) => Ok(Exit::Api),
            Ok(_) => Ok(Exit::Ok),
            Err(e) => Err(e.into()),
        };
    }
    let stats = w.run().map_err(Failure::from)?;
    if !quiet {
        note(&format!(
            "{} items: {} ran, {} failed, {} skipped, {} leases lost",
            stats.claimed, stats.ran, stats.failed, stats.skipped, stats.lost
        ));
    }
    Ok(signal_code().unwrap_or(Exit::Ok))
}

/// Sets up `--sandbox`: a folder for temporary files in the work directory (`TMPDIR`, the only place
/// left to write), then the confinement, before any thread or process is started.
fn sandbox(workdir: Option<&std::path::Path>, quiet: bool) -> Result<(), Failure> {
    let fail = |m: String| Failure(Exit::Usage, format!("--sandbox: {m}"));
    let workdir = match workdir {
        Some(d) => d.to_path_buf(),
        None => std::env::current_dir().map_err(|e| fail(e.to_string()))?,
    };
    let tmp = workdir.join(".tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| fail(format!("{}: {e}", tmp.display())))?;
    // one thread so far: nothing reads the environment meanwhile
    std::env::set_var("TMPDIR", &tmp);
    let how = crate::sandbox::confine(&workdir).map_err(fail)?;
    if !quiet {
        note(&format!(
            "sandbox {how}: writes only beneath {}",
            workdir.display()
        ));
    }
    Ok(())
}

/// Returns the exit status of the signal that stopped the worker, if one did.
fn signal_code() -> Option<Exit> {
    signals::received().map(signals::Stop::code)
}
