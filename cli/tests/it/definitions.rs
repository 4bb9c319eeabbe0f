//! Definitions and messages as a user reads them: a key given twice, an unknown kind and a
//! misspelled field are errors that say what is wrong (with the name meant), in words a user of
//! the command line can act on, one line each.

use crate::support::{cli, setup, stderr, temp};
use managed_agents_emulator::Emulator;
use std::process::{Command, Output};

/// `GROUP create FILE` with `text` in `dir/name`: exit 2 and one error line with every `want`.
fn refused(emu: &Emulator, group: &str, name: &str, text: &str, want: &[&str]) {
    let dir = temp(&format!("def-{}", name.replace('.', "-")));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let o = cli(emu, &[group, "create", path.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{name}: {err}");
    assert_eq!(err.lines().count(), 1, "{name}: {err}");
    assert!(err.starts_with("error: "), "{name}: {err}");
    for w in want {
        assert!(err.contains(w), "{name}: {w:?} not in {err}");
    }
    // no Rust type name reaches the user
    assert!(!err.contains("Params"), "{name}: {err}");
}

#[test]
fn a_key_given_twice_is_an_error_in_yaml_and_json() {
    let (emu, c, _agent, _env) = setup(false);
    refused(
        &emu,
        "agents",
        "twice.yaml",
        "name: A\nmodel: claude-opus-4-5\nname: B\n",
        &["twice.yaml:3:", "duplicate", "name"],
    );
    refused(
        &emu,
        "agents",
        "twice.json",
        "{\"name\": \"A\",\n \"model\": \"claude-opus-4-5\",\n \"name\": \"B\"}\n",
        &["twice.json:3:", "duplicate", "name"],
    );
    // nested too
    refused(
        &emu,
        "environments",
        "nested.yaml",
        "name: e\nconfig:\n  type: cloud\n  type: self_hosted\n",
        &["nested.yaml:4:", "duplicate", "type"],
    );
    assert_eq!(
        c.agents().list(&Default::default()).unwrap().data.len(),
        1,
        "an agent was created"
    );
}

#[test]
fn an_unknown_kind_and_a_misspelled_field_say_what_was_meant() {
    let (emu, _c, _agent, _env) = setup(false);
    refused(
        &emu,
        "environments",
        "clowd.yaml",
        "name: e\nconfig: {type: clowd}\n",
        &[
            "clowd.yaml:2:",
            "config.type",
            "clowd",
            "did you mean cloud",
        ],
    );
    refused(
        &emu,
        "agents",
        "modle.yaml",
        "name: A\nmodle: claude-opus-4-5\n",
        &[
            "modle.yaml:2:",
            "unknown field `modle`",
            "did you mean `model`",
        ],
    );
    refused(
        &emu,
        "agents",
        "sytem.yaml",
        "name: A\nmodel: claude-opus-4-5\nsytem: hi\n",
        &[
            "sytem.yaml:3:",
            "unknown field `sytem`",
            "did you mean `system`",
        ],
    );
    // a known kind that does not read names the kind in words, not a Rust type
    refused(
        &emu,
        "environments",
        "cloud.yaml",
        "name: e\nconfig: {type: cloud, packages: 7}\n",
        &["cloud.yaml:", "field `config", "type \"cloud\""],
    );
}

#[test]
fn a_task_line_that_is_not_json_says_so() {
    let (emu, _c, agent, env) = setup(false);
    let dir = temp("notjson");
    let tasks = dir.join("tasks.jsonl");
    std::fs::write(&tasks, "{not json\n").unwrap();
    let out = dir.join("results.jsonl");
    let o = cli(
        &emu,
        &crate::support::batch_args(&tasks, &out, &agent, &env, &[]),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("tasks.jsonl:1: not valid JSON"), "{err}");
    assert!(!err.contains('?'), "{err}");
}

fn with_base_url(url: &str, args: &[&str]) -> Output {
    Command::new(crate::support::BIN)
        .args(args)
        .env("ANTHROPIC_API_KEY", "test")
        .env("ANTHROPIC_BASE_URL", url)
        .output()
        .unwrap()
}

#[test]
fn base_urls_are_read_as_urls_and_refusals_speak_of_the_cli() {
    let (emu, _c, _agent, _env) = setup(false);
    // a scheme in capitals is the same scheme
    let upper = emu.base_url().replacen("http://", "HTTP://", 1);
    let o = with_base_url(&upper, &["agents", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // plain http to another host: what to do, in the CLI's terms
    let o = with_base_url("http://example.com", &["agents", "list"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("ANTHROPIC_BASE_URL"), "{err}");
    assert!(!err.contains("allow_plain_http"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_body_over_the_limit_names_no_library_method() {
    use crate::support::TestServer;
    use std::io::Write;
    // a JSON answer of 70 MB: over the 64 MiB a client reads
    let server = TestServer::start(|_, _, conn| {
        let len = 70_000_000usize;
        let _ = write!(
            conn,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n"
        );
        let chunk = vec![b' '; 1 << 20];
        let mut sent = 0;
        while sent < len {
            let n = chunk.len().min(len - sent);
            if conn.write_all(&chunk[..n]).is_err() {
                return;
            }
            sent += n;
        }
    });
    let o = with_base_url(&server.url, &["agents", "list"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("over the limit"), "{err}");
    assert!(!err.contains("ClientBuilder"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
