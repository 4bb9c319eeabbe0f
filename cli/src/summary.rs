//! `batch summary`: the results files of a batch's shards (or of any runs) merged into one
//! account: each task counted once (done when any of its lines ended its turn, else failed
//! with its last error), the usage summed field by field, each session's once (its last line:
//! a session's usage is its whole), its list cost too, and the failures
//! listed, and with the tasks file, the tasks no file names (a shard that never ran); for a
//! person or, with `--json`, for a program.

use crate::cost::Totals;
use crate::exit::{Exit, Failure};
use crate::output::{escape_controls, out, print_json};
use crate::parse::parse_task_line;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What became of one task over every file.
#[derive(Default)]
struct Seen {
    done: bool,
    /// The files it is in (its shard's file, normally one).
    files: Vec<String>,
    /// The last failed line's reason.
    error: Option<String>,
    attempts: usize,
}

/// Reads the ids of a tasks file, in its order.
fn task_ids(path: &str) -> Result<Vec<String>, Failure> {
    let src = crate::input::read(path)?;
    let mut ids = Vec::new();
    for (i, line) in src.text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let t = parse_task_line(line)
            .map_err(|e| Failure(Exit::Usage, format!("{}:{}: {e}", src.name, i + 1)))?;
        ids.push(t.id);
    }
    Ok(ids)
}

/// Runs `batch summary` over `files` (and the tasks file `tasks`, when given); prints the
/// account (as JSON with `json`). Exits 0 when every task is done, 1 when some failed or did
/// not run, 2 when a file cannot be read.
pub fn exec(files: &[PathBuf], tasks_file: Option<&str>, json_out: bool) -> Result<Exit, Failure> {
    let all = tasks_file.map(task_ids).transpose()?;
    let mut tasks: BTreeMap<String, Seen> = BTreeMap::new();
    let mut totals = Totals::default();
    let mut lines = 0usize;
    for path in files {
        let name = path.display().to_string();
        let text = std::fs::read(path).map_err(|e| Failure(Exit::Usage, format!("{name}: {e}")))?;
        for (i, line) in String::from_utf8_lossy(&text).lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(e) => {
                    // a line torn by a crash, or not a result: the batch's own reading skips it too
                    log::warn!("{name}:{}: not a result, ignored: {e}", i + 1);
                    continue;
                }
            };
            let Some(id) = v["id"].as_str() else {
                log::warn!("{name}:{}: no \"id\", ignored", i + 1);
                continue;
            };
            lines += 1;
            totals.add_line(&v);
            let seen = tasks.entry(id.to_string()).or_default();
            seen.attempts += 1;
            if !seen.files.contains(&name) {
                seen.files.push(name.clone());
            }
            let stop = v["stop_reason"].as_str().unwrap_or("");
            if v["error"].is_null() && stop == "end_turn" {
                seen.done = true;
            } else {
                seen.error = Some(match v["error"].as_str() {
                    Some(e) => e.to_string(),
                    None if stop.is_empty() => "no stop reason".to_string(),
                    None => format!("stopped: {stop}"),
                });
            }
        }
    }
    let done = tasks.values().filter(|s| s.done).count();
    let failures: Vec<Value> = tasks
        .iter()
        .filter(|(_, s)| !s.done)
        .map(
            |(id, s)| json!({"id": id, "error": s.error, "attempts": s.attempts, "files": s.files}),
        )
        .collect();
    let several: Vec<&String> = tasks
        .iter()
        .filter(|(_, s)| s.files.len() > 1)
        .map(|(id, _)| id)
        .collect();
    let not_run: Vec<&String> = all
        .iter()
        .flatten()
        .filter(|id| !tasks.contains_key(id.as_str()))
        .collect();
    let exit = if failures.is_empty() && not_run.is_empty() {
        Exit::Ok
    } else {
        Exit::Api
    };
    let usage = totals.sum();
    if json_out {
        print_json(&json!({
            "files": files.len(),
            "lines": lines,
            "tasks": tasks.len(),
            "done": done,
            "failed": failures.len(),
            "usage": usage,
            "failures": failures,
            "in_several_files": several,
            "not_run": all.as_ref().map(|_| &not_run),
        }))?;
        return Ok(exit);
    }
    out(&format!(
        "{} tasks in {} files: {done} done, {} failed",
        tasks.len(),
        files.len(),
        failures.len()
    ));
    if !usage.is_empty() {
        out(&format!("usage: {}", totals.line()));
    }
    if !failures.is_empty() {
        out("failed:");
        for f in &failures {
            out(&format!(
                "  {}: {} ({} attempts; {})",
                escape_controls(f["id"].as_str().unwrap_or("")),
                escape_controls(f["error"].as_str().unwrap_or("")),
                f["attempts"],
                f["files"]
                    .as_array()
                    .map(|a| a
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default()
            ));
        }
    }
    if !not_run.is_empty() {
        out(&format!(
            "not run ({} of the tasks file's {}; no results file names them): {}",
            not_run.len(),
            all.as_ref().map_or(0, Vec::len),
            not_run
                .iter()
                .map(|s| escape_controls(s))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !several.is_empty() {
        out(&format!(
            "in more than one file ({}; the shards overlap or a file was run twice): {}",
            several.len(),
            several
                .iter()
                .map(|s| escape_controls(s))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(exit)
}
