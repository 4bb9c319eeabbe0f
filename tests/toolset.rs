//! The local agent toolset on real files and real processes: each tool's behaviour, and every
//! way out of the work directory refused or cut off, with nothing outside it changed.

#![cfg(unix)]

use managed_agents::toolset::{
    AgentToolContext, AgentToolset, ToolResult, BASH_OUTPUT_LIMIT, GLOB_RESULT_LIMIT,
    GREP_OUTPUT_LIMIT,
};
use managed_agents::types::UserCustomToolResultEventParamsContent;
use managed_agents::Deadline;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// A work directory with a sibling directory outside it, removed when dropped.
struct Sandbox {
    base: PathBuf,
    work: PathBuf,
    outside: PathBuf,
}

impl Sandbox {
    fn new(name: &str) -> Sandbox {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let base = std::env::temp_dir().join(format!(
            "managed-agents-toolset-{name}-{}-{nanos}",
            std::process::id()
        ));
        let work = base.join("work");
        let outside = base.join("outside");
        fs::create_dir_all(work.join("sub")).unwrap();
        fs::create_dir_all(outside.join("dir")).unwrap();
        fs::write(outside.join("secret.txt"), "top secret\n").unwrap();
        fs::write(outside.join("dir/inner.txt"), "inner secret\n").unwrap();
        Sandbox {
            base,
            work,
            outside,
        }
    }

    fn toolset(&self) -> AgentToolset {
        AgentToolset::new(AgentToolContext::new(&self.work)).unwrap()
    }

    /// Everything under the outside directory: each path's kind, contents or link target.
    fn outside_snapshot(&self) -> BTreeMap<PathBuf, String> {
        let mut out = BTreeMap::new();
        snapshot(&self.outside, &mut out);
        out
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.base);
    }
}

fn snapshot(dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = fs::symlink_metadata(&path).unwrap();
        let mode = meta.permissions().mode();
        let what = if meta.file_type().is_symlink() {
            format!("link {:?}", fs::read_link(&path).unwrap())
        } else if meta.is_dir() {
            snapshot(&path, out);
            format!("dir {mode:o}")
        } else {
            format!("file {mode:o} {:?}", fs::read(&path).unwrap())
        };
        out.insert(path, what);
    }
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(120))
}

fn call(ts: &AgentToolset, name: &str, input: Value) -> ToolResult {
    ts.call(name, input.as_object().unwrap(), deadline())
}

#[track_caller]
fn ok(result: ToolResult) -> String {
    assert!(!result.is_error, "unexpected error: {}", result.text());
    result.text()
}

#[track_caller]
fn err(result: ToolResult) -> String {
    assert!(result.is_error, "expected an error, got: {}", result.text());
    result.text()
}

// ---------------------------------------------------------------- read, write, edit

#[test]
fn write_then_read_then_edit() {
    let sb = Sandbox::new("files");
    let ts = sb.toolset();
    let wrote = ok(call(
        &ts,
        "write",
        json!({"file_path": "new/dir/a.txt", "content": "one\ntwo\nthree\ntwo\n"}),
    ));
    assert_eq!(wrote, "wrote 18 bytes to new/dir/a.txt");
    assert_eq!(
        fs::read_to_string(sb.work.join("new/dir/a.txt")).unwrap(),
        "one\ntwo\nthree\ntwo\n"
    );

    let read = ok(call(&ts, "read", json!({"file_path": "new/dir/a.txt"})));
    assert_eq!(read, "one\ntwo\nthree\ntwo\n");
    let lines = ok(call(
        &ts,
        "read",
        json!({"file_path": "new/dir/a.txt", "view_range": [2, 3]}),
    ));
    assert_eq!(lines, "two\nthree");
    let to_end = ok(call(
        &ts,
        "read",
        json!({"file_path": "new/dir/a.txt", "view_range": [3, -1]}),
    ));
    assert_eq!(to_end, "three\ntwo\n");
    // An absolute path inside the work directory is fine.
    let abs = sb.work.join("new/dir/a.txt");
    ok(call(
        &ts,
        "read",
        json!({"file_path": abs.to_str().unwrap()}),
    ));

    let twice = err(call(
        &ts,
        "edit",
        json!({"file_path": "new/dir/a.txt", "old_string": "two", "new_string": "2"}),
    ));
    assert_eq!(
        twice,
        "edit: old_string appears 2 times in new/dir/a.txt (must be unique)"
    );
    let missing = err(call(
        &ts,
        "edit",
        json!({"file_path": "new/dir/a.txt", "old_string": "four", "new_string": "4"}),
    ));
    assert_eq!(missing, "edit: old_string not found in new/dir/a.txt");
    assert_eq!(
        fs::read_to_string(&abs).unwrap(),
        "one\ntwo\nthree\ntwo\n",
        "a refused edit changes nothing"
    );
    let once = ok(call(
        &ts,
        "edit",
        json!({"file_path": "new/dir/a.txt", "old_string": "three", "new_string": "3"}),
    ));
    assert_eq!(once, "edited new/dir/a.txt (1 replacement(s))");
    let all = ok(call(
        &ts,
        "edit",
        json!({"file_path": "new/dir/a.txt", "old_string": "two", "new_string": "2", "replace_all": true}),
    ));
    assert_eq!(all, "edited new/dir/a.txt (2 replacement(s))");
    assert_eq!(fs::read_to_string(&abs).unwrap(), "one\n2\n3\n2\n");
    // No temporary file is left behind.
    let names: Vec<_> = fs::read_dir(sb.work.join("new/dir")).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn edit_keeps_the_file_mode() {
    let sb = Sandbox::new("mode");
    let ts = sb.toolset();
    let script = sb.work.join("run.sh");
    fs::write(&script, "echo old\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o750)).unwrap();
    ok(call(
        &ts,
        "edit",
        json!({"file_path": "run.sh", "old_string": "old", "new_string": "new"}),
    ));
    let mode = fs::metadata(&script).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o750);
    assert_eq!(fs::read_to_string(&script).unwrap(), "echo new\n");
}

#[test]
fn read_refuses_a_large_file_whole_but_streams_a_range() {
    let sb = Sandbox::new("large");
    let ts = sb.toolset();
    let line = "x".repeat(99);
    let text: String = (0..4000).map(|i| format!("{i:05}{line}\n")).collect();
    assert!(text.len() > 256 * 1024);
    fs::write(sb.work.join("big.txt"), &text).unwrap();
    let whole = err(call(&ts, "read", json!({"file_path": "big.txt"})));
    assert!(
        whole.starts_with(&format!(
            "read: big.txt is {} bytes, exceeds 262144-byte limit",
            text.len()
        )),
        "{whole}"
    );
    assert!(whole.contains("view_range"), "{whole}");
    let part = ok(call(
        &ts,
        "read",
        json!({"file_path": "big.txt", "view_range": [3001, 3002]}),
    ));
    assert_eq!(part, format!("03000{line}\n03001{line}"));
    let too_much = err(call(
        &ts,
        "read",
        json!({"file_path": "big.txt", "view_range": [1, 0]}),
    ));
    assert!(too_much.contains("exceeds 262144-byte limit"), "{too_much}");
    let edit = err(call(
        &ts,
        "edit",
        json!({"file_path": "big.txt", "old_string": "00001", "new_string": "x"}),
    ));
    assert!(edit.contains("exceeds 262144-byte limit"), "{edit}");

    // A configured cap.
    let small =
        AgentToolset::new(AgentToolContext::new(&sb.work).max_file_bytes(Some(10))).unwrap();
    fs::write(sb.work.join("eleven.txt"), "0123456789\n").unwrap();
    err(call(&small, "read", json!({"file_path": "eleven.txt"})));
}

#[test]
fn read_returns_images_as_blocks_and_refuses_binary_and_special_files() {
    let sb = Sandbox::new("binary");
    let ts = sb.toolset();
    fs::write(sb.work.join("pixel.PNG"), [0x89, b'P', b'N', b'G', 0, 1, 2]).unwrap();
    let image = call(&ts, "read", json!({"file_path": "pixel.PNG"}));
    assert!(!image.is_error);
    let block = serde_json::to_value(&image.content).unwrap();
    assert_eq!(
        block,
        json!([{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORwABAg=="}}])
    );
    fs::write(sb.work.join("data.bin"), [0xff, 0xfe, 0]).unwrap();
    let binary = err(call(&ts, "read", json!({"file_path": "data.bin"})));
    assert!(binary.contains("not valid UTF-8"), "{binary}");
    let dir = err(call(&ts, "read", json!({"file_path": "sub"})));
    assert_eq!(dir, "read: sub: not a regular file");
    let missing = err(call(&ts, "read", json!({"file_path": "nope.txt"})));
    assert_eq!(missing, "read: nope.txt: no such file or directory");

    // A FIFO nobody writes to is refused at once, not waited on.
    let fifo = sb.work.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    assert_eq!(
        err(call(&ts, "read", json!({"file_path": "pipe"}))),
        "read: pipe: not a regular file"
    );
    let grep = ok(call(&ts, "grep", json!({"pattern": "x"})));
    assert_eq!(grep, "no matches");
}

#[test]
fn read_only_roots_refuse_changes() {
    let sb = Sandbox::new("readonly");
    let memory = sb.base.join("memory");
    fs::create_dir_all(&memory).unwrap();
    fs::write(memory.join("note.md"), "remember\n").unwrap();
    let ts = AgentToolset::new(
        AgentToolContext::new(&sb.work)
            .allowed_root(&memory)
            .read_only_root(&memory),
    )
    .unwrap();
    let note = memory.join("note.md");
    let note = note.to_str().unwrap();
    assert_eq!(
        ok(call(&ts, "read", json!({"file_path": note}))),
        "remember\n"
    );
    let refused = err(call(
        &ts,
        "write",
        json!({"file_path": note, "content": "x"}),
    ));
    assert!(
        refused.contains("is inside read-only directory"),
        "{refused}"
    );
    err(call(
        &ts,
        "edit",
        json!({"file_path": note, "old_string": "remember", "new_string": "forget"}),
    ));
    assert_eq!(
        fs::read_to_string(memory.join("note.md")).unwrap(),
        "remember\n"
    );
    // The outside directory is still out of reach.
    let secret = sb.outside.join("secret.txt");
    err(call(
        &ts,
        "read",
        json!({"file_path": secret.to_str().unwrap()}),
    ));
}

// ---------------------------------------------------------------- glob and grep

fn set_mtime(path: &Path, secs_ago: u64) {
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(secs_ago))
        .unwrap();
}

#[test]
fn glob_lists_newest_first_and_caps_the_list() {
    let sb = Sandbox::new("glob");
    let ts = sb.toolset();
    for (name, age) in [("old.rs", 300), ("sub/new.rs", 10), ("sub/mid.rs", 100)] {
        fs::write(sb.work.join(name), "fn main() {}\n").unwrap();
        set_mtime(&sb.work.join(name), age);
    }
    fs::write(sb.work.join("notes.txt"), "").unwrap();
    let listed = ok(call(&ts, "glob", json!({"pattern": "**/*.rs"})));
    let want: Vec<String> = ["sub/new.rs", "sub/mid.rs", "old.rs"]
        .iter()
        .map(|n| sb.work.join(n).display().to_string())
        .collect();
    assert_eq!(listed, want.join("\n"));
    let top = ok(call(&ts, "glob", json!({"pattern": "*.rs"})));
    assert_eq!(top, want[2]);
    let under = ok(call(&ts, "glob", json!({"pattern": "*.rs", "path": "sub"})));
    assert_eq!(under, want[..2].join("\n"));
    assert_eq!(
        ok(call(&ts, "glob", json!({"pattern": "*.go"}))),
        "no matches"
    );

    fs::create_dir(sb.work.join("many")).unwrap();
    for i in 0..GLOB_RESULT_LIMIT + 50 {
        fs::write(sb.work.join(format!("many/{i}.txt")), "").unwrap();
    }
    let many = ok(call(&ts, "glob", json!({"pattern": "many/*.txt"})));
    assert_eq!(many.lines().count(), GLOB_RESULT_LIMIT);
}

#[test]
fn grep_prints_matching_lines_with_paths() {
    let sb = Sandbox::new("grep");
    let ts = sb.toolset();
    fs::write(sb.work.join("a.txt"), "alpha\nbeta\ngamma beta\n").unwrap();
    fs::write(sb.work.join("sub/b.txt"), "no\nbetamax\n").unwrap();
    fs::create_dir_all(sb.work.join(".git")).unwrap();
    fs::write(sb.work.join(".git/config"), "beta\n").unwrap();
    fs::write(sb.work.join("bin.dat"), b"beta\0beta").unwrap();
    let hits = ok(call(&ts, "grep", json!({"pattern": "^(gamma )?beta"})));
    let a = sb.work.join("a.txt").display().to_string();
    let b = sb.work.join("sub/b.txt").display().to_string();
    assert_eq!(hits, format!("{a}:2:beta\n{a}:3:gamma beta\n{b}:2:betamax"));
    let one = ok(call(
        &ts,
        "grep",
        json!({"pattern": "max", "path": "sub/b.txt"}),
    ));
    assert_eq!(one, format!("{b}:2:betamax"));
    assert_eq!(
        ok(call(&ts, "grep", json!({"pattern": "delta"}))),
        "no matches"
    );
    let bad = err(call(&ts, "grep", json!({"pattern": "(unclosed"})));
    assert!(bad.starts_with("grep: invalid regex"), "{bad}");

    let long: String = (0..5000).map(|i| format!("match number {i}\n")).collect();
    fs::write(sb.work.join("long.txt"), long).unwrap();
    let capped = ok(call(&ts, "grep", json!({"pattern": "match"})));
    assert!(capped.len() <= GREP_OUTPUT_LIMIT + 100, "{}", capped.len());
    assert!(capped.ends_with(&format!("[output truncated at {GREP_OUTPUT_LIMIT} bytes]")));
}

// ---------------------------------------------------------------- escapes

#[test]
fn every_way_out_of_the_work_directory_is_refused() {
    let sb = Sandbox::new("escape");
    let before = sb.outside_snapshot();
    let ts = sb.toolset();
    symlink(sb.outside.join("secret.txt"), sb.work.join("to_secret")).unwrap();
    symlink(&sb.outside, sb.work.join("to_outside")).unwrap();
    symlink(sb.outside.join("planted.txt"), sb.work.join("dangling")).unwrap();
    symlink("../../outside", sb.work.join("sub/relative")).unwrap();
    symlink("loop_b", sb.work.join("loop_a")).unwrap();
    symlink("loop_a", sb.work.join("loop_b")).unwrap();
    let secret_abs = sb.outside.join("secret.txt").display().to_string();
    let new_abs = sb.outside.join("new.txt").display().to_string();

    let paths = [
        "../outside/secret.txt".to_string(),
        "sub/../../outside/secret.txt".to_string(),
        secret_abs.clone(),
        "to_secret".to_string(),
        "to_outside/secret.txt".to_string(),
        "to_outside/dir/inner.txt".to_string(),
        "sub/relative/secret.txt".to_string(),
        "/etc/passwd".to_string(),
        "/".to_string(),
    ];
    for p in &paths {
        let read = err(call(&ts, "read", json!({"file_path": p})));
        assert!(
            read.contains("outside the session's working directory"),
            "{p}: {read}"
        );
        let edit = err(call(
            &ts,
            "edit",
            json!({"file_path": p, "old_string": "secret", "new_string": "leaked"}),
        ));
        assert!(edit.contains("outside"), "{p}: {edit}");
        err(call(
            &ts,
            "write",
            json!({"file_path": p, "content": "leaked"}),
        ));
        err(call(&ts, "glob", json!({"pattern": "*", "path": p})));
        err(call(&ts, "grep", json!({"pattern": "secret", "path": p})));
    }
    // New files: through `..`, an absolute path, a symlinked directory, a dangling link.
    for p in [
        "../outside/new.txt",
        new_abs.as_str(),
        "to_outside/new.txt",
        "to_outside/newdir/new.txt",
        "dangling",
        "sub/relative/new.txt",
    ] {
        let wrote = err(call(
            &ts,
            "write",
            json!({"file_path": p, "content": "leaked"}),
        ));
        assert!(wrote.contains("outside"), "{p}: {wrote}");
    }
    let looped = err(call(&ts, "read", json!({"file_path": "loop_a"})));
    assert!(
        looped.contains("too many levels of symbolic links"),
        "{looped}"
    );

    // Patterns cannot climb out, and walks do not follow links out.
    err(call(&ts, "glob", json!({"pattern": "../outside/*"})));
    err(call(
        &ts,
        "glob",
        json!({"pattern": format!("{}/*", sb.outside.display())}),
    ));
    let listed = ok(call(&ts, "glob", json!({"pattern": "**/*"})));
    assert!(
        !listed.contains("secret") && !listed.contains("inner"),
        "{listed}"
    );
    assert!(
        !listed.contains("to_secret"),
        "a link out is not listed: {listed}"
    );
    let grep = ok(call(&ts, "grep", json!({"pattern": "secret"})));
    assert_eq!(grep, "no matches");

    assert_eq!(sb.outside_snapshot(), before, "nothing outside changed");
}

#[test]
fn links_that_stay_inside_are_followed() {
    let sb = Sandbox::new("inside-links");
    let ts = sb.toolset();
    fs::write(sb.work.join("sub/real.txt"), "real\n").unwrap();
    symlink("sub/real.txt", sb.work.join("alias.txt")).unwrap();
    symlink("sub", sb.work.join("alias_dir")).unwrap();
    assert_eq!(
        ok(call(&ts, "read", json!({"file_path": "alias.txt"}))),
        "real\n"
    );
    ok(call(
        &ts,
        "write",
        json!({"file_path": "alias_dir/made.txt", "content": "made"}),
    ));
    assert_eq!(
        fs::read_to_string(sb.work.join("sub/made.txt")).unwrap(),
        "made"
    );
    // Writing through a link to a file writes the file it names; the link stays.
    ok(call(
        &ts,
        "write",
        json!({"file_path": "alias.txt", "content": "rewritten\n"}),
    ));
    assert_eq!(
        fs::read_to_string(sb.work.join("sub/real.txt")).unwrap(),
        "rewritten\n"
    );
    assert!(fs::symlink_metadata(sb.work.join("alias.txt"))
        .unwrap()
        .file_type()
        .is_symlink());
}

/// A directory flipped between a real directory and a link to the outside while the file
/// tools work on it: the check and the operation are apart in time, but the operation runs
/// beneath the work directory's handle, so whatever the timing nothing lands outside.
#[test]
fn a_directory_swapped_for_a_link_mid_call_does_not_lead_out() {
    let sb = Sandbox::new("race");
    let before = sb.outside_snapshot();
    let ts = sb.toolset();
    let flip = sb.work.join("flip");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flipper = {
        let (flip, outside, stop) = (flip.clone(), sb.outside.clone(), stop.clone());
        std::thread::spawn(move || {
            let parked = flip.with_file_name("parked");
            fs::create_dir_all(&parked).unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = fs::rename(&parked, &flip);
                std::thread::yield_now();
                let _ = fs::rename(&flip, &parked);
                let _ = symlink(&outside, &flip);
                std::thread::yield_now();
                let _ = fs::remove_file(&flip);
            }
        })
    };
    let started = Instant::now();
    let mut written = 0;
    while started.elapsed() < Duration::from_secs(3) {
        let r = call(
            &ts,
            "write",
            json!({"file_path": "flip/secret.txt", "content": "leaked"}),
        );
        written += usize::from(!r.is_error);
        let _ = call(
            &ts,
            "edit",
            json!({"file_path": "flip/dir/inner.txt", "old_string": "inner", "new_string": "leaked"}),
        );
        let read = call(&ts, "read", json!({"file_path": "flip/dir/inner.txt"}));
        assert!(
            !read.text().contains("inner secret"),
            "read the outside file"
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flipper.join().unwrap();
    assert_eq!(
        sb.outside_snapshot(),
        before,
        "nothing outside changed ({written} writes landed inside)"
    );
}

// ---------------------------------------------------------------- bash

#[test]
fn bash_runs_in_a_persistent_shell_in_the_work_directory() {
    let sb = Sandbox::new("bash");
    let ts = sb.toolset();
    let pwd = ok(call(&ts, "bash", json!({"command": "pwd"})));
    assert_eq!(Path::new(&pwd), ts.workdir());
    ok(call(
        &ts,
        "bash",
        json!({"command": "cd sub && export GREETING=hi"}),
    ));
    let after = ok(call(&ts, "bash", json!({"command": "pwd; echo $GREETING"})));
    assert_eq!(after, format!("{}\nhi", ts.workdir().join("sub").display()));
    let mixed = ok(call(
        &ts,
        "bash",
        json!({"command": "echo out; echo err >&2"}),
    ));
    assert_eq!(mixed, "out\nerr");
    let colored = ok(call(
        &ts,
        "bash",
        json!({"command": "printf '\\033[31mred\\033[0m\\n'"}),
    ));
    assert_eq!(colored, "red");
    // Standard input is not the shell's: a reader gets end of file at once.
    let stdin = ok(call(
        &ts,
        "bash",
        json!({"command": "cat; read x; echo read=$?", "timeout_ms": 20000}),
    ));
    assert_eq!(stdin, "read=1");
    let failed = err(call(
        &ts,
        "bash",
        json!({"command": "echo partial; exit 3"}),
    ));
    assert!(failed.starts_with("partial\n"), "{failed}");
    // `exit` ended the shell; the next call has a new one, back in the work directory.
    let fresh = ok(call(
        &ts,
        "bash",
        json!({"command": "pwd; echo ${GREETING:-unset}"}),
    ));
    assert_eq!(fresh, format!("{}\nunset", ts.workdir().display()));
    let code = err(call(&ts, "bash", json!({"command": "false"})));
    assert_eq!(code, "exit code: 1");
    // A command that prints a sentinel-looking line cannot fake its end.
    let fake = ok(call(
        &ts,
        "bash",
        json!({"command": "echo __ANT_CMD_0_DONE__7; echo after"}),
    ));
    assert_eq!(fake, "__ANT_CMD_0_DONE__7\nafter");

    ok(call(&ts, "bash", json!({"command": "export KEEP=1"})));
    assert_eq!(
        ok(call(&ts, "bash", json!({"restart": true}))),
        "bash session restarted"
    );
    assert_eq!(
        ok(call(&ts, "bash", json!({"command": "echo ${KEEP:-gone}"}))),
        "gone"
    );
    let none = err(call(&ts, "bash", json!({})));
    assert_eq!(none, "bash: command is required");
}

#[test]
fn bash_environment_is_given_or_scrubbed() {
    let sb = Sandbox::new("env");
    let ts = AgentToolset::new(
        AgentToolContext::new(&sb.work).env([("ONLY", "this"), ("PATH", "/usr/bin:/bin")]),
    )
    .unwrap();
    let env = ok(call(
        &ts,
        "bash",
        json!({"command": "echo $ONLY ${HOME:-nohome}"}),
    ));
    assert_eq!(env, "this nohome");

    // The scrubbing of this process's own ANTHROPIC_* variables runs in a child process that
    // has them set (a test must not change its own environment under other threads).
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "bash_child_without_anthropic_variables",
            "--ignored",
            "--test-threads=1",
        ])
        .env("ANTHROPIC_API_KEY", "sk-ant-test-secret")
        .env("ANTHROPIC_ENVIRONMENT_KEY", "env-key-secret")
        .env("TOOLSET_TEST_MARKER", "visible")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
}

#[test]
#[ignore = "run by bash_environment_is_given_or_scrubbed with the variables set"]
fn bash_child_without_anthropic_variables() {
    assert_eq!(
        std::env::var("ANTHROPIC_API_KEY").as_deref(),
        Ok("sk-ant-test-secret")
    );
    let sb = Sandbox::new("scrub");
    let ts = sb.toolset();
    let env = ok(call(&ts, "bash", json!({"command": "env"})));
    assert!(!env.contains("ANTHROPIC_"), "{env}");
    assert!(!env.contains("secret"), "{env}");
    assert!(env.contains("TOOLSET_TEST_MARKER=visible"), "{env}");
}

/// Whether process `pid` is still running (a zombie waiting for its reaper is not).
fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
            !matches!(state, Some('Z' | 'X'))
        }
        Err(_) => {
            if Path::new("/proc/self/stat").exists() {
                return false;
            }
            std::process::Command::new("kill")
                .args(["-0", &pid.to_string()])
                .status()
                .is_ok_and(|s| s.success())
        }
    }
}

#[track_caller]
fn assert_dies(pid: u32) {
    let until = Instant::now() + Duration::from_secs(20);
    while alive(pid) {
        assert!(Instant::now() < until, "process {pid} outlived the shell");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn pids(text: &str) -> Vec<u32> {
    text.lines()
        .filter_map(|l| l.strip_prefix("pid=")?.trim().parse().ok())
        .collect()
}

#[test]
fn bash_time_limit_kills_the_whole_process_group() {
    let sb = Sandbox::new("timeout");
    let ts = sb.toolset();
    let started = Instant::now();
    // A background job, a grandchild in a subshell, and a foreground sleep.
    let out = err(call(
        &ts,
        "bash",
        json!({
            "command": "sleep 600 & echo pid=$!; (sleep 600 & echo pid=$!; wait); sleep 600",
            "timeout_ms": 1500,
        }),
    ));
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the limit held"
    );
    assert!(out.contains("timed out after 1.5s"), "{out}");
    let pids = pids(&out);
    assert_eq!(pids.len(), 2, "{out}");
    for pid in pids {
        assert_dies(pid);
    }
    // The next call gets a new shell.
    assert_eq!(
        ok(call(&ts, "bash", json!({"command": "echo again"}))),
        "again"
    );

    // The call's own deadline, when it is the earlier.
    let started = Instant::now();
    let cut = ts.call(
        "bash",
        json!({"command": "echo pid=$$; sleep 600"})
            .as_object()
            .unwrap(),
        Deadline::after(Duration::from_millis(1500)),
    );
    assert!(
        cut.is_error && cut.text().contains("deadline"),
        "{}",
        cut.text()
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn background_jobs_end_with_the_toolset() {
    let sb = Sandbox::new("background");
    let ts = sb.toolset();
    let out = ok(call(
        &ts,
        "bash",
        json!({"command": "(sleep 600 & echo pid=$!) ; sleep 600 >/dev/null 2>&1 & echo pid=$!"}),
    ));
    let first = pids(&out);
    assert_eq!(first.len(), 2, "{out}");
    for &pid in &first {
        assert!(alive(pid), "a background job lives on between calls");
    }
    ts.close();
    for pid in first {
        assert_dies(pid);
    }
    let out = ok(call(
        &ts,
        "bash",
        json!({"command": "sleep 600 & echo pid=$!"}),
    ));
    drop(ts);
    for pid in pids(&out) {
        assert_dies(pid);
    }
}

#[test]
fn bash_output_is_capped_to_its_tail() {
    let sb = Sandbox::new("output");
    let ts = sb.toolset();
    let big = ok(call(
        &ts,
        "bash",
        json!({"command": "head -c 3000000 /dev/zero | tr '\\0' a; echo; echo END"}),
    ));
    assert!(big.starts_with("[output truncated]\n"), "{}", &big[..40]);
    assert!(big.ends_with("aaa\nEND"));
    assert!(big.len() <= BASH_OUTPUT_LIMIT + 100, "{}", big.len());

    // Output without end, cut off at the time limit, still bounded.
    let endless = err(call(
        &ts,
        "bash",
        json!({"command": "yes", "timeout_ms": 1000}),
    ));
    assert!(endless.starts_with("[output truncated]\n"));
    assert!(
        endless.len() <= BASH_OUTPUT_LIMIT + 200,
        "{}",
        endless.len()
    );
    assert!(
        endless.ends_with("the shell was restarted"),
        "{}",
        &endless[endless.len() - 80..]
    );
}

// ---------------------------------------------------------------- bad input

#[test]
fn input_that_does_not_match_the_schema_is_an_error_result() {
    let sb = Sandbox::new("schema");
    let ts = sb.toolset();
    let cases = [
        ("read", json!({})),
        ("read", json!({"file_path": 7})),
        ("read", json!({"file_path": "a", "view_range": ["1", "2"]})),
        ("write", json!({"file_path": "a.txt"})),
        ("write", json!({"file_path": ["a"], "content": "x"})),
        ("edit", json!({"file_path": "a.txt", "old_string": "x"})),
        (
            "edit",
            json!({"file_path": "a.txt", "old_string": "x", "new_string": "y", "replace_all": "yes"}),
        ),
        ("glob", json!({"path": "."})),
        ("grep", json!({"pattern": null})),
        ("bash", json!({"command": 1})),
        ("bash", json!({"command": "true", "timeout_ms": -5})),
    ];
    for (name, input) in cases {
        let text = err(call(&ts, name, input.clone()));
        assert!(
            text.starts_with(&format!("invalid {name} input: ")),
            "{name} {input}: {text}"
        );
    }
    let text = err(call(
        &ts,
        "read",
        json!({"file_path": "a", "view_range": [1]}),
    ));
    assert_eq!(text, "read: view_range must be [start_line, end_line]");
    assert_eq!(
        err(call(&ts, "read", json!({"file_path": ""}))),
        "read: file_path is required"
    );
    assert_eq!(
        err(call(
            &ts,
            "edit",
            json!({"file_path": "a", "old_string": "", "new_string": "y"})
        )),
        "edit: old_string is required"
    );
    let unknown = err(call(&ts, "web_fetch", json!({"url": "x"})));
    assert!(
        unknown.starts_with("unknown tool \"web_fetch\""),
        "{unknown}"
    );
    let late = ts.call(
        "read",
        json!({"file_path": "a"}).as_object().unwrap(),
        Deadline::after(Duration::ZERO),
    );
    assert!(late.is_error);
    assert!(fs::read_dir(&sb.work)
        .unwrap()
        .all(|e| e.unwrap().file_name() == "sub"));
}

#[test]
fn a_result_becomes_the_tool_result_event() {
    let result = ToolResult::error("read: nope.txt: no such file or directory");
    assert_eq!(result.text(), "read: nope.txt: no such file or directory");
    let event = serde_json::to_value(result.into_event("sevt_1")).unwrap();
    assert_eq!(
        event,
        json!({
            "type": "user.tool_result",
            "tool_use_id": "sevt_1",
            "content": [{"type": "text", "text": "read: nope.txt: no such file or directory"}],
            "is_error": true,
        })
    );
    let text = ToolResult::text_result("ok");
    assert!(
        matches!(&text.content[0], UserCustomToolResultEventParamsContent::Text(t) if t.text == "ok")
    );
    assert!(AgentToolset::handles("grep") && !AgentToolset::handles("web_fetch"));
    let missing = AgentToolset::new(AgentToolContext::new("/nonexistent/work/dir"));
    assert!(missing.is_err());
}
