//! `worker --sandbox`: bash may write beneath the work directory and nowhere else, whatever
//! way it tries (a relative `..`, an absolute path, a symbolic link, `cd ..`), and reads only
//! there and in the system's folders. Skipped, saying why, where the kernel has no Landlock.

use crate::support::{temp, BIN};
use managed_agents_emulator::Script;
use serde_json::json;
use std::process::Command;

#[test]
fn a_sandboxed_worker_bash_cannot_write_outside_its_work_directory() {
    let (emu, c) = crate::support::emulator();
    let top = temp("sandbox");
    let workdir = top.join("work");
    std::fs::create_dir_all(&workdir).unwrap();
    let outside = top.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("private.txt"), "private").unwrap();
    // a file in the temporary folder, outside `top`
    let elsewhere = temp("sandbox-tmp");
    let tmp_target = elsewhere.join("escape-tmp.txt");
    // bash starts in <workdir>/<item>: `../..` is `top`
    let command = format!(
        "echo inside > inside.txt && echo wrote-inside
echo hi > ../../escape-rel.txt && echo ESCAPED-rel
echo hi > {top}/escape-abs.txt && echo ESCAPED-abs
echo hi > {tmp} && echo ESCAPED-tmp
ln -s {top} up && echo hi > up/escape-link.txt && echo ESCAPED-link
mkdir ../../escape-dir && echo ESCAPED-mkdir
cat {top}/outside/private.txt && echo ESCAPED-read
ls {top} && echo ESCAPED-list
cat /etc/passwd > /dev/null && echo read-etc
t=$(mktemp) && echo made-temp && rm \"$t\"
cd ../.. && echo hi > escape-cd.txt && echo ESCAPED-cd
true",
        top = top.display(),
        tmp = tmp_target.display(),
    );
    let (env, agent) = crate::support::self_hosted(&c);
    emu.set_script(
        Script::new()
            .agent_tool("bash", json!({ "command": command }))
            .say("done"),
    );
    let session = crate::support::session_sent_go(&c, &agent, env.as_str());
    let o = crate::support::worker(&emu, &env)
        .args(["--once", "--sandbox", "--workdir"])
        .arg(&workdir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    if o.status.code() == Some(2) && stderr.contains("does not enforce Landlock") {
        eprintln!("SKIPPED: this kernel has no Landlock, so --sandbox is refused: {stderr}");
        return;
    }
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("sandbox enforced"), "{stderr}");
    let events = crate::support::events(&c, &session);
    let result = events
        .iter()
        .find(|e| e["type"] == "user.tool_result")
        .map(|e| e["content"].to_string())
        .unwrap_or_else(|| panic!("no tool result: {events:?}"));
    for allowed in ["wrote-inside", "read-etc", "made-temp"] {
        assert!(result.contains(allowed), "{allowed}: {result}");
    }
    assert!(!result.contains("ESCAPED"), "{result}");
    assert!(result.contains("Permission denied"), "{result}");
    for name in [
        "escape-rel.txt",
        "escape-abs.txt",
        "escape-link.txt",
        "escape-dir",
        "escape-cd.txt",
    ] {
        assert!(!top.join(name).exists(), "{name} was written");
    }
    assert!(!tmp_target.exists(), "wrote to /tmp");
}

#[test]
fn worker_help_says_what_bash_may_do() {
    let o = Command::new(BIN)
        .args(["worker", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    for says in [
        "--sandbox",
        "this process's rights",
        "echo hi > ../x",
        "Landlock",
    ] {
        assert!(help.contains(says), "{says}: {help}");
    }
}
