//! A batch against the emulator's rate limit: with many more sessions allowed at once than the
//! limit lets run, it slows down as a whole (fewer sessions, requests held until the
//! retry-after has passed) and no task fails on a 429; a fixed pool of the same size, each
//! request retrying on its own, meets more 429s. Both counted by the emulator.

use crate::support::{batch_args, cli, setup, stderr, temp};
use managed_agents_emulator::{Emulator, Faults, Script};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// Tasks of the batch, and the sessions it allows at once.
const TASKS: usize = 24;
/// The limit: 20 requests a second (1,200 a minute), its window scaled down from a minute to
/// keep the test short; a task takes 8 requests, so the batch needs about 10 s.
const LIMIT: usize = 20;
const WINDOW: Duration = Duration::from_secs(1);

/// What one batch did: its exit code, stderr, results, the 429s the emulator sent, the time.
struct Ran {
    code: Option<i32>,
    err: String,
    results: Vec<Value>,
    rate_limited: usize,
    requests: usize,
    took: Duration,
}

/// Runs the batch of [`TASKS`] tasks at `--parallel TASKS` (with `extra`) against a new
/// emulator limited to [`LIMIT`] requests a [`WINDOW`].
fn batch(extra: &[&str]) -> Ran {
    let (emu, _c, agent, env) = setup(false);
    emu.set_script(Script::new().say("done"));
    let dir = temp("ratelimit");
    let tasks = dir.join("tasks.jsonl");
    let lines: String = (0..TASKS)
        .map(|i| format!("{{\"id\": \"t{i}\", \"message\": \"go\"}}\n"))
        .collect();
    std::fs::write(&tasks, lines).unwrap();
    let out = dir.join("results.jsonl");
    let parallel = TASKS.to_string();
    let mut more = vec!["--parallel", parallel.as_str()];
    more.extend_from_slice(extra);
    limit(&emu);
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

fn limit(emu: &Emulator) {
    emu.set_faults(Faults {
        rate_limit: LIMIT,
        rate_limit_window: Some(WINDOW),
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
    let adaptive = batch(&[]);
    let fixed = batch(&["--fixed-parallel"]);
    for (name, r) in [("adaptive", &adaptive), ("fixed", &fixed)] {
        let failed = r
            .results
            .iter()
            .filter(|l| l["stop_reason"] != "end_turn")
            .count();
        eprintln!(
            "{name}: {} 429s in {} requests, {failed} of {TASKS} tasks failed, {:?}",
            r.rate_limited, r.requests, r.took
        );
    }
    let a = &adaptive;
    assert_eq!(a.code, Some(0), "{}", a.err);
    assert_eq!(a.results.len(), TASKS);
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
}
