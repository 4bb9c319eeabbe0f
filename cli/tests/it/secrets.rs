//! The keys the command-line tool holds stay out of reach of what it starts and out of its
//! logs: a bash step of the worker (run as an unprivileged user when the tests run as root)
//! reads every `/proc/*/environ` it can and its own environment, a `--tool` command does the
//! same, and every command run with `RUST_LOG=trace` is searched for each secret.

use crate::support::{events, setup, temp, BIN};
use managed_agents::types::*;
use managed_agents_emulator::{Emulator, Script};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};

/// A value no other process on the machine holds.
fn secret(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("cli-secret-{what}-{}-{nanos}", std::process::id())
}

/// What a tool prints: every environment line it can find that names a key or holds one,
/// from every process it may read (`/proc/*/environ`) and from its own environment.
const SNOOP: &str = "for f in /proc/[0-9]*/environ; do { tr '\\0' '\\n' < \"$f\"; } 2>/dev/null \
    | grep -a -e MA_TEST -e ANTHROPIC -e cli-secret-; done; echo ---; \
    env | grep -a -e MA_TEST -e ANTHROPIC -e cli-secret-; echo \"uid=$(id -u)\"; \
    if cat /proc/$PPID/environ >/dev/null 2>&1; then echo parent-readable; else echo parent-closed; fi";

/// How the worker is started: as `nobody` through `setpriv` when the tests run as root and
/// can drop privileges, else as the tests' own user (said on stderr).
fn unprivileged() -> Option<Vec<&'static str>> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        eprintln!("not root: the worker runs as the tests' own (unprivileged) user");
        return None;
    }
    let prefix = vec![
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
    ];
    // the binary must be reachable by that user too (its folders readable by others)
    let works = Command::new(prefix[0])
        .args(&prefix[1..])
        .args([BIN, "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if works {
        Some(prefix)
    } else {
        eprintln!(
            "SKIPPED the unprivileged case: cannot run the binary as uid 65534 with setpriv; \
             the worker runs as root, only the same-user case is checked"
        );
        None
    }
}

fn tool_results(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "user.tool_result" || e["type"] == "user.custom_tool_result")
        .map(|e| e["content"].to_string())
        .collect()
}

/// A world-writable folder for a worker that runs as another user.
fn open_dir(name: &str) -> crate::support::Temp {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp(name);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

#[test]
fn a_worker_bash_step_and_tool_command_find_no_key_in_any_environment() {
    let (emu, c) = crate::support::emulator();
    let (env, agent) = crate::support::self_hosted(&c);
    emu.set_script(
        Script::new()
            .agent_tool("bash", json!({ "command": SNOOP }))
            .call_tool("snoop", json!({}))
            .say("done"),
    );
    let session = crate::support::session_sent_go(&c, &agent, env.as_str());
    let (api_key, env_key, default_env_key) =
        (secret("api"), secret("envkey"), secret("default-envkey"));
    let workdir = open_dir("worker-snoop");
    let prefix = unprivileged();
    let mut cmd = match &prefix {
        Some(p) => {
            let mut c = Command::new(p[0]);
            c.args(&p[1..]).arg(BIN);
            c
        }
        None => Command::new(BIN),
    };
    let o = cmd
        .args(["worker", "--environment", env.as_str(), "--once"])
        .args(["--environment-key-env", "MA_TEST_WORKER_KEY", "--workdir"])
        .arg(&workdir)
        .args(["--tool", &format!("snoop={SNOOP}")])
        .env("MA_TEST_WORKER_KEY", &env_key)
        .env("ANTHROPIC_ENVIRONMENT_KEY", &default_env_key)
        .env("ANTHROPIC_API_KEY", &api_key)
        // a copy of a key under another name is a key too
        .env("MA_TEST_COPY", &api_key)
        .env("MA_TEST_COPY_ENV", &env_key)
        // and a variable that is not passes through: the snooping does find environments
        .env("MA_TEST_MARKER", "visible-marker")
        .env("ANTHROPIC_BASE_URL", emu.base_url())
        .current_dir(&workdir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let results = tool_results(&events(&c, &session));
    assert_eq!(results.len(), 2, "{results:?}");
    for r in &results {
        assert!(r.contains("MA_TEST_MARKER=visible-marker"), "{r}");
        for (name, value) in [
            ("the API key", &api_key),
            ("the environment key", &env_key),
            ("ANTHROPIC_ENVIRONMENT_KEY", &default_env_key),
        ] {
            assert!(!r.contains(value.as_str()), "{name} reached a tool: {r}");
        }
        assert!(!r.contains("MA_TEST_WORKER_KEY"), "{r}");
        assert!(!r.contains("MA_TEST_COPY"), "{r}");
        if prefix.is_some() {
            assert!(r.contains("uid=65534"), "not run unprivileged: {r}");
            // non-dumpable: its environ (and memory) are closed to a same-user child
            assert!(r.contains("parent-closed"), "{r}");
        }
    }
    assert!(!stderr.contains("cli-secret-"), "{stderr}");
}

#[test]
fn a_run_tool_command_finds_no_key_in_any_environment() {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(Script::new().call_tool("snoop", json!({})).say("done"));
    let api_key = secret("run-api");
    let o = Command::new(BIN)
        .args(["run", "--agent", &agent, "--environment", &env])
        .args(["--message", "go", "--tool", &format!("snoop={SNOOP}")])
        .env("ANTHROPIC_API_KEY", &api_key)
        .env("MA_TEST_COPY", &api_key)
        .env("MA_TEST_MARKER", "visible-marker")
        .env("ANTHROPIC_BASE_URL", emu.base_url())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let sessions = c.sessions().list(&Default::default()).unwrap();
    let results = tool_results(&events(&c, &sessions.data[0].id));
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(results[0].contains("MA_TEST_MARKER=visible-marker"));
    assert!(!results[0].contains(&api_key), "{}", results[0]);
    assert!(!results[0].contains("MA_TEST_COPY"), "{}", results[0]);
}

/// The log with the transport's hex dumps (16 bytes a line, the text on the right) joined
/// back into the bytes they show, so a secret cut across lines is found too.
fn unsplit(log: &str) -> String {
    let mut joined = String::new();
    for line in log.lines() {
        // `[.. TRACE ureq_proto::util] 6b65 793a ..  key: sk-..`: after the target, 8
        // groups of 4 hex digits, then the 16 bytes as text
        let Some((_, tail)) = line.split_once("] ") else {
            continue;
        };
        let groups: Vec<&str> = tail.splitn(9, ' ').collect();
        let hex = |g: &&str| g.len() == 4 && g.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if groups.len() == 9 && groups[..8].iter().all(hex) {
            let text = groups[8].trim_start();
            joined.extend(text.chars().take(16));
        }
    }
    joined
}

fn assert_no_secret(what: &str, o: &Output, secrets: &[&str]) {
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let joined = unsplit(&log);
    for s in secrets {
        assert!(
            !log.contains(s) && !joined.contains(s),
            "{what}: {s} in its trace log"
        );
    }
}

fn traced(emu: &Emulator, dir: &Path, args: &[&str], api_key: &str) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "trace")
        .env("ANTHROPIC_API_KEY", api_key)
        .env("ANTHROPIC_BASE_URL", emu.base_url())
        .output()
        .unwrap()
}

#[test]
fn rust_log_trace_shows_no_key_and_no_credential_token() {
    let (emu, c, agent, env) = setup(true);
    let dir = temp("trace");
    let api_key = secret("trace-api");
    let token = secret("vault-token");
    let env_key = secret("trace-envkey");
    let vault = c.vaults().create(&VaultCreateParams::new("ci")).unwrap().id;
    let cred = dir.join("cred.yaml");
    std::fs::write(
        &cred,
        format!("auth: {{type: static_bearer, mcp_server_url: 'https://mcp.example.com', token: {token}}}\n"),
    )
    .unwrap();
    let def = dir.join("agent.yaml");
    std::fs::write(&def, "name: Traced\nmodel: claude-opus-4-5\n").unwrap();
    emu.set_script(
        Script::new()
            .call_tool("shout", json!({"text": "x"}))
            .say("hi"),
    );
    let cred_path = cred.to_str().unwrap();
    let tasks = dir.join("tasks.jsonl");
    std::fs::write(&tasks, "{\"id\": \"t1\", \"message\": \"go\"}\n").unwrap();
    let results = dir.join("results.jsonl");
    let commands: Vec<Vec<&str>> = vec![
        crate::support::batch_args(&tasks, &results, &agent, &env, &["--tool", "shout=cat"]),
        vec!["agents", "list"],
        vec!["agents", "create", def.to_str().unwrap()],
        vec!["sessions", "list"],
        vec!["vaults", "credentials", "create", &vault, cred_path],
        crate::support::run_args(&agent, &env, &["--tool", "shout=cat"]),
    ];
    for args in &commands {
        let o = traced(&emu, &dir, args, &api_key);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        // the log is on: the transport did write its trace
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("DEBUG"),
            "{args:?}: no transport log"
        );
        assert_no_secret(&format!("{args:?}"), &o, &[&api_key, &token]);
    }
    // the worker, with its environment key
    let local = c
        .environments()
        .create(&EnvironmentCreateParams::new("local").config(SelfHostedConfigParams::new()))
        .unwrap()
        .id;
    emu.set_script(
        Script::new()
            .agent_tool("bash", json!({"command": "echo hi"}))
            .say("done"),
    );
    let session = c
        .sessions()
        .create(&SessionCreateParams::new(agent.as_str(), local.as_str()))
        .unwrap()
        .id;
    c.sessions()
        .events()
        .send(
            &session,
            &EventSendParams::one(UserMessageEventParams::text("go")),
        )
        .unwrap();
    let o = Command::new(BIN)
        .args(["worker", "--environment", &local, "--once", "--workdir"])
        .arg(&dir)
        .env("RUST_LOG", "trace")
        .env("ANTHROPIC_ENVIRONMENT_KEY", &env_key)
        .env("ANTHROPIC_API_KEY", &api_key)
        .env("ANTHROPIC_BASE_URL", emu.base_url())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_no_secret("worker", &o, &[&api_key, &env_key]);
}

/// The worker is non-dumpable, so its `/proc/self` belongs to root: its file tools must still
/// work when it runs as an unprivileged user.
#[test]
fn a_non_dumpable_unprivileged_worker_still_runs_the_file_tools() {
    let Some(prefix) = unprivileged() else {
        eprintln!("SKIPPED: the worker cannot run as another user here");
        return;
    };
    let (emu, c) = crate::support::emulator();
    let (env, agent) = crate::support::self_hosted(&c);
    emu.set_script(
        Script::new()
            .agent_tool("write", json!({"file_path": "a.txt", "content": "one\n"}))
            .agent_tool(
                "edit",
                json!({"file_path": "a.txt", "old_string": "one", "new_string": "two"}),
            )
            .agent_tool("read", json!({"file_path": "a.txt"}))
            .agent_tool("glob", json!({"pattern": "*.txt"}))
            .agent_tool("grep", json!({"pattern": "two"}))
            .say("done"),
    );
    let session = crate::support::session_sent_go(&c, &agent, env.as_str());
    let workdir = open_dir("worker-files");
    let o = Command::new(prefix[0])
        .args(&prefix[1..])
        .arg(BIN)
        .args([
            "worker",
            "--environment",
            env.as_str(),
            "--once",
            "--workdir",
        ])
        .arg(&workdir)
        .env("ANTHROPIC_ENVIRONMENT_KEY", secret("files-envkey"))
        .env("ANTHROPIC_BASE_URL", emu.base_url())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let evs = events(&c, &session);
    let results: Vec<&Value> = evs
        .iter()
        .filter(|e| e["type"] == "user.tool_result")
        .collect();
    assert_eq!(results.len(), 5, "{evs:?}");
    for r in &results {
        assert_ne!(r["is_error"], json!(true), "{r}");
    }
    assert!(results[2]["content"].to_string().contains("two"), "{evs:?}");
}

/// The API key is not held by the worker, unless it is the variable named for the environment
/// key.
#[test]
fn the_worker_takes_its_key_from_any_variable_named() {
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    let o = Command::new(BIN)
        .args(["worker", "--environment", "env_missing", "--once"])
        .args(["--environment-key-env", "ANTHROPIC_API_KEY"])
        .env("ANTHROPIC_API_KEY", secret("named"))
        .env_remove("ANTHROPIC_ENVIRONMENT_KEY")
        .env("ANTHROPIC_BASE_URL", emu.base_url())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    // the key was found: the poll was sent, and refused for the missing environment
    assert!(!stderr.contains("no environment key"), "{stderr}");
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("env_missing"), "{stderr}");
}
