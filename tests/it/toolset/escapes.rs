//! Every way out of the work directory, refused.

use super::*;

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

#[test]
fn an_absolute_path_under_a_mount_reaches_its_folder_and_nothing_else() {
    let sb = Sandbox::new("mount");
    let before = sb.outside_snapshot();
    let notes = sb.work.join("mnt/memory/notes");
    let rules = sb.work.join("mnt/memory/rules");
    fs::create_dir_all(&notes).unwrap();
    fs::create_dir_all(&rules).unwrap();
    fs::write(rules.join("r.md"), "be kind\n").unwrap();
    symlink(&sb.outside, notes.join("leak")).unwrap();
    let ts = AgentToolset::new(
        AgentToolContext::new(&sb.work)
            .mount("/mnt/memory/notes", &notes)
            .mount("/mnt/memory/rules/", &rules)
            .read_only_root(&rules),
    )
    .unwrap();

    ok(call(
        &ts,
        "write",
        json!({"file_path": "/mnt/memory/notes/a.md", "content": "alpha\n"}),
    ));
    assert_eq!(fs::read_to_string(notes.join("a.md")).unwrap(), "alpha\n");
    ok(call(
        &ts,
        "edit",
        json!({"file_path": "/mnt/memory/notes/./x/../a.md", "old_string": "alpha", "new_string": "beta"}),
    ));
    let read = ok(call(
        &ts,
        "read",
        json!({"file_path": "/mnt/memory/notes/a.md"}),
    ));
    assert!(read.contains("beta"), "{read}");
    let read = ok(call(
        &ts,
        "read",
        json!({"file_path": "/mnt/memory/rules/r.md"}),
    ));
    assert!(read.contains("be kind"), "{read}");
    let found = ok(call(
        &ts,
        "glob",
        json!({"pattern": "*.md", "path": "/mnt/memory/notes"}),
    ));
    assert!(found.ends_with("a.md"), "{found}");
    let hits = ok(call(
        &ts,
        "grep",
        json!({"pattern": "beta", "path": "/mnt/memory/notes"}),
    ));
    assert!(hits.contains("a.md:1:beta"), "{hits}");
    // bash is not mapped: it sees the folder relative to its working directory
    let ran = ok(call(
        &ts,
        "bash",
        json!({"command": "cat mnt/memory/notes/a.md"}),
    ));
    assert_eq!(ran, "beta");

    // a read-only store stays read-only by its mount path
    let refused = err(call(
        &ts,
        "write",
        json!({"file_path": "/mnt/memory/rules/r.md", "content": "changed"}),
    ));
    assert!(refused.contains("read-only"), "{refused}");
    assert_eq!(fs::read_to_string(rules.join("r.md")).unwrap(), "be kind\n");

    let climb = format!("/mnt/memory/notes/../../..{}/new.txt", sb.outside.display());
    for p in [
        "/mnt/memory/other/x",
        "/mnt/memory/notesx/a.md",
        "/mnt/memory/notes/../../../etc/passwd",
        "/mnt/memory/notes/leak/secret.txt",
        "/mnt/memory/notes/leak/new.txt",
        "/mnt/memory",
        climb.as_str(),
    ] {
        let wrote = err(call(
            &ts,
            "write",
            json!({"file_path": p, "content": "leaked"}),
        ));
        assert!(wrote.contains("outside"), "{p}: {wrote}");
        err(call(&ts, "read", json!({"file_path": p})));
        err(call(&ts, "grep", json!({"pattern": "secret", "path": p})));
    }
    assert!(!Path::new("/mnt/memory/other/x").exists());
    assert_eq!(sb.outside_snapshot(), before);
    ts.close();
}
