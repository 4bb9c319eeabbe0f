//! `worker`: serves a self-hosted environment's work queue with the library's
//! `EnvironmentWorker`, custom tools answered by commands as `run` answers them, Ctrl-C,
//! SIGTERM and SIGHUP setting the worker's stop signal (the items running are cancelled, their
//! tools killed, their sessions interrupted, the items stopped), one line per item on stderr.

use crate::cli::WorkerArgs;
use crate::run::tool_commands;
use crate::tools::{self, ToolFailure};
use crate::{exit, signals, Failure};
use managed_agents::environments::{
    Disposition, EnvironmentWorker, ItemReport, MemoryDeleteMode, Poller, PollerOptions, WorkItem,
    MIN_MEMORY_SYNC_INTERVAL,
};
use managed_agents::{Client, Error};
use serde_json::Value;
use std::time::Duration;

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
    let d = crate::cli::duration(s)?;
    if d < MIN_MEMORY_SYNC_INTERVAL {
        return Err(format!(
            "at least {} (or off)",
            humantime::format_duration(MIN_MEMORY_SYNC_INTERVAL)
        ));
    }
    Ok(SyncInterval(Some(d)))
}

/// `--memory-sync-deletions`, one of the values the parser allows.
pub fn delete_mode(s: &str) -> MemoryDeleteMode {
    match s {
        "log_only" => MemoryDeleteMode::LogOnly,
        "disabled" => MemoryDeleteMode::Disabled,
        _ => MemoryDeleteMode::Enabled,
    }
}

/// The line for a finished item.
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
    crate::escape_controls(&format!(
        "{} {} {what}",
        item.id,
        item.session_id().unwrap_or(&item.data_id)
    ))
}

pub fn worker(a: WorkerArgs, quiet: bool) -> Result<u8, Failure> {
    let key = crate::secrets::var(&a.environment_key_env)
        .filter(|k| !k.trim().is_empty())
        .map(String::from)
        .ok_or_else(|| {
            Failure(
                exit::USAGE,
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
            .map_err(|e| Failure(exit::USAGE, format!("--workdir {}: {e}", dir.display())))?;
        w = w.workdir(dir);
    }
    if a.sandbox {
        sandbox(a.workdir.as_deref(), quiet)?;
    }
    let tool_timeout = a.tools.tool_timeout;
    for tool in tool_commands(&a.tools) {
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
            crate::note(&format!("\n{} again: quitting now", signal.name()));
            std::thread::sleep(QUIT_GRACE.saturating_sub(std::time::Instant::elapsed(&at)));
            std::process::exit(signal.code().into());
        }
        first = Some(std::time::Instant::now());
        crate::note(&format!(
            "\n{}: stopping the items running (again to quit now)",
            signal.name()
        ));
        stop.set();
    });
    if !quiet {
        w = w.on_report(|item, report| crate::note(&line(item, report)));
    }
    if a.once {
        let options = PollerOptions::new()
            .environment_key(key)
            .stop_signal(w.stop_signal());
        let mut poller = Poller::new(&client, &a.environment, options).map_err(Failure::from)?;
        let Some(item) = poller.next() else {
            return Ok(signal_code().unwrap_or(exit::OK));
        };
        let item = item.map_err(Failure::from)?;
        let report = w.handle_item(&item);
        if !quiet {
            crate::note(&line(&item, &report));
        }
        if let Some(code) = signal_code() {
            return Ok(code);
        }
        return match report {
            Ok(r) if matches!(r.disposition, Disposition::Failed(_)) => Ok(exit::API),
            Ok(_) => Ok(exit::OK),
            Err(e) => Err(e.into()),
        };
    }
    let stats = w.run().map_err(Failure::from)?;
    if !quiet {
        crate::note(&format!(
            "{} items: {} ran, {} failed, {} skipped, {} leases lost",
            stats.claimed, stats.ran, stats.failed, stats.skipped, stats.lost
        ));
    }
    Ok(signal_code().unwrap_or(exit::OK))
}

/// `--sandbox`: a folder for temporary files in the work directory (`TMPDIR`, the only place
/// left to write), then the confinement, before any thread or process is started.
fn sandbox(workdir: Option<&std::path::Path>, quiet: bool) -> Result<(), Failure> {
    let fail = |m: String| Failure(exit::USAGE, format!("--sandbox: {m}"));
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
        crate::note(&format!(
            "sandbox {how}: writes only beneath {}",
            workdir.display()
        ));
    }
    Ok(())
}

/// The exit status of the signal that stopped the worker, if one did.
fn signal_code() -> Option<u8> {
    signals::received().map(signals::Stop::code)
}
