//! Every resource from the shell: memory stores and memories, vault credentials, archived
//! items, session resources and threads, skill folders on the wire, definitions from stdin,
//! the emulator's script and faults from files, batch progress lines.

use crate::support::TestServer;
use crate::support::{cli, setup, temp, BIN};
use managed_agents_emulator::Emulator;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

fn ok(o: Output) -> Value {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn def(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn memory_stores_and_memories() {
    let (emu, _c, _a, _e) = setup(false);
    let dir = temp("memory");
    let store = ok(cli(
        &emu,
        &[
            "memory-stores",
            "create",
            &def(&dir, "s.yaml", "name: notes\n"),
        ],
    ));
    let sid = store["id"].as_str().unwrap();
    let mem = ok(cli(
        &emu,
        &[
            "memory-stores",
            "memories",
            "create",
            sid,
            &def(&dir, "m.yaml", "path: /a.md\ncontent: hello\n"),
        ],
    ));
    let mid = mem["id"].as_str().unwrap();
    let got = ok(cli(&emu, &["memory-stores", "memories", "get", sid, mid]));
    assert_eq!(got["path"], "/a.md");
    let list = ok(cli(&emu, &["memory-stores", "memories", "list", sid]));
    assert_eq!(list.as_array().unwrap().len(), 1);
    ok(cli(
        &emu,
        &["memory-stores", "memories", "delete", sid, mid],
    ));
    ok(cli(&emu, &["memory-stores", "archive", sid]));
    let list = ok(cli(&emu, &["memory-stores", "list"]));
    assert_eq!(list.as_array().unwrap().len(), 0);
    let list = ok(cli(&emu, &["memory-stores", "list", "--include-archived"]));
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[test]
fn vault_credentials_and_archived_agents() {
    let (emu, _c, agent, _e) = setup(false);
    let dir = temp("vault");
    let vault = ok(cli(
        &emu,
        &[
            "vaults",
            "create",
            &def(&dir, "v.yaml", "display_name: ci\n"),
        ],
    ));
    let vid = vault["id"].as_str().unwrap();
    let cred = ok(cli(
        &emu,
        &[
            "vaults",
            "credentials",
            "create",
            vid,
            &def(
                &dir,
                "c.yaml",
                "auth: {type: static_bearer, mcp_server_url: 'https://mcp.example.com', token: s3cret}\n",
            ),
        ],
    ));
    assert!(!cred.to_string().contains("s3cret"));
    let cid = cred["id"].as_str().unwrap();
    let list = ok(cli(&emu, &["vaults", "credentials", "list", vid]));
    assert_eq!(list.as_array().unwrap().len(), 1);
    ok(cli(&emu, &["vaults", "credentials", "get", vid, cid]));

    ok(cli(&emu, &["agents", "archive", &agent]));
    assert_eq!(
        ok(cli(&emu, &["agents", "list"])).as_array().unwrap().len(),
        0
    );
    assert_eq!(
        ok(cli(&emu, &["agents", "list", "--include-archived"]))
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn session_resources_and_threads_and_definitions_from_stdin() {
    let (emu, _c, agent, env) = setup(false);
    let mut child = crate::support::command(&emu)
        .args(["sessions", "create", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    write!(
        child.stdin.take().unwrap(),
        "agent: {agent}\nenvironment_id: {env}\n"
    )
    .unwrap();
    let session = ok(child.wait_with_output().unwrap());
    let sid = session["id"].as_str().unwrap();

    let dir = temp("sres");
    let f = dir.join("data.csv");
    std::fs::write(&f, "a,b\n").unwrap();
    let file = ok(cli(&emu, &["files", "upload", f.to_str().unwrap()]));
    let res = def(
        &dir,
        "r.yaml",
        &format!(
            "type: file\nfile_id: {}\nmount_path: /data/data.csv\n",
            file["id"].as_str().unwrap()
        ),
    );
    let added = ok(cli(&emu, &["sessions", "resources", "add", sid, &res]));
    let list = ok(cli(&emu, &["sessions", "resources", "list", sid]));
    assert_eq!(list.as_array().unwrap().len(), 1);
    ok(cli(
        &emu,
        &[
            "sessions",
            "resources",
            "delete",
            sid,
            added["id"].as_str().unwrap(),
        ],
    ));
    let threads = ok(cli(&emu, &["sessions", "threads", "list", sid]));
    assert!(threads.is_array());
}

#[test]
fn a_skill_folder_is_uploaded_with_its_paths() {
    let server = TestServer::start(|_, _, conn| {
        // the request is what is checked; the answer is an error the tool reports
        let body = r#"{"type": "error", "error": {"type": "invalid_request_error", "message": "checked"}}"#;
        let _ = write!(
            conn,
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    let top = temp("skill");
    let dir = top.join("my-skill");
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    std::fs::write(dir.join("SKILL.md"), "---\nname: my-skill\n---\nDo it.").unwrap();
    std::fs::write(dir.join("scripts/run.sh"), "echo hi").unwrap();
    let o = Command::new(BIN)
        .args(["skills", "create", dir.to_str().unwrap(), "--title", "Mine"])
        .env("ANTHROPIC_API_KEY", "test")
        .env("ANTHROPIC_BASE_URL", &server.url)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("checked"));
    let reqs = server.requests.lock().unwrap();
    let body = String::from_utf8_lossy(&reqs[0].body);
    assert!(reqs[0].target.starts_with("/v1/skills"));
    assert!(body.contains("name=\"display_name\""), "{body}");
    assert!(body.contains("filename=\"my-skill/SKILL.md\""), "{body}");
    assert!(
        body.contains("filename=\"my-skill/scripts/run.sh\""),
        "{body}"
    );

    // a folder without SKILL.md is refused before any request
    let empty = temp("noskill");
    let o = Command::new(BIN)
        .args(["skills", "create", empty.to_str().unwrap()])
        .env("ANTHROPIC_API_KEY", "test")
        .env("ANTHROPIC_BASE_URL", &server.url)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// Starts `managed-agents emulator ARGS` and returns it with its URL.
fn emulator(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(BIN)
        .args(["emulator", "--strict"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("emulator listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    (child, url)
}

#[test]
fn the_emulator_takes_a_script_and_faults_from_files() {
    let dir = temp("emufiles");
    let script = def(
        &dir,
        "script.yaml",
        "- {say: first}\n- {pause: 10ms}\n- {say: second}\n- terminate\n",
    );
    let faults = def(
        &dir,
        "faults.json",
        r#"{"fail_next": 1, "fail_status": 529}"#,
    );
    let (mut child, url) = emulator(&["--script", &script, "--faults", &faults]);
    let with = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("ANTHROPIC_API_KEY", "test")
            .env("ANTHROPIC_BASE_URL", &url)
            .output()
            .unwrap()
    };
    // the 529 is retried
    let env = ok(with(&[
        "environments",
        "create",
        &def(&dir, "e.yaml", "name: e\n"),
    ]));
    let agent = ok(with(&[
        "agents",
        "create",
        &def(&dir, "a.yaml", "name: a\nmodel: claude-opus-4-5\n"),
    ]));
    let o = with(&[
        "run",
        "--agent",
        agent["id"].as_str().unwrap(),
        "--environment",
        env["id"].as_str().unwrap(),
        "--message",
        "go",
    ]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "first\nsecond\n");

    let bad = def(&dir, "bad.yaml", "- {sya: hi}\n");
    let o = Command::new(BIN)
        .args(["emulator", "--script", &bad])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("step 1"));
}

/// The command reads script and faults files with the library's parsers: every step and fault
/// the library knows is accepted, and a bad file is a usage error naming the file and the cause.
#[test]
fn the_emulators_files_are_read_as_the_library_reads_them() {
    let dir = temp("emuparse");
    let script = def(
        &dir,
        "script.json",
        r#"[{"agent_tool": {"name": "bash", "input": {"command": "ls"}}}, {"pause_ms": 5}]"#,
    );
    let faults = def(
        &dir,
        "faults.yaml",
        "close_every: 50
trickle: 1ms
stall_ms: 1
",
    );
    let (mut child, url) = emulator(&["--script", &script, "--faults", &faults]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    for (name, text, cause) in [
        ("s.yaml", "- {call_tool: {name: t, inptu: {}}}\n", "inptu"),
        ("s.json", r#"[{"pause": "soon"}]"#, "pause"),
        (
            "s2.yaml",
            "{steps: [], more: 1}\n",
            "a script is a list of steps",
        ),
        ("f.json", r#"{"trickle": "soon"}"#, "trickle"),
        ("f.yaml", "explode: 1\n", "explode"),
        ("f2.yaml", "fail_next: [\n", "f2.yaml"),
    ] {
        let file = def(&dir, name, text);
        let flag = if name.starts_with('s') {
            "--script"
        } else {
            "--faults"
        };
        let o = Command::new(BIN)
            .args(["emulator", flag, &file])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(name) && err.contains(cause), "{name}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn batch_progress_is_plain_lines_when_piped_and_nothing_when_quiet() {
    let (emu, _c, agent, env) = setup(false);
    let dir = temp("progress");
    let tasks = def(
        &dir,
        "tasks.jsonl",
        "{\"id\": \"t1\", \"message\": \"a\"}\n{\"id\": \"t2\", \"message\": \"b\"}\n",
    );
    let args = |out: &str, quiet: bool| {
        let mut a = vec![
            "batch".to_string(),
            tasks.clone(),
            "--agent".into(),
            agent.clone(),
            "--environment".into(),
            env.clone(),
            "--out".into(),
            dir.join(out).display().to_string(),
        ];
        if quiet {
            a.push("--quiet".into());
        }
        a
    };
    let a = args("r1.jsonl", false);
    let o = cli(&emu, &a.iter().map(String::as_str).collect::<Vec<_>>());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("[1/2] task t"), "{err}");
    assert!(err.contains("[2/2] task t"), "{err}");
    let a = args("r2.jsonl", true);
    let o = cli(&emu, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
}

#[test]
fn deployments_and_skills_list_as_json_and_a_missing_one_fails_cleanly() {
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    for args in [vec!["deployments", "list"], vec!["skills", "list"]] {
        let o = cli(&emu, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        let listed: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(listed.is_array(), "{args:?}: {listed}");
    }
    let o = cli(&emu, &["deployments", "get", "dpl_missing"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.starts_with("error: ") && err.contains("404"), "{err}");
}

#[test]
fn batch_progress_on_a_terminal_is_a_live_bar() {
    // `script` gives the command a terminal, as a user's shell does
    let (emu, _c, agent, env) = setup(false);
    let dir = temp("bar");
    let tasks = def(
        &dir,
        "tasks.jsonl",
        "{\"id\": \"t1\", \"message\": \"a\"}\n{\"id\": \"t2\", \"message\": \"b\"}\n",
    );
    let out = dir.join("r.jsonl");
    let command = format!(
        "'{BIN}' batch '{tasks}' --agent {agent} --environment {env} --out '{}'",
        out.display()
    );
    let o = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("ANTHROPIC_API_KEY", "test")
        .env("ANTHROPIC_BASE_URL", emu.base_url())
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{screen}");
    for want in ["failed", "running", "ETA", "2/2"] {
        assert!(screen.contains(want), "{want:?} not in {screen:?}");
    }
    assert!(
        !screen.contains("[1/2] task"),
        "plain lines on a terminal: {screen:?}"
    );
}

#[test]
fn the_emulators_script_file_delegates_to_a_child_thread() {
    let dir = temp("emudelegate");
    let script = def(
        &dir,
        "script.yaml",
        "- {say: asking}\n- delegate: {agent: Helper, message: do it, script: [{say: done by the helper}]}\n- {say: all done}\n",
    );
    let (mut child, url) = emulator(&["--script", &script]);
    let with = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("ANTHROPIC_API_KEY", "test")
            .env("ANTHROPIC_BASE_URL", &url)
            .output()
            .unwrap()
    };
    let env = ok(with(&[
        "environments",
        "create",
        &def(&dir, "e.yaml", "name: e\n"),
    ]));
    let helper = ok(with(&[
        "agents",
        "create",
        &def(&dir, "h.yaml", "name: Helper\nmodel: claude-haiku-4-5\n"),
    ]));
    let lead = format!(
        "name: Lead\nmodel: claude-opus-4-5\nmultiagent: {{type: coordinator, agents: [{}]}}\n",
        helper["id"].as_str().unwrap()
    );
    let lead = ok(with(&["agents", "create", &def(&dir, "l.yaml", &lead)]));
    let o = with(&[
        "run",
        "--agent",
        lead["id"].as_str().unwrap(),
        "--environment",
        env["id"].as_str().unwrap(),
        "--message",
        "go",
    ]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // the primary thread's messages; the helper's stay on its own thread
    assert_eq!(String::from_utf8_lossy(&o.stdout), "asking\nall done\n");

    let bad = def(
        &dir,
        "bad.yaml",
        "- delegate: {agent: Helper, message: m, script: [dance]}\n",
    );
    let o = Command::new(BIN)
        .args(["emulator", "--script", &bad])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("delegate.script step 1") && err.contains("dance"),
        "{err}"
    );
}
