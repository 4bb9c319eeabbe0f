//! What the command-line tool writes: a write error on stdout is an error (exit 1; 141 for a
//! closed pipe), the deadline error names the deadline given, one clear line per failure.

use crate::support::{cli, run, setup, stderr, temp, BIN};
use managed_agents_emulator::{Emulator, Script, Step};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Runs the tool with its stdout on `/dev/full`, where every write fails (ENOSPC).
fn to_full(emu: &Emulator, args: &[&str]) -> Output {
    crate::support::command(emu)
        .args(args)
        .stdout(
            std::fs::File::options()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_write_error_on_stdout_is_an_error() {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(Script::new().say("hi"));
    let session = c
        .sessions()
        .create(&managed_agents::types::SessionCreateParams::new(
            agent.as_str(),
            env.as_str(),
        ))
        .unwrap();
    c.run(&session.id).message("go").until_idle().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["agents", "list"],
        vec!["sessions", "events", &session.id],
        vec!["completions", "bash"],
        vec!["agents", "--help"],
        crate::support::run_args(&agent, &env, &["--json"]),
    ];
    for args in cases {
        let o = to_full(&emu, &args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains("stdout"),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn the_deadline_error_names_the_deadline_given() {
    let (emu, _c, agent, env) = setup(false);
    emu.set_script(Script::new().step(Step::Pause(Duration::from_secs(5))));
    let o = run(&emu, &agent, &env, &["--deadline", "1s"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("--deadline 1s"), "{err}");
    assert!(!err.contains("600s"), "{err}");
    // one line: the error, with the session to look at
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains("sesn_"), "{err}");
}

#[test]
fn a_failed_run_prints_one_error_line_and_no_summary() {
    let (emu, _c, _agent, env) = setup(false);
    let o = run(&emu, "agent_missing", &env, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains("404"), "{err}");
    assert!(!err.contains("0 events"), "{err}");
}

#[test]
fn skills_create_sends_the_title_as_display_name() {
    let (emu, _c, _agent, _env) = setup(false);
    let top = temp("skillname");
    let dir = top.join("my-skill");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("SKILL.md"), "---\nname: my-skill\n---\nDo it.").unwrap();
    let o = cli(
        &emu,
        &["skills", "create", dir.to_str().unwrap(), "--title", "Mine"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let skill: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(skill["display_name"], "Mine", "{skill}");
}

#[test]
fn a_flood_of_junk_frames_is_a_few_warnings_not_one_each() {
    use crate::support::{respond_list, sse_head, TestServer};
    use std::io::Write;
    let server = TestServer::start(|_, req, conn| {
        if req.target.contains("/stream") {
            sse_head(conn);
            let mut junk = String::new();
            for i in 0..2000 {
                junk.push_str(&format!("event: message\ndata: not json {i}\n\n"));
            }
            let _ = conn.write_all(junk.as_bytes());
            // then quiet, the stream open
            std::thread::sleep(Duration::from_secs(20));
        } else {
            respond_list(conn, &req.target, &[]);
        }
    });
    let mut child = Command::new(BIN)
        .args(["sessions", "events", "sesn_011junk", "--follow"])
        .env("ANTHROPIC_API_KEY", "test")
        .env("ANTHROPIC_BASE_URL", &server.url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the stderr lines, read as they come, until 2000 frames had time to be read
    let err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        std::io::BufReader::new(err)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    std::thread::sleep(Duration::from_secs(3));
    let _ = child.kill();
    let _ = child.wait();
    let lines = reader.join().unwrap();
    let warnings = lines.iter().filter(|l| l.contains("WARN")).count();
    assert!(warnings >= 1, "{lines:?}");
    assert!(
        warnings <= 10,
        "{warnings} warnings: {:?}",
        &lines[..12.min(lines.len())]
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("not shown") || l.contains("at most")),
        "{lines:?}"
    );
}
