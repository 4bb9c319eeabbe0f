//! read, write and edit.

use super::*;

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
    let past_the_end = ok(call(
        &ts,
        "read",
        json!({"file_path": "new/dir/a.txt", "view_range": [9, 12]}),
    ));
    assert_eq!(past_the_end, "(no output)");
    fs::write(sb.work.join("empty.txt"), "").unwrap();
    assert_eq!(
        ok(call(&ts, "read", json!({"file_path": "empty.txt"}))),
        "(no output)"
    );
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
            "read: big.txt is {} bytes, exceeds 110000-byte limit",
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
    assert!(too_much.contains("exceeds 110000-byte limit"), "{too_much}");
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
