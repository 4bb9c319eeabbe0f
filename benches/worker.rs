//! One self-hosted worker process on the embedded emulator: how many work items a second it
//! serves at concurrency 1, 4 and 16 when each session's agent calls one trivial built-in tool
//! (`write` of a one-byte file), its peak resident set and thread count, and the time from a
//! session's message to its first tool result posted.
//!
//! `cargo bench --bench worker` (`-- quick` for fewer items); `-- ts SDK_DIR` instead runs this
//! worker and the official TypeScript SDK's `EnvironmentWorker` (installed in SDK_DIR, run by
//! `benches/ts/worker.mjs`) on the same emulator, queue and tool, side by side
//! (`benches/worker_vs_ts.sh` does it all). The emulator runs in this
//! process; the worker runs in a child process of its own (this program again, `child ..`), so
//! its peak RSS (`VmHWM`) and thread count (`Threads` of /proc/self/status, sampled every
//! 5 ms, the sampler itself left out) are the worker's alone. Linux for the footprint. The
//! scripted agent answers at once (`Emulator::set_thinking(Duration::ZERO)`).

use managed_agents::environments::PollerOptions;
use managed_agents::types::*;
use managed_agents::Client;
use managed_agents::StreamOptions;
use managed_agents_emulator::{Emulator, Script};
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: &str = "bench-environment-key";

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.first().map(String::as_str) == Some("child") {
        child(&args[1..]);
        return;
    }
    let quick = args.iter().any(|a| a == "quick");
    let items = if quick { 40 } else { 200 };
    if let Some(at) = args.iter().position(|a| a == "ts") {
        let sdk = args
            .get(at + 1)
            .expect("ts SDK_DIR: a folder with @anthropic-ai/sdk installed");
        side_by_side(sdk, items);
        return;
    }
    println!("one worker process, {items} items, one `write` call each");
    println!("| concurrency | items/s | peak RSS | peak threads | requests/item |");
    println!("| --- | --- | --- | --- | --- |");
    for concurrency in [1, 4, 16] {
        throughput(concurrency, items);
    }
    latency(if quick { 10 } else { 40 });
}

/// A status line of /proc/self/status, in its unit (kB for memory).
fn status(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim_start_matches(':')
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The worker process: `child URL ENV CONCURRENCY drain|serve`. `drain` ends when the queue is
/// empty, `serve` when stdin closes. Prints `claimed ran failed elapsed_ms peak_rss_kb
/// peak_threads`.
fn child(args: &[String]) {
    let [url, env, concurrency, mode] = args else {
        panic!("child URL ENV CONCURRENCY drain|serve")
    };
    let peak_threads = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak_threads.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some(n) = status("Threads") {
                    peak.fetch_max(n.saturating_sub(1), Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let client = Client::builder()
        .environment_key(KEY)
        .base_url(url.as_str())
        .build()
        .unwrap();
    let workdir = std::env::temp_dir().join(format!("bench-worker-{}", std::process::id()));
    std::fs::create_dir_all(&workdir).unwrap();
    let worker = client
        .environments()
        .work()
        .worker()
        .environment_id(env.as_str())
        .environment_key(KEY)
        .workdir(&workdir)
        .concurrency(concurrency.parse().unwrap())
        .poller_options(
            PollerOptions::new()
                .drain(mode == "drain")
                .empty_poll_sleep(Duration::from_millis(10), Duration::from_millis(20)),
        );
    if mode == "serve" {
        let stop = worker.stop_signal();
        std::thread::spawn(move || {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            stop.set();
        });
    }
    let started = Instant::now();
    let stats = worker.run().unwrap();
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let _ = std::fs::remove_dir_all(&workdir);
    println!(
        "{} {} {} {} {} {}",
        stats.claimed,
        stats.ran,
        stats.failed,
        elapsed.as_millis(),
        status("VmHWM").unwrap_or(0),
        peak_threads.load(Ordering::Relaxed)
    );
}

/// An emulator whose agent calls `write` once then ends its turn, without the 150 ms it
/// takes by default to start a turn and to read a result; a client, a self-hosted
/// environment and an agent.
fn setup() -> (Emulator, Client, String, Agent) {
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    // the agent answers at once: what is measured is the worker's time (and the emulator's)
    emu.set_thinking(Duration::ZERO);
    emu.set_script(
        Script::new()
            .agent_tool("write", json!({"file_path": "out.txt", "content": "x"}))
            .say("ok"),
    );
    let client = Client::builder()
        .api_key("bench")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    let env = client
        .environments()
        .create(&EnvironmentCreateParams::new("bench").config(SelfHostedConfigParams::new()))
        .unwrap()
        .id;
    let agent = client
        .agents()
        .create(&AgentCreateParams::new("Bench", "claude-opus-4-5"))
        .unwrap();
    (emu, client, env, agent)
}

fn spawn_child(emu: &Emulator, env: &str, concurrency: usize, mode: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["child", emu.base_url(), env, &concurrency.to_string(), mode])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `claimed ran failed elapsed_ms peak_rss_kb peak_threads` from the child.
fn report(child: Child) -> [u64; 6] {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the worker process failed");
    let line = String::from_utf8_lossy(&out.stdout);
    let numbers: Vec<u64> = line
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    numbers.try_into().unwrap()
}

fn throughput(concurrency: usize, items: usize) {
    let (emu, client, env, agent) = setup();
    for _ in 0..items {
        let session = client
            .sessions()
            .create(&SessionCreateParams::new(&agent, env.as_str()))
            .unwrap();
        client
            .sessions()
            .events()
            .send(
                &session.id,
                &EventSendParams::one(UserMessageEventParams::text("go")),
            )
            .unwrap();
    }
    let before = emu.requests();
    let [claimed, ran, failed, ms, rss_kb, threads] =
        report(spawn_child(&emu, &env, concurrency, "drain"));
    let requests = (emu.requests() - before) as f64 / items as f64;
    assert_eq!(
        (claimed, ran, failed),
        (items as u64, items as u64, 0),
        "not every item ran"
    );
    println!(
        "| {concurrency} | {:.1} | {:.1} MiB | {threads} | {requests:.1} |",
        items as f64 / (ms as f64 / 1000.0),
        rss_kb as f64 / 1024.0
    );
}

/// From just before a message is sent to the moment the session's stream shows the first
/// `user.tool_result`: with the session's item claimed before the message (the worker waits
/// on the session), and for a second message after the first turn ended and the worker
/// stopped the item (the message queues a new item: the worker claims it, acks, heartbeats,
/// reads the session and its history, then runs the tool).
fn latency(reps: usize) {
    let (emu, client, env, agent) = setup();
    let mut worker = spawn_child(&emu, &env, 4, "serve");
    let work = client.environments().work();
    let open_items = |session: &str| {
        work.list(&env, &WorkListParams::default())
            .unwrap()
            .auto_paging()
            .map(|w| w.unwrap())
            .filter(|w| {
                w.data.id == session && serde_json::to_value(&w.state).unwrap() != "stopped"
            })
            .count()
    };
    let first_result = |session: &str| {
        let stream = client
            .sessions()
            .events()
            .stream(session, StreamOptions::new())
            .unwrap();
        let t0 = Instant::now();
        client
            .sessions()
            .events()
            .send(
                session,
                &EventSendParams::one(UserMessageEventParams::text("go")),
            )
            .unwrap();
        for ev in stream {
            if let SessionEvent::UserToolResult(_) = ev.unwrap() {
                break;
            }
        }
        t0.elapsed()
    };
    let mut warm = Vec::new();
    let mut cold = Vec::new();
    for _ in 0..reps {
        let session = client
            .sessions()
            .create(&SessionCreateParams::new(&agent, env.as_str()))
            .unwrap()
            .id;
        // the worker holds the item and waits on the session
        let deadline = Instant::now() + Duration::from_secs(30);
        while work.stats(&env).unwrap().depth > 0 {
            assert!(Instant::now() < deadline, "the item was never claimed");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(100));
        warm.push(first_result(&session));
        // the turn ends and the worker stops the item; the next message queues a new one
        while open_items(&session) > 0 {
            assert!(Instant::now() < deadline, "the item was never stopped");
            std::thread::sleep(Duration::from_millis(5));
        }
        cold.push(first_result(&session));
    }
    drop(worker.stdin.take());
    let mut out = String::new();
    if let Some(stdout) = worker.stdout.as_mut() {
        let _ = BufReader::new(stdout).read_line(&mut out);
    }
    let _ = worker.wait();
    println!("\nmessage to the first tool result posted ({reps} sessions each, concurrency 4)");
    println!("| the item | median | p90 | max |");
    println!("| --- | --- | --- | --- |");
    for (what, mut times) in [
        ("claimed before the message", warm),
        ("queued by the message", cold),
    ] {
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        println!(
            "| {what} | {:.1} ms | {:.1} ms | {:.1} ms |",
            ms(at(0.5)),
            ms(at(0.9)),
            ms(at(1.0))
        );
    }
    let _ = std::io::stdout().flush();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Serves `items` items with the worker process `spawn` starts (given the emulator's URL and
/// the environment), timed from the spawn until every item is stopped; then closes its stdin
/// and reads `... peak_rss_kb peak_threads` from the end of its output line. Returns items/s,
/// peak RSS in MiB and peak threads.
fn served(items: usize, spawn: impl Fn(&str, &str) -> Child) -> (f64, f64, u64) {
    let (emu, client, env, agent) = setup();
    for _ in 0..items {
        let session = client
            .sessions()
            .create(&SessionCreateParams::new(&agent, env.as_str()))
            .unwrap();
        client
            .sessions()
            .events()
            .send(
                &session.id,
                &EventSendParams::one(UserMessageEventParams::text("go")),
            )
            .unwrap();
    }
    let work = client.environments().work();
    let started = Instant::now();
    let mut child = spawn(emu.base_url(), &env);
    let deadline = started + Duration::from_secs(600);
    loop {
        let stopped = work
            .list(&env, &WorkListParams::default().limit(100))
            .unwrap()
            .auto_paging()
            .filter(|w| {
                w.as_ref()
                    .is_ok_and(|w| serde_json::to_value(&w.state).unwrap() == "stopped")
            })
            .count();
        if stopped == items {
            break;
        }
        assert!(Instant::now() < deadline, "{stopped} of {items} items done");
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = started.elapsed();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let [rss_kb, threads] = numbers[numbers.len().saturating_sub(2)..] else {
        panic!("the worker process printed {line:?}")
    };
    (
        items as f64 / elapsed.as_secs_f64(),
        rss_kb as f64 / 1024.0,
        threads,
    )
}

/// This worker and the official TypeScript SDK's, on the same emulator, queue and tool.
fn side_by_side(sdk_dir: &str, items: usize) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/ts/worker.mjs");
    println!("{items} items, one `write` call each; timed from the worker's start until every item is stopped");
    println!("| concurrency | Rust items/s | TS items/s | ratio | Rust peak RSS | TS peak RSS | Rust threads | TS threads |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for concurrency in [1, 4, 16] {
        let rust = served(items, |url, env| {
            Command::new(std::env::current_exe().unwrap())
                .args(["child", url, env, &concurrency.to_string(), "serve"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        });
        let ts = served(items, |url, env| {
            Command::new("node")
                .args([script, sdk_dir, url, env, &concurrency.to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        });
        println!(
            "| {concurrency} | {:.1} | {:.1} | {:.1}x | {:.1} MiB | {:.1} MiB | {} | {} |",
            rust.0,
            ts.0,
            rust.0 / ts.0,
            rust.1,
            ts.1,
            rust.2,
            ts.2
        );
        let _ = std::io::stdout().flush();
    }
}
