//! Every example, run as its own process with no ANTHROPIC_API_KEY: each runs its flow on the
//! embedded emulator (or offline, for webhooks) and ends with status 0 and its expected output.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The directory of the example binaries, built (once) with the profile of this test.
fn examples_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test's own path");
        // target/<profile>/deps/examples-<hash>
        let profile_dir = exe.parent().and_then(|d| d.parent()).expect("profile dir");
        let target_dir = profile_dir.parent().expect("target dir");
        let mut build = Command::new(env!("CARGO"));
        build
            .args(["build", "--quiet", "--examples", "--target-dir"])
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("running cargo build --examples");
        assert!(status.success(), "cargo build --examples: {status}");
        profile_dir.join("examples")
    })
}

/// A command for the example, without the variables that would point it at the API (nor any
/// other `ANTHROPIC_*` variable a test of this process may have set).
fn example(name: &str) -> Command {
    let mut cmd = Command::new(examples_dir().join(name));
    cmd.env_remove("ANTHROPIC_API_KEY")
        .env_remove("ANTHROPIC_BASE_URL")
        .env_remove("ANTHROPIC_AUTH_TOKEN")
        .current_dir(std::env::temp_dir());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ANTHROPIC_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Runs the example to its end; its stdout, after checking it exited with 0.
fn run(name: &str) -> String {
    let out = example(name).output().expect("running the example");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name}: {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn assert_lines(name: &str, stdout: &str, expected: &[&str]) {
    for line in expected {
        assert!(
            stdout.lines().any(|l| l.contains(line)),
            "{name}: no line with {line:?} in:\n{stdout}"
        );
    }
}

const OFFLINE: &str = "No ANTHROPIC_API_KEY: running on the embedded emulator at http://127.0.0.1:";

#[test]
fn quickstart_runs_on_the_emulator() {
    let out = run("quickstart");
    assert_lines(
        "quickstart",
        &out,
        &[
            OFFLINE,
            "tool call: run_tests {\"test_path\":\"tests/test_auth.py\"}",
            "stop reason: \"EndTurn\"",
            "tool calls: 1",
            "downloaded review.md (35 bytes)",
        ],
    );
}

#[test]
fn stream_runs_on_a_session_of_its_own() {
    let out = run("stream");
    assert_lines(
        "stream",
        &out,
        &[
            OFFLINE,
            "Hello! I am streaming this answer to you.",
            "--- Agent idle ---",
        ],
    );
}

#[test]
fn custom_tools_answers_the_tool_call() {
    let out = run("custom_tools");
    assert_lines(
        "custom_tools",
        &out,
        &[
            OFFLINE,
            "The tests pass.",
            "Some(EndTurn) after 1 tool calls",
        ],
    );
}

#[test]
fn one_request_lists_the_emulators_environments() {
    let out = run("one_request");
    assert_lines("one_request", &out, &[OFFLINE, "0 environments"]);
}

#[test]
fn reference_flows_all_run() {
    let out = run("reference_flows");
    assert_lines(
        "reference_flows",
        &out,
        &[
            OFFLINE,
            "user.message",
            "user.custom_tool_result",
            "all reference flows ran",
        ],
    );
}

#[test]
fn deployment_run_reads_the_answer_of_its_session() {
    let out = run("deployment_run");
    assert_lines(
        "deployment_run",
        &out,
        &[
            OFFLINE,
            "deployment depl_",
            "started session sesn_",
            "agent: Nightly report: 3 new issues, 2 closed, the build is green.",
            "1 run(s) of nightly-report",
        ],
    );
}

#[test]
fn webhooks_verifies_and_refuses_offline() {
    let out = run("webhooks");
    assert_lines(
        "webhooks",
        &out,
        &[
            "verified wevt_01: session sesn_01 is idle",
            "changed body: webhook refused",
            "ten minutes later: webhook refused",
            "the embedded emulator sends webhook events to a receiver",
            ": session.created sesn_",
            "is running",
        ],
    );
    // the live round trip: the three kinds subscribed, in order, each verified
    let live: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("verified event_"))
        .collect();
    assert_eq!(live.len(), 3, "{out}");
    assert!(live[0].contains(": session.created sesn_"), "{out}");
    assert!(live[1].ends_with(" is running"), "{out}");
    assert!(live[2].ends_with(" is idle; list its events next"), "{out}");
}

#[test]
fn multi_agent_runs_on_the_emulator() {
    let out = run("multi_agent");
    assert_lines(
        "multi_agent",
        &out,
        &[
            OFFLINE,
            "thread created: Researcher (sthr_",
            "lead -> Researcher: Find the release date of v2.0 in the changelog.",
            "tool call from sthr_",
            "thread Researcher idle (requires_action)",
            "Researcher -> lead: v2.0 was released on 2026-05-04.",
            "thread Researcher idle (end_turn)",
            "lead: The researcher found it",
            "stop reason: Some(EndTurn), tool calls: 1",
            "threads: 2",
            "primary Lead: Idle",
            "child Researcher: Idle, 10 events",
            "Researcher: Checking the changelog.",
            "archived Researcher: Terminated",
        ],
    );
}

#[test]
fn the_emulator_example_serves_a_client() {
    let mut child = example("emulator")
        .arg("--strict")
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the emulator example");
    let mut first = String::new();
    // kept open until the child is stopped, so its later lines have somewhere to go
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let read = stdout.read_line(&mut first);
    let url = first
        .trim()
        .strip_prefix("emulator listening on ")
        .map(str::to_string);
    let listed = url.as_ref().map(|url| {
        let client = managed_agents::Client::builder()
            .api_key("emulator")
            .base_url(url)
            .build()
            .expect("client");
        client.environments().list(&Default::default())
    });
    // this test's own child, stopped before any assertion can leave it running
    child.kill().expect("stopping the emulator example");
    let _ = child.wait();
    drop(stdout);
    read.expect("reading the emulator's first line");
    assert!(url.is_some(), "first line: {first:?}");
    let page = listed
        .expect("a URL")
        .expect("listing on the emulator example");
    assert!(page.data.is_empty());
}

#[test]
fn the_emulator_example_explains_itself() {
    let out = run_with("emulator", &["--help"]);
    assert_lines("emulator", &out, &["usage: emulator [--port PORT]"]);
}

fn run_with(name: &str, args: &[&str]) -> String {
    let out = example(name)
        .args(args)
        .output()
        .expect("running the example");
    assert!(out.status.success(), "{name} {args:?}: {}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn worker_runs_the_built_in_tools_of_a_self_hosted_session_on_the_emulator() {
    let out = run("worker");
    assert_lines(
        "worker",
        &out,
        &[
            OFFLINE,
            "worker: 1 item(s) claimed, 1 ran, 0 failed",
            "tool call: write",
            "tool result: wrote 32 bytes to notes/plan.txt",
            "tool result: 3 notes/plan.txt",
            "3. run the tests",
            "idle: end_turn",
            "4 tool results posted by this machine",
            "notes/plan.txt on disk:",
        ],
    );
    assert!(!out.contains("(error)"), "{out}");
}

/// Runs the example with `vars`; its stdout without its first line (which names the emulator's
/// address), after checking it exited with 0.
fn run_recorded(name: &str, vars: &[(&str, &std::path::Path)], faults: Option<&str>) -> String {
    let mut cmd = example(name);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    if let Some(f) = faults {
        cmd.env("MANAGED_AGENTS_FAULTS", f);
    }
    let out = cmd.output().expect("running the example");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} {vars:?} {faults:?}: {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().skip(1).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_quickstart_and_custom_tools_replay_from_their_cassettes_alone() {
    let dir = crate::support::tempdir();
    for name in ["quickstart", "custom_tools"] {
        let cassette = dir.path().join(format!("{name}.cassette.jsonl"));
        let recorded = run_recorded(name, &[("MANAGED_AGENTS_RECORD_TO", &cassette)], None);
        assert!(recorded.contains("EndTurn"), "{name}: {recorded}");
        let replay = [("MANAGED_AGENTS_REPLAY", cassette.as_path())];
        assert_eq!(run_recorded(name, &replay, None), recorded, "{name}");
        // streams dropped mid-way (mid-line too) during the replay
        for faults in [
            r#"{"drop_stream_after": 2}"#,
            r#"{"drop_stream_after": 3, "drop_mid_line": true}"#,
        ] {
            assert_eq!(
                run_recorded(name, &replay, Some(faults)),
                recorded,
                "{name} {faults}"
            );
        }
    }
}
