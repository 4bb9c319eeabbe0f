//! What the environment worker's default handler puts in an item's work directory, on the
//! emulator's work queue: the agent's skills, there before the first tool runs and removed
//! with the item; an archive with an entry that leaves the folder is refused and nothing is
//! written outside; a link the agent leaves in place of the skills folder is not followed.
//! The helpers here serve the memory store tests too.

use crate::support::emulated::{drain, self_hosted_environment, send_message, setup};
use crate::support::tempdir;
use managed_agents::types::*;
use managed_agents::{Client, Multipart, UploadFile};
use managed_agents_emulator::{Faults, Script};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A self-hosted session of an agent with `skills` and `resources`, with a message sent.
pub(crate) fn session(
    client: &Client,
    skills: Vec<SkillParams>,
    resources: Vec<DeploymentCreateParamsResource>,
) -> (String, String) {
    let env = self_hosted_environment(client);
    let agent = client
        .agents()
        .create(&AgentCreateParams::new("Local", "claude-opus-4-5").skills(skills))
        .unwrap();
    let session = client
        .sessions()
        .create(&SessionCreateParams::new(&agent, env.as_str()).resources(resources))
        .unwrap();
    send_message(client, &session.id, "go");
    (env, session.id)
}

/// The session's `user.tool_result` events, in order.
pub(crate) fn tool_results(client: &Client, session: &str) -> Vec<Value> {
    client
        .sessions()
        .events()
        .list(session, &Default::default())
        .unwrap()
        .auto_paging()
        .map(|e| serde_json::to_value(e.unwrap()).unwrap())
        .filter(|e| e["type"] == "user.tool_result")
        .collect()
}

pub(crate) fn text(result: &Value) -> String {
    result["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["text"].as_str())
        .collect()
}

fn skill_folder(name: &str) -> Multipart {
    Multipart::new()
        .file(
            "files[]",
            UploadFile::bytes(
                format!("{name}/SKILL.md"),
                format!("---\nname: {name}\ndescription: PDFs\n---\nUse pdftotext.\n").into_bytes(),
            ),
        )
        .file(
            "files[]",
            UploadFile::bytes(
                format!("{name}/scripts/run.sh"),
                b"echo from-the-skill\n".to_vec(),
            ),
        )
}

#[test]
fn the_agents_skill_is_in_the_work_directory_before_the_first_tool_runs() {
    let (emu, client) = setup();
    let skill = client.skills().create(skill_folder("pdf-tools")).unwrap();
    emu.set_script(
        Script::new()
            .agent_tool("read", json!({"file_path": "skills/pdf-tools/SKILL.md"}))
            .agent_tool(
                "bash",
                json!({"command": "sh skills/pdf-tools/scripts/run.sh"}),
            )
            .agent_tool("bash", json!({"command": "ls -ld skills/pdf-tools"}))
            .say("done"),
    );
    let (env, id) = session(
        &client,
        vec![SkillParams::Custom(CustomSkillParams::new(&skill.id))],
        vec![],
    );
    let workdir = tempdir();
    let stats = drain(&client, &env, workdir.path());
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    let results = tool_results(&client, &id);
    assert_eq!(results.len(), 3, "{results:?}");
    assert!(results.iter().all(|r| r["is_error"] != true), "{results:?}");
    assert!(text(&results[0]).contains("Use pdftotext."), "{results:?}");
    assert!(text(&results[1]).contains("from-the-skill"), "{results:?}");
    // a third party's files: the skill's folder is its owner's only
    assert!(text(&results[2]).starts_with("drwx------"), "{results:?}");
    // the skill went with the item
    assert!(!first_item_dir(workdir.path())
        .join("skills/pdf-tools")
        .exists());
}

/// A zip archive of `entries`, as a hostile skill could be served.
fn archive(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in entries {
        w.start_file(*name, options).unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The folder of the first item the worker ran in `workdir`.
pub(crate) fn first_item_dir(workdir: &Path) -> PathBuf {
    std::fs::read_dir(workdir)
        .unwrap()
        .next()
        .expect("an item's folder")
        .unwrap()
        .path()
}

/// Every file below `dir`, relative.
pub(crate) fn all_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                pending.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_skill_archive_with_a_parent_entry_is_refused_and_nothing_lands_outside() {
    let (emu, client) = setup();
    let skill = client.skills().create(skill_folder("evil")).unwrap();
    // the work directory is `base/work`; the item's skill is staged four levels below it
    let escapes = [
        "evil/../../../../../escape.txt",
        "evil/../../../../escape-in-work.txt",
        "../escape-up.txt",
    ];
    let mut entries = vec![("evil/SKILL.md", "harmless")];
    entries.extend(escapes.iter().map(|e| (*e, "escaped")));
    emu.set_faults(Faults {
        skill_content: Some(archive(&entries)),
        ..Faults::default()
    });
    emu.set_script(
        Script::new()
            .agent_tool("bash", json!({"command": "ls -AR skills; echo end"}))
            .say("done"),
    );
    let (env, id) = session(
        &client,
        vec![SkillParams::Custom(
            CustomSkillParams::new(&skill.id).version("latest"),
        )],
        vec![],
    );
    let base = tempdir();
    let workdir = base.path().join("work");
    std::fs::create_dir(&workdir).unwrap();
    let stats = drain(&client, &env, &workdir);
    // a skill that fails is left out; the item still runs
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    let results = tool_results(&client, &id);
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(!text(&results[0]).contains("SKILL.md"), "{results:?}");
    let files = all_files(base.path());
    assert!(files.iter().all(|f| !f.contains("escape")), "{files:?}");
    assert!(files.iter().all(|f| !f.contains("SKILL.md")), "{files:?}");
}

#[test]
fn a_link_the_agent_leaves_in_place_of_the_skills_folder_is_not_followed_when_cleaning_up() {
    let (emu, client) = setup();
    let skill = client.skills().create(skill_folder("pdf-tools")).unwrap();
    let base = tempdir();
    let workdir = base.path().join("work");
    std::fs::create_dir_all(base.path().join("outside/pdf-tools")).unwrap();
    std::fs::write(base.path().join("outside/pdf-tools/keep.txt"), "mine").unwrap();
    std::fs::create_dir(&workdir).unwrap();
    emu.set_script(
        Script::new()
            .agent_tool(
                "bash",
                json!({"command": "rm -rf skills && ln -s ../../outside skills && ls skills"}),
            )
            .say("done"),
    );
    let (env, id) = session(
        &client,
        vec![SkillParams::Custom(CustomSkillParams::new(&skill.id))],
        vec![],
    );
    let stats = drain(&client, &env, &workdir);
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    // the link was made, and led outside
    let results = tool_results(&client, &id);
    assert_eq!(text(&results[0]).trim_end(), "pdf-tools", "{results:?}");
    assert_eq!(
        std::fs::read_to_string(base.path().join("outside/pdf-tools/keep.txt")).unwrap(),
        "mine"
    );
}
