//! What a batch runs: its task lines read and checked (every bad line reported at once), and
//! what earlier runs left in its results file sorted into done, to run again and failed.

use crate::exit::{Exit, Failure};
use crate::output::{escape_controls, note};
use crate::parse::parse_task_line;
use crate::task::{agent_ref, Task};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Checks one line; the error names the field.
fn task(line: &str, agent: Option<&str>, environment: Option<&str>) -> Result<Task, String> {
    let t = parse_task_line(line)?;
    let agent = t
        .agent
        .or(agent.map(String::from))
        .ok_or("no \"agent\" and no --agent")?;
    agent_ref(&agent).map_err(|e| format!("field `agent`: {e}"))?;
    let environment = t
        .environment
        .or(environment.map(String::from))
        .ok_or("no \"environment\" and no --environment")?;
    Ok(Task {
        title: t.title.or(Some(t.id.clone())),
        id: t.id,
        agent,
        environment,
        message: t.message,
        vault_ids: t.vault_ids,
        resources: t.resources,
        session: None,
        resumable: true,
        journaled: false,
        max_cost: None,
        metadata: BTreeMap::new(),
    })
}

/// Reads and checks every task line; every bad line is reported, then exit 2.
pub fn read_tasks(
    path: &str,
    agent: Option<&str>,
    environment: Option<&str>,
) -> Result<Vec<Task>, Failure> {
    let src = crate::input::read(path)?;
    let mut tasks = Vec::new();
    let mut errors = Vec::new();
    let mut ids = HashSet::new();
    for (i, line) in src.text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{}:{}", src.name, i + 1);
        match task(line, agent, environment) {
            Ok(t) if !ids.insert(t.id.clone()) => {
                errors.push(format!("{at}: the id {:?} is used twice", t.id))
            }
            Ok(t) => tasks.push(t),
            Err(e) => errors.push(format!("{at}: {e}")),
        }
    }
    if let Some(last) = errors.pop() {
        for e in &errors {
            note(&format!("error: {}", escape_controls(e)));
        }
        let more = if errors.is_empty() {
            String::new()
        } else {
            format!(" ({} bad lines)", errors.len() + 1)
        };
        return Err(Failure(Exit::Usage, format!("{last}{more}")));
    }
    if tasks.is_empty() {
        return Err(Failure(Exit::Usage, format!("{}: no tasks", src.name)));
    }
    Ok(tasks)
}

/// What earlier runs left in the results file, by task id.
#[derive(Default)]
pub struct Prior {
    /// Tasks that ended their turn: never run again.
    pub done: HashSet<String>,
    /// Tasks to run again: their tool was killed, or they failed and failures are retried,
    /// with attempts left.
    pub again: HashSet<String>,
    /// Of those, the ones whose tool was killed in a session that is carried on.
    pub sessions: HashMap<String, String>,
    /// Failed tasks not run again: their number.
    pub failed: usize,
    /// Of those, the ones that used all their attempts.
    pub spent: usize,
}

/// Sorts the tasks of earlier results: a task is done once a result ended its turn; a failed
/// one is not done, and runs again while it has attempts left (`max_attempts` in all) when
/// its tool was killed or `retry_failed` is given.
pub fn prior(results: &[Value], retry_failed: bool, max_attempts: usize) -> Prior {
    // per id: (attempts, ended its turn, the session of the last attempt if its tool was killed)
    let mut seen: HashMap<&str, (usize, bool, Option<&str>)> = HashMap::new();
    for v in results {
        let Some(id) = v["id"].as_str() else { continue };
        let ok = v["error"].is_null() && v["stop_reason"] == json!("end_turn");
        let e = seen.entry(id).or_default();
        e.0 += 1;
        e.1 |= ok;
        e.2 = (v["tool_killed"] == json!(true)).then(|| v["session_id"].as_str().unwrap_or(""));
    }
    let mut p = Prior::default();
    for (id, (attempts, ok, killed_in)) in seen {
        let killed = killed_in.is_some();
        if ok {
            p.done.insert(id.to_string());
        } else if (killed || retry_failed) && attempts < max_attempts {
            p.again.insert(id.to_string());
            if let Some(session) = killed_in.filter(|s| !s.is_empty()) {
                p.sessions.insert(id.to_string(), session.to_string());
            }
        } else {
            p.failed += 1;
            if killed || retry_failed {
                p.spent += 1;
            }
        }
    }
    p
}

/// Says, for the first line, what became of the failures of earlier runs that are not run again.
pub fn failed_before(p: &Prior, max_attempts: usize) -> String {
    if p.failed == 0 {
        return String::new();
    }
    let mut s = format!(", {} failed before", p.failed);
    if p.spent > 0 {
        s.push_str(&format!(
            " ({} after {max_attempts} attempts; --max-attempts allows more)",
            p.spent
        ));
    }
    if p.failed > p.spent {
        s.push_str(": --retry-failed runs them again");
    }
    s
}
