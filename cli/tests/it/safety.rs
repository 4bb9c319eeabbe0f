//! Files and tools the command-line tool must keep safe: downloads confined to the folder asked
//! for, tool commands without the API key, fed from their own thread, killed with their
//! children at their time limit, at the deadline and on Ctrl-C.

use crate::support::TestServer;
use crate::support::{
    cli, cli_in, gone_soon, lingering, run, setup, stderr, temp, wait_for_pid, BIN,
};
use managed_agents::{types::*, Client};
use managed_agents_emulator::{Emulator, Script};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A file the agent wrote in a session (only those download, as in the API), with the name
/// the agent chose for it.
fn output(
    emu: &Emulator,
    c: &Client,
    (agent, env): (&str, &str),
    name: &str,
    content: &str,
) -> String {
    emu.set_script(Script::new().write_file(name, content));
    let session = c
        .sessions()
        .create(&SessionCreateParams::new(agent, env))
        .unwrap();
    c.run(&session.id).message("go").until_idle().unwrap();
    let outputs = c
        .files()
        .list(&FileListParams::default().scope_id(session.id.as_str()))
        .unwrap();
    assert_eq!(outputs.data.len(), 1);
    outputs.data[0].id.clone()
}

#[test]
fn files_download_stays_in_the_folder_never_overwrites_and_never_follows_links() {
    let (emu, c, agent, env) = setup(false);
    let upload =
        |_: &Client, name: &str, content: &str| output(&emu, &c, (&agent, &env), name, content);
    let top = temp("confine");
    let work = top.join("work");
    std::fs::create_dir_all(&work).unwrap();

    // a name that climbs out of the folder: a generated name inside it
    let id = upload(&c, "../escape.txt", "evil");
    let o = cli_in(&emu, &work, &["files", "download", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!top.join("escape.txt").exists(), "wrote outside the folder");
    let inside: Vec<_> = std::fs::read_dir(&work).unwrap().collect();
    assert_eq!(inside.len(), 1, "one file in the folder");

    // an absolute name: the same
    let id = upload(&c, &top.join("abs.txt").display().to_string(), "evil");
    let o = cli_in(&emu, &work, &["files", "download", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!top.join("abs.txt").exists(), "wrote to an absolute path");

    // an existing file is not overwritten without --force
    std::fs::write(work.join("settings.txt"), "mine").unwrap();
    let id = upload(&c, "settings.txt", "theirs");
    let o = cli_in(&emu, &work, &["files", "download", &id]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(work.join("settings.txt")).unwrap(),
        "mine"
    );
    let o = cli_in(&emu, &work, &["files", "download", &id, "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(work.join("settings.txt")).unwrap(),
        "theirs"
    );

    // a symlink is replaced, never written through
    std::fs::write(top.join("target.txt"), "precious").unwrap();
    std::os::unix::fs::symlink(top.join("target.txt"), work.join("link.txt")).unwrap();
    let id = upload(&c, "link.txt", "evil");
    let o = cli_in(&emu, &work, &["files", "download", &id]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = cli_in(&emu, &work, &["files", "download", &id, "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(top.join("target.txt")).unwrap(),
        "precious"
    );
    assert_eq!(
        std::fs::read_to_string(work.join("link.txt")).unwrap(),
        "evil"
    );
}

#[test]
fn a_download_cut_short_leaves_the_existing_file_intact() {
    // metadata, then a body that promises 100 bytes and sends 5
    let server = TestServer::start(|_, req, conn| {
        let (status, body, len) = if req.target.contains("/content") {
            ("200 OK", "short".to_string(), 100)
        } else {
            let b = json!({"id": "file_1", "type": "file", "filename": "keep.txt",
                "mime_type": "text/plain", "size_bytes": 100, "created_at": "2026-01-01T00:00:00Z",
                "downloadable": true})
            .to_string();
            let n = b.len();
            ("200 OK", b, n)
        };
        let _ = write!(
            conn,
            "HTTP/1.1 {status}\r\ncontent-type: application/octet-stream\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n{body}"
        );
    });
    let dir = temp("cut");
    std::fs::write(dir.join("keep.txt"), "the old content").unwrap();
    let o = Command::new(BIN)
        .args(["files", "download", "file_1", "--force"])
        .current_dir(&dir)
        .env("ANTHROPIC_API_KEY", "test")
        .env("ANTHROPIC_BASE_URL", &server.url)
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("keep.txt")).unwrap(),
        "the old content"
    );
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "a temporary file was left behind");
}

#[test]
fn run_download_outputs_keeps_files_of_the_same_name_apart_and_inside() {
    let (emu, _c, agent, env) = setup(false);
    emu.set_script(
        Script::new()
            .write_file("out.txt", "first")
            .write_file("out.txt", "second")
            .write_file("../up.txt", "evil"),
    );
    let top = temp("outputs");
    let dir = top.join("out");
    let o = run(
        &emu,
        &agent,
        &env,
        &["--download-outputs", dir.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!top.join("up.txt").exists());
    let mut contents: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    contents.sort();
    assert_eq!(contents, ["evil", "first", "second"]);
}

/// The text of every tool result the session got, in order.
fn tool_results(c: &Client) -> Vec<(String, bool)> {
    let sessions = c.sessions().list(&Default::default()).unwrap();
    let log: Vec<SessionEvent> = c
        .sessions()
        .events()
        .list(&sessions.data[0].id, &Default::default())
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    log.iter()
        .filter_map(|e| match e {
            SessionEvent::UserCustomToolResult(r) => {
                let v = serde_json::to_value(r).unwrap();
                Some((
                    v["content"][0]["text"].as_str().unwrap_or("").to_string(),
                    v["is_error"] == json!(true),
                ))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn tool_commands_never_see_the_api_key() {
    let (emu, c, agent, env) = setup(true);
    emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
    let o = Command::new(BIN)
        .args(crate::support::run_args(
            &agent,
            &env,
            &["--tool", "shout=env"],
        ))
        .env("ANTHROPIC_API_KEY", "sk-ant-secret-key")
        .env("ANTHROPIC_AUTH_TOKEN", "secret-token")
        .env("ANTHROPIC_BASE_URL", emu.base_url())
        .env("KEEP_ME", "visible")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let results = tool_results(&c);
    assert_eq!(results.len(), 1);
    let text = &results[0].0;
    assert!(text.contains("KEEP_ME=visible"), "{text}");
    for key in ["sk-ant-secret-key", "secret-token"] {
        assert!(!text.contains(key), "the key reached the tool: {text}");
    }
}

#[test]
fn a_tool_reads_a_large_input_while_writing_its_output() {
    let (emu, c, agent, env) = setup(true);
    let big = "x".repeat(438 * 1024);
    emu.set_script(
        Script::new()
            .call_tool("shout", json!({"text": big}))
            .say("ok"),
    );
    let t = Instant::now();
    let o = run(
        &emu,
        &agent,
        &env,
        &["--tool", "shout=cat", "--deadline", "60s"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        t.elapsed() < Duration::from_secs(50),
        "it waited for the deadline"
    );
    // the result holds the start of the output; the whole of it is in the file it names
    let results = tool_results(&c);
    let (shown, note) = results[0].0.split_once('\n').unwrap();
    assert!(shown.starts_with("{\"text\":\"xxx"), "{shown:.40}");
    assert_eq!(shown.len(), 30_000);
    let path = note
        .trim_end_matches(']')
        .rsplit_once("saved whole in ")
        .unwrap()
        .1;
    let whole = std::fs::read_to_string(path).unwrap();
    let _ = std::fs::remove_file(path);
    let v: Value = serde_json::from_str(&whole).unwrap();
    assert_eq!(v["text"].as_str().unwrap().len(), big.len());
}

#[test]
fn a_tool_and_its_children_are_killed_at_the_time_limit_and_at_the_deadline() {
    let (emu, c, agent, env) = setup(true);
    emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
    let dir = temp("limit");

    // the tool's own time limit: an error result, the grandchild gone
    let pidfile = dir.join("limit.pid");
    let tool = format!("shout={}", lingering(&pidfile));
    let o = run(
        &emu,
        &agent,
        &env,
        &["--tool", &tool, "--tool-timeout", "1s", "--deadline", "60s"],
    );
    let pid = wait_for_pid(&pidfile);
    assert!(gone_soon(pid), "the tool's child outlived its time limit");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let results = tool_results(&c);
    assert!(results[0].1, "a timed out tool is an error: {results:?}");
    assert!(results[0].0.contains("time"), "{results:?}");

    // the run's deadline
    let pidfile = dir.join("deadline.pid");
    let tool = format!("shout={}", lingering(&pidfile));
    let o = run(&emu, &agent, &env, &["--tool", &tool, "--deadline", "2s"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let pid = wait_for_pid(&pidfile);
    assert!(gone_soon(pid), "the tool's child outlived the deadline");
}

#[test]
fn ctrl_c_on_a_terminal_kills_the_tools_and_is_not_a_success() {
    let (emu, _c, agent, env) = setup(true);
    emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
    let dir = temp("ctrlc");
    let pidfile = dir.join("tool.pid");
    let tasks = dir.join("tasks.jsonl");
    std::fs::write(&tasks, "{\"id\": \"t1\", \"message\": \"go\"}\n").unwrap();
    let out = dir.join("results.jsonl");
    let tool = format!("shout={}", lingering(&pidfile));
    // a terminal sends SIGINT to its whole foreground process group
    let mut child = {
        use std::os::unix::process::CommandExt;
        crate::support::command(&emu)
            .args(crate::support::batch_args(
                &tasks,
                &out,
                &agent,
                &env,
                &["--tool", &tool],
            ))
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap()
    };
    let pid = wait_for_pid(&pidfile);
    let group = format!("-{}", child.id());
    // twice: the first lets running tasks finish, the second quits
    Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(gone_soon(pid), "the tool's child outlived Ctrl-C");
    // the task is not recorded as done: a resume runs it
    let done = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(
        !done
            .lines()
            .any(|l| l.contains("\"end_turn\"") && l.contains("null")),
        "{done}"
    );
}

#[test]
fn a_tool_killed_by_a_signal_fails_its_task() {
    let (emu, _c, agent, env) = setup(true);
    emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
    let dir = temp("signal");
    let tasks = dir.join("tasks.jsonl");
    std::fs::write(&tasks, "{\"id\": \"t1\", \"message\": \"go\"}\n").unwrap();
    let out = dir.join("results.jsonl");
    let args = crate::support::batch_args(
        &tasks,
        &out,
        &agent,
        &env,
        &["--tool", "shout=kill -KILL $$"],
    );
    let o = cli(&emu, &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let line: Value = serde_json::from_str(std::fs::read_to_string(&out).unwrap().trim()).unwrap();
    assert!(
        line["error"].as_str().unwrap_or("").contains("signal"),
        "{line}"
    );
    // not done: the next run tries it again
    let o = cli(&emu, &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 2);
}

#[test]
fn ctrl_c_during_run_kills_the_tool_and_its_children() {
    let (emu, _c, agent, env) = setup(true);
    emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
    let dir = temp("runctrlc");
    let pidfile = dir.join("tool.pid");
    let tool = format!("shout={}", lingering(&pidfile));
    let mut child = {
        use std::os::unix::process::CommandExt;
        crate::support::command(&emu)
            .args(crate::support::run_args(&agent, &env, &["--tool", &tool]))
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap()
    };
    let pid = wait_for_pid(&pidfile);
    Command::new("kill")
        .args(["-INT", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert!(gone_soon(pid), "the tool's child outlived Ctrl-C");
}

#[test]
fn download_into_a_folder_or_to_stdout_and_a_message_from_stdin() {
    let (emu, c, agent, env) = setup(false);
    let id = output(&emu, &c, (&agent, &env), "notes.txt", "hello");
    let dir = temp("outdir");
    let o = cli(
        &emu,
        &["files", "download", &id, "--out", dir.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "hello"
    );
    let o = cli(&emu, &["files", "download", &id, "--out", "-"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hello");

    emu.set_script(Script::new().step(managed_agents_emulator::Step::Echo));
    let mut child = crate::support::command(&emu)
        .args([
            "run",
            "--agent",
            &agent,
            "--environment",
            &env,
            "--message-file",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from stdin")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "You said: from stdin\n");
}
