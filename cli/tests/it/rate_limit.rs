//! A batch against the emulator's rate limit: with many more sessions allowed at once than the
//! limit lets run, it slows down as a whole (fewer sessions, requests held until the
//! retry-after has passed) and no task fails on a 429; a fixed pool of the same size, each
//! request retrying on its own, meets more 429s. Both counted by the emulator.

use crate::support::{batch_args, cli, setup, stderr, temp};
use managed_agents_emulator::{Emulator, Faults, Script};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// A batch against a limit: its tasks (and the sessions it allows at once), and the limit of
/// requests a window.
#[derive(Clone, Copy)]
struct Case {
    tasks: usize,
    limit: usize,
    window: Duration,
}

/// 20 requests a second (1,200 a minute), its window scaled down from a minute to keep the
/// test short; a task takes 8 requests, so the batch needs about 10 s. A 429's whole-second
/// `retry-after` is a full window here: after it, the bucket is full again.
const FAST: Case = Case {
    tasks: 24,
    limit: 20,
    window: Duration::from_secs(1),
};

/// The API's refill rate, one request a second (60 a minute), with a smaller burst: after a
/// 429's `retry-after` of 1 s one request may go, not a window's worth. Holding and halving
/// the sessions alone do not slow a batch down here (requests take milliseconds); the
/// requests themselves must be paced. 5 tasks take about 40 requests, so about 36 s.
const SLOW: Case = Case {
    tasks: 5,
    limit: 4,
    window: Duration::from_secs(4),
};

/// What one batch did: its exit code, stderr, results, the 429s the emulator sent, the time.
struct Ran {
    code: Option<i32>,
    err: String,
    results: Vec<Value>,
    rate_limited: usize,
    requests: usize,
    took: Duration,
}

/// Runs the batch of `case.tasks` tasks at `--parallel` as many (with `extra`) against a new
/// emulator limited to `case.limit` requests a `case.window`.
fn batch(case: Case, extra: &[&str]) -> Ran {
    let (emu, _c, agent, env) = setup(false);
    emu.set_script(Script::new().say("done"));
    let dir = temp("ratelimit");
    let tasks = dir.join("tasks.jsonl");
    let lines: String = (0..case.tasks)
        .map(|i| format!("{{\"id\": \"t{i}\", \"message\": \"go\"}}\n"))
        .collect();
    std::fs::write(&tasks, lines).unwrap();
    let out = dir.join("results.jsonl");
    let parallel = case.tasks.to_string();
    let mut more = vec!["--parallel", parallel.as_str()];
    more.extend_from_slice(extra);
    limit(&emu, case);
    emu.clear_request_log();
    let before = emu.requests();
    let started = Instant::now();
    let o = cli(&emu, &batch_args(&tasks, &out, &agent, &env, &more));
    Ran {
        code: o.status.code(),
        err: stderr(&o),
        results: read(&out),
        rate_limited: emu.rate_limited(),
        requests: emu.requests() - before,
        took: started.elapsed(),
    }
}

fn limit(emu: &Emulator, case: Case) {
    emu.set_faults(Faults {
        rate_limit: case.limit,
        rate_limit_window: Some(case.window),
        ..Faults::default()
    });
}

fn read(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_rate_limited_batch_slows_down_as_a_whole_fails_no_task_and_meets_fewer_429s() {
    adaptive_beats_fixed(FAST);
}

#[test]
fn at_the_apis_refill_rate_a_batch_paces_its_requests() {
    // failed before requests were paced: each hold let every waiting request go at once, so
    // all but one met a 429 again (about one 429 a request, more than the fixed pool's)
    adaptive_beats_fixed(SLOW);
}

/// Runs `case` adaptive and with a fixed pool: the adaptive batch fails no task and meets
/// fewer 429s.
fn adaptive_beats_fixed(case: Case) {
    let tasks = case.tasks;
    let adaptive = batch(case, &[]);
    let fixed = batch(case, &["--fixed-parallel"]);
    for (name, r) in [("adaptive", &adaptive), ("fixed", &fixed)] {
        let failed = r
            .results
            .iter()
            .filter(|l| l["stop_reason"] != "end_turn")
            .count();
        eprintln!(
            "{name}: {} 429s in {} requests, {failed} of {tasks} tasks failed, {:?}",
            r.rate_limited, r.requests, r.took
        );
    }
    let a = &adaptive;
    assert_eq!(a.code, Some(0), "{}", a.err);
    assert_eq!(a.results.len(), tasks);
    for l in &a.results {
        assert_eq!(l["stop_reason"], "end_turn", "{l}");
        assert_eq!(l["error"], Value::Null, "{l}");
        assert_eq!(l["text"], "done", "{l}");
    }
    assert!(a.rate_limited > 0, "the limit was met: {}", a.err);
    assert!(
        a.err.contains(&format!(
            "rate limited: {} requests answered 429",
            a.rate_limited
        )),
        "{}",
        a.err
    );
    assert!(a.err.contains("sessions at once went down to"), "{}", a.err);
    assert!(
        a.rate_limited < fixed.rate_limited,
        "adaptive {} 429s, fixed pool {}",
        a.rate_limited,
        fixed.rate_limited
    );
    assert!(fixed.err.contains("(--fixed-parallel)"), "{}", fixed.err);
    // paced: a 429 now and then, at most one for every 4 requests that went through
    let through = a.requests - a.rate_limited;
    assert!(
        a.rate_limited * 4 <= through,
        "{} 429s for {through} requests through",
        a.rate_limited
    );
}
