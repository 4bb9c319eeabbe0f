//! What a batch runs: its tasks file checked in a first pass (every bad line and every id used
//! twice reported at once, before anything starts) that keeps 8 bytes a task, then read again
//! line by line as workers take tasks ([`Queue`]), so a task waiting holds no memory; and what
//! earlier runs left in its results file and journal, kept as a few fixed-size fields a task
//! ([`Prior`]), sorted into done, to run again and failed.
//!
//! A task is known by the 64-bit FNV-1a hash of its id (the one `--shard` uses). Two different
//! ids of one tasks file with the same hash are refused, so within a tasks file the hash is
//! exact; a result line of a task no longer in the file could still share a hash with one that
//! is (about one chance in 10^7 for a million tasks).

use crate::exit::{Exit, Failure};
use crate::output::{escape_controls, note};
use crate::parse::parse_task_line;
use crate::shard::{fnv1a64, Shard};
use crate::task::{agent_ref, Task};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;

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

/// Returns the hash a task is known by: its id's 64-bit FNV-1a.
pub fn id_hash(id: &str) -> u64 {
    fnv1a64(id.as_bytes())
}

/// A tasks file open for reading, line by line.
pub struct TaskFile {
    file: File,
    /// The path as given, or `<stdin>`.
    pub name: String,
    agent: Option<String>,
    environment: Option<String>,
}

/// Reads the next line of `r` into `buf` (without its line break): `Ok(false)` at the end.
fn next_line(r: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    buf.clear();
    if r.read_until(b'\n', buf)? == 0 {
        return Ok(false);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    Ok(true)
}

/// What the first pass over a tasks file found.
pub struct Checked {
    /// The hashes of the ids of the tasks of this shard (all of them without one), sorted.
    pub hashes: Vec<u64>,
    /// How many tasks the file has, in every shard.
    pub all: usize,
    /// The agents the tasks of this shard name.
    pub agents: BTreeSet<String>,
}

impl TaskFile {
    /// Opens the tasks file `path`; `-` is stdin, copied first to a file in `spool_dir` that
    /// is removed at once (only this process holds it), so that it can be read twice.
    pub fn open(
        path: &str,
        spool_dir: &Path,
        agent: Option<&str>,
        environment: Option<&str>,
    ) -> Result<TaskFile, Failure> {
        let (file, name) = if path == "-" {
            let name = "<stdin>".to_string();
            let fail = |e: std::io::Error| Failure(Exit::Usage, format!("{name}: {e}"));
            let spool = spool_dir.join(format!(".managed-agents-tasks-{}", std::process::id()));
            let mut f = File::options()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&spool)
                .map_err(|e| {
                    Failure(
                        Exit::Usage,
                        format!("{name}: spooling to {}: {e}", spool.display()),
                    )
                })?;
            let _ = std::fs::remove_file(&spool);
            std::io::copy(&mut std::io::stdin().lock(), &mut f).map_err(fail)?;
            (f, name)
        } else {
            let f = File::open(path).map_err(|e| Failure(Exit::Usage, format!("{path}: {e}")))?;
            (f, path.to_string())
        };
        Ok(TaskFile {
            file,
            name,
            agent: agent.map(String::from),
            environment: environment.map(String::from),
        })
    }

    fn failure(&self, e: impl std::fmt::Display) -> Failure {
        Failure(Exit::Usage, format!("{}: {e}", self.name))
    }

    /// Reads the file from its start.
    fn reader(&self) -> Result<BufReader<File>, Failure> {
        let mut f = self.file.try_clone().map_err(|e| self.failure(e))?;
        f.seek(SeekFrom::Start(0)).map_err(|e| self.failure(e))?;
        Ok(BufReader::with_capacity(64 * 1024, f))
    }

    /// Checks every line of the file (keeping 8 bytes a task): every bad line and every id used
    /// twice is reported, in the order of the lines, then exit 2.
    pub fn check(&self, shard: Option<Shard>) -> Result<Checked, Failure> {
        let mut r = self.reader()?;
        let mut buf = Vec::new();
        let mut errors: Vec<(usize, String)> = Vec::new();
        let mut hashes = Vec::new();
        let mut agents = BTreeSet::new();
        let mut n = 0;
        while next_line(&mut r, &mut buf).map_err(|e| self.failure(e))? {
            n += 1;
            let line = match std::str::from_utf8(&buf) {
                Ok(l) => l,
                Err(e) => {
                    errors.push((n, format!("not valid UTF-8: {e}")));
                    continue;
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            match task(line, self.agent.as_deref(), self.environment.as_deref()) {
                Ok(t) => {
                    let h = id_hash(&t.id);
                    if shard.is_none_or(|s| s.owns(&t.id)) && !agents.contains(&t.agent) {
                        agents.insert(t.agent);
                    }
                    hashes.push(h);
                }
                Err(e) => errors.push((n, e)),
            }
        }
        let all = hashes.len();
        hashes.sort_unstable();
        let twice: HashSet<u64> = hashes
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        if !twice.is_empty() {
            errors.extend(self.used_twice(&twice)?);
            errors.sort_by_key(|(line, _)| *line);
        }
        if let Some((line, last)) = errors.pop() {
            for (l, e) in &errors {
                note(&format!(
                    "error: {}",
                    escape_controls(&format!("{}:{l}: {e}", self.name))
                ));
            }
            let more = if errors.is_empty() {
                String::new()
            } else {
                format!(" ({} bad lines)", errors.len() + 1)
            };
            return Err(Failure(
                Exit::Usage,
                format!("{}:{line}: {last}{more}", self.name),
            ));
        }
        if all == 0 {
            return Err(Failure(Exit::Usage, format!("{}: no tasks", self.name)));
        }
        if let Some(s) = shard {
            hashes.retain(|h| s.owns_hash(*h));
        }
        hashes.dedup();
        hashes.shrink_to_fit();
        Ok(Checked {
            hashes,
            all,
            agents,
        })
    }

    /// Reads the file again for the ids whose hashes are in `twice`: an id used twice is an
    /// error on each of its later lines; two ids with one hash, on the second one's line.
    fn used_twice(&self, twice: &HashSet<u64>) -> Result<Vec<(usize, String)>, Failure> {
        let mut r = self.reader()?;
        let mut buf = Vec::new();
        let mut first: HashMap<u64, String> = HashMap::new();
        let mut errors = Vec::new();
        let mut n = 0;
        while next_line(&mut r, &mut buf).map_err(|e| self.failure(e))? {
            n += 1;
            let Ok(line) = std::str::from_utf8(&buf) else {
                continue;
            };
            let Ok(t) = parse_task_line(line) else {
                continue;
            };
            let h = id_hash(&t.id);
            if !twice.contains(&h) {
                continue;
            }
            match first.get(&h) {
                None => {
                    first.insert(h, t.id);
                }
                Some(id) if *id == t.id => {
                    errors.push((n, format!("the id {:?} is used twice", t.id)))
                }
                Some(id) => errors.push((
                    n,
                    format!(
                        "the ids {id:?} and {:?} have the same 64-bit hash, which a batch knows \
                         its tasks by: rename one",
                        t.id
                    ),
                )),
            }
        }
        Ok(errors)
    }
}

/// The tasks of a batch left to run, read from its tasks file as workers take them.
pub struct Queue {
    reader: BufReader<File>,
    name: String,
    agent: Option<String>,
    environment: Option<String>,
    buf: Vec<u8>,
    line: usize,
    left: usize,
    shard: Option<Shard>,
    prior: Prior,
}

impl Queue {
    /// Makes the queue of `file`'s tasks of `shard` that `prior` says to run (`left` of them).
    pub fn new(
        file: &TaskFile,
        shard: Option<Shard>,
        prior: Prior,
        left: usize,
    ) -> Result<Queue, Failure> {
        Ok(Queue {
            reader: file.reader()?,
            name: file.name.clone(),
            agent: file.agent.clone(),
            environment: file.environment.clone(),
            buf: Vec::new(),
            line: 0,
            left,
            shard,
            prior,
        })
    }

    /// Tells whether no task is left.
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }

    /// Takes the next task to run, with the session it carries on in, if any.
    pub fn pop(&mut self) -> Option<Result<Task, Failure>> {
        let fail = |name: &str, line: usize, e: &dyn std::fmt::Display| {
            Failure(
                Exit::Usage,
                format!("{name}:{line}: {e} (the tasks file changed while the batch ran)"),
            )
        };
        while self.left > 0 {
            match next_line(&mut self.reader, &mut self.buf) {
                Ok(true) => {}
                Ok(false) => {
                    let e = format!("{} tasks fewer than at the start", self.left);
                    self.left = 0;
                    return Some(Err(fail(&self.name, self.line, &e)));
                }
                Err(e) => {
                    self.left = 0;
                    return Some(Err(fail(&self.name, self.line, &e)));
                }
            }
            self.line += 1;
            let Ok(line) = std::str::from_utf8(&self.buf) else {
                self.left = 0;
                return Some(Err(fail(&self.name, self.line, &"not valid UTF-8")));
            };
            if line.trim().is_empty() {
                continue;
            }
            let mut t = match task(line, self.agent.as_deref(), self.environment.as_deref()) {
                Ok(t) => t,
                Err(e) => {
                    self.left = 0;
                    return Some(Err(fail(&self.name, self.line, &e)));
                }
            };
            let h = id_hash(&t.id);
            if self.shard.is_some_and(|s| !s.owns_hash(h)) || !self.prior.runs(h) {
                continue;
            }
            self.left -= 1;
            match self.prior.pending.get(&h) {
                Some(s) => {
                    t.session = Some(s.clone());
                    t.journaled = true;
                }
                None => t.session = self.prior.sessions.get(&h).cloned(),
            }
            return Some(Ok(t));
        }
        None
    }
}

/// What earlier runs left, by task (its id's hash).
pub struct Prior {
    /// Every task with a result line: its attempts and how they went.
    by_task: HashMap<u64, Attempts>,
    /// The tasks whose last result's tool was killed, with its session: carried on.
    sessions: HashMap<u64, String>,
    /// The tasks whose last journaled session has no result: carried on.
    pending: HashMap<u64, String>,
    retry_failed: bool,
    max_attempts: usize,
}

/// What the result lines of one task say, in a few bytes.
#[derive(Default, Clone, Copy)]
struct Attempts {
    /// How many result lines it has.
    count: u32,
    /// Whether one ended its turn.
    ok: bool,
    /// Whether the last one's tool was killed.
    killed: bool,
    /// The hash of the session of its last result line naming one (0: none).
    session: u64,
}

/// How the tasks of a batch's shard stand against earlier runs.
#[derive(Default)]
pub struct Counts {
    /// Tasks to run now.
    pub todo: usize,
    /// Tasks done before.
    pub done: usize,
    /// Tasks failed before and not run again.
    pub failed: usize,
    /// Of those, the ones that used all their attempts.
    pub spent: usize,
}

impl Prior {
    /// Starts an account of earlier runs: a failed task runs again while it has attempts left
    /// (`max_attempts` in all) when its tool was killed or `retry_failed` is given.
    pub fn new(retry_failed: bool, max_attempts: usize) -> Prior {
        Prior {
            by_task: HashMap::new(),
            sessions: HashMap::new(),
            pending: HashMap::new(),
            retry_failed,
            max_attempts,
        }
    }

    /// Takes in one result line of an earlier run, in the file's order.
    pub fn result(&mut self, v: &Value) {
        let Some(id) = v["id"].as_str() else { return };
        let h = id_hash(id);
        let ok = v["error"].is_null() && v["stop_reason"] == json!("end_turn");
        let killed = v["tool_killed"] == json!(true);
        let session = v["session_id"].as_str();
        let e = self.by_task.entry(h).or_default();
        e.count = e.count.saturating_add(1);
        e.ok |= ok;
        e.killed = killed;
        if let Some(s) = session {
            e.session = id_hash(s) | 1;
        }
        match session.filter(|s| killed && !s.is_empty()) {
            Some(s) => {
                self.sessions.insert(h, s.to_string());
            }
            None => {
                self.sessions.remove(&h);
            }
        }
    }

    /// Takes in one journal line (after every result line): the task's last journaled session
    /// is carried on when no result names it.
    pub fn journaled(&mut self, task: &str, session: &str) {
        let h = id_hash(task);
        let resulted = self
            .by_task
            .get(&h)
            .is_some_and(|a| a.session == id_hash(session) | 1);
        if resulted {
            self.pending.remove(&h);
        } else {
            self.pending.insert(h, session.to_string());
        }
    }

    /// Tells whether the task `h` is done.
    fn done(&self, h: u64) -> bool {
        self.by_task.get(&h).is_some_and(|a| a.ok)
    }

    /// Tells whether the task `h` runs now: not done, and never run, or run again (a killed
    /// tool or --retry-failed with attempts left, or a journaled session with no result).
    fn runs(&self, h: u64) -> bool {
        match self.by_task.get(&h) {
            None => true,
            Some(a) if a.ok => false,
            Some(a) => self.again(a) || self.pending.contains_key(&h),
        }
    }

    fn again(&self, a: &Attempts) -> bool {
        (a.killed || self.retry_failed) && (a.count as usize) < self.max_attempts
    }

    /// Counts how the tasks `hashes` stand.
    pub fn count(&self, hashes: &[u64]) -> Counts {
        let mut c = Counts::default();
        for &h in hashes {
            if self.runs(h) {
                c.todo += 1;
            } else if self.done(h) {
                c.done += 1;
            } else if let Some(a) = self.by_task.get(&h) {
                c.failed += 1;
                if a.killed || self.retry_failed {
                    c.spent += 1;
                }
            }
        }
        c
    }
}

/// Says, for the first line, what became of the failures of earlier runs that are not run again.
pub fn failed_before(c: &Counts, max_attempts: usize) -> String {
    if c.failed == 0 {
        return String::new();
    }
    let mut s = format!(", {} failed before", c.failed);
    if c.spent > 0 {
        s.push_str(&format!(
            " ({} after {max_attempts} attempts; --max-attempts allows more)",
            c.spent
        ));
    }
    if c.failed > c.spent {
        s.push_str(": --retry-failed runs them again");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, session: Option<&str>, stop: &str, killed: bool) -> Value {
        let mut v = json!({"id": id, "session_id": session, "stop_reason": stop,
            "error": if stop == "end_turn" { Value::Null } else { json!("failed") }});
        if killed {
            v["tool_killed"] = json!(true);
        }
        v
    }

    #[test]
    fn sorts_earlier_runs_into_done_again_carried_on_and_failed() {
        let mut p = Prior::new(false, 3);
        p.result(&line("done", Some("s1"), "end_turn", false));
        p.result(&line("killed", Some("s2"), "error", true));
        p.result(&line("failed", Some("s3"), "error", false));
        p.result(&line("spent", Some("s4"), "error", true));
        p.result(&line("spent", Some("s4"), "error", true));
        p.result(&line("spent", Some("s4"), "error", true));
        // journaled: one with its result, one never resulted, one whose later session was not
        for (t, s) in [
            ("done", "s1"),
            ("lost", "s5"),
            ("failed", "s3"),
            ("failed", "s6"),
        ] {
            p.journaled(t, s);
        }
        let h = |id: &str| id_hash(id);
        assert!(!p.runs(h("done")));
        assert!(p.runs(h("killed")));
        assert_eq!(p.sessions.get(&h("killed")).map(String::as_str), Some("s2"));
        assert!(p.runs(h("lost")));
        assert_eq!(p.pending.get(&h("lost")).map(String::as_str), Some("s5"));
        // failed, not retried, but its last journaled session has no result: carried on
        assert!(p.runs(h("failed")));
        assert_eq!(p.pending.get(&h("failed")).map(String::as_str), Some("s6"));
        assert!(!p.pending.contains_key(&h("done")));
        assert!(!p.runs(h("spent")));
        assert!(p.runs(h("new")));
        let all: Vec<u64> = ["done", "killed", "failed", "spent", "lost", "new"]
            .iter()
            .map(|id| h(id))
            .collect();
        let c = p.count(&all);
        assert_eq!((c.todo, c.done, c.failed, c.spent), (4, 1, 1, 1));
        assert_eq!(
            failed_before(&c, 3),
            ", 1 failed before (1 after 3 attempts; --max-attempts allows more)"
        );
    }

    #[test]
    fn retry_failed_runs_a_failure_again_while_it_has_attempts() {
        let mut p = Prior::new(true, 2);
        p.result(&line("once", Some("s1"), "error", false));
        p.result(&line("twice", Some("s2"), "error", false));
        p.result(&line("twice", None, "error", false));
        assert!(p.runs(id_hash("once")));
        assert!(!p.runs(id_hash("twice")));
        // its last line named no session: the session of the line before is its last one
        p.journaled("twice", "s2");
        assert!(!p.runs(id_hash("twice")));
    }
}
