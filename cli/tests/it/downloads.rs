//! Downloads at the edges: a name as long as a file system allows, Ctrl-C in the middle, a
//! closed pipe, a folder that does not exist yet, and a server's name that would be hidden.

use crate::support::TestServer;
use crate::support::{cli_in, setup, stderr, temp, BIN};
use managed_agents::{types::*, Client};
use managed_agents_emulator::{Emulator, Script};
use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The id of a file the agent wrote in a session, named `name`.
fn output(
    emu: &Emulator,
    c: &Client,
    agent: &str,
    env: &str,
    name: &str,
    content: &[u8],
) -> String {
    emu.set_script(Script::new().write_file(name, content.to_vec()));
    let session = c
        .sessions()
        .create(&SessionCreateParams::new(agent, env))
        .unwrap();
    c.run(&session.id).message("go").until_idle().unwrap();
    c.files()
        .list(&FileListParams::default().scope_id(session.id.as_str()))
        .unwrap()
        .data[0]
        .id
        .clone()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_name_of_255_bytes_downloads() {
    let (emu, c, agent, env) = setup(false);
    let name = format!("{}.txt", "n".repeat(251));
    assert_eq!(name.len(), 255);
    let id = output(&emu, &c, &agent, &env, &name, b"long");
    let dir = temp("longname");
    let o = cli_in(&emu, &dir, &["files", "download", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(dir.join(&name)).unwrap(), "long");
    assert_eq!(names(&dir), [name]);
}

#[test]
fn a_server_name_that_would_be_hidden_is_not_saved_hidden() {
    let (emu, c, agent, env) = setup(false);
    let id = output(&emu, &c, &agent, &env, ".bashrc", b"evil");
    let dir = temp("dotfile");
    let o = cli_in(&emu, &dir, &["files", "download", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got = names(&dir);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(!got[0].starts_with('.'), "{got:?}");
    assert!(got[0].contains("bashrc"), "{got:?}");
    // run --download-outputs too
    let out = dir.join("outs");
    emu.set_script(Script::new().write_file(".profile", "x"));
    let o = cli_in(
        &emu,
        &dir,
        &crate::support::run_args(&agent, &env, &["--download-outputs", out.to_str().unwrap()]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got = names(&out);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(!got[0].starts_with('.'), "{got:?}");
}

#[test]
fn out_naming_a_folder_that_does_not_exist_yet_saves_inside_it() {
    let (emu, c, agent, env) = setup(false);
    let id = output(&emu, &c, &agent, &env, "notes.txt", b"hello");
    let dir = temp("newdir");
    let o = cli_in(&emu, &dir, &["files", "download", &id, "--out", "fresh/"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(dir.join("fresh").is_dir(), "{:?}", names(&dir));
    assert_eq!(
        std::fs::read_to_string(dir.join("fresh/notes.txt")).unwrap(),
        "hello"
    );
}

#[test]
fn out_dash_to_a_closed_pipe_exits_141() {
    let (emu, c, agent, env) = setup(false);
    let id = output(&emu, &c, &agent, &env, "big.bin", &vec![b'x'; 4 << 20]);
    let mut child = crate::support::command(&emu)
        .args(["files", "download", &id, "--out", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the reader goes away at once
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(141), "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn ctrl_c_in_the_middle_of_a_download_leaves_no_temporary_file() {
    // a body of 10 MB that comes slowly
    let server = TestServer::start(|_, req, conn| {
        if req.target.contains("/content") {
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 10000000\r\n\r\n"
            );
            for _ in 0..1000 {
                if conn.write_all(&[b'x'; 1000]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        } else {
            let b = json!({"id": "file_1", "type": "file", "filename": "slow.bin",
                "mime_type": "application/octet-stream", "size_bytes": 10000000,
                "created_at": "2026-01-01T00:00:00Z", "downloadable": true})
            .to_string();
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{b}",
                b.len()
            );
        }
    });
    let dir = temp("ctrlcdl");
    let mut child = Command::new(BIN)
        .args(["files", "download", "file_1"])
        .current_dir(&dir)
        .env("ANTHROPIC_API_KEY", "test")
        .env("ANTHROPIC_BASE_URL", &server.url)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while names(&dir).is_empty() && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(names(&dir).len(), 1, "the download did not start");
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(
        names(&dir),
        Vec::<String>::new(),
        "a temporary file was left"
    );
}
