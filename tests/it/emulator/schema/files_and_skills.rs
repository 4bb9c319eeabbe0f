//! Files (upload, list, metadata, download, delete) and skills with their versions (create
//! from a folder, list, retrieve, download, delete); and their refusals: an upload without a
//! file, a download of a file the API did not create, an unknown id, the only version deleted.

use super::{id, Api, Body};
use managed_agents_emulator::Script;
use serde_json::json;
use std::time::{Duration, Instant};

fn skill_folder(dir: &str, name: &str) -> Body {
    let md = format!("---\nname: {name}\ndescription: Does things.\n---\n# {name}\n");
    Body::Multipart(vec![
        ("display_name", None, b"My skill".to_vec()),
        ("files", Some(format!("{dir}/SKILL.md")), md.into_bytes()),
        (
            "files",
            Some(format!("{dir}/run.sh")),
            b"echo hi\n".to_vec(),
        ),
    ])
}

pub(crate) fn check(api: &Api) {
    // files
    let up = api.ok(
        "files.upload",
        &[],
        "",
        Body::Multipart(vec![("file", Some("notes.txt".into()), b"hello".to_vec())]),
    );
    api.err(
        "files.upload",
        &[],
        "",
        Body::Multipart(vec![("other", None, b"x".to_vec())]),
        400,
    );
    let f = id(&up);
    api.ok("files.list", &[], "limit=2", ());
    api.err("files.list", &[], "limit=two", (), 400);
    api.ok("files.retrieve_metadata", &[&f], "", ());
    api.err("files.retrieve_metadata", &["file_missing"], "", (), 404);
    // an uploaded file does not download; a session's output does
    api.err_code(
        "files.download",
        &[&f],
        "",
        (),
        400,
        "file_not_downloadable",
    );
    api.err("files.download", &["file_missing"], "", (), 404);
    let env = id(&api.ok("environments.create", &[], "", json!({"name": "f"})));
    let agent = id(&api.ok(
        "agents.create",
        &[],
        "",
        json!({"name": "W", "model": "claude-opus-4-5"}),
    ));
    let s = id(&api.ok(
        "sessions.create",
        &[],
        "",
        json!({"agent": agent, "environment_id": env}),
    ));
    api.emu
        .set_script(Script::new().write_file("out.txt", "output"));
    api.ok(
        "sessions.events.send",
        &[&s],
        "",
        json!({"events": [{"type": "user.message", "content": [{"type": "text", "text": "go"}]}]}),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let out = loop {
        let page = api.ok("files.list", &[], &format!("scope_id={s}"), ());
        if let Some(f) = page["data"].as_array().and_then(|d| d.first()) {
            break id(f);
        }
        assert!(Instant::now() < deadline, "no session output");
        std::thread::sleep(Duration::from_millis(20));
    };
    api.emu.set_script(Script::new().say("hello"));
    assert_eq!(api.ok("files.download", &[&out], "", ()), "output");
    api.ok("files.delete", &[&f], "", ());
    api.err("files.delete", &[&f], "", (), 404);

    // skills
    let skill = api.ok("skills.create", &[], "", skill_folder("tidy", "tidy"));
    api.err(
        "skills.create",
        &[],
        "",
        Body::Multipart(vec![("display_name", None, b"x".to_vec())]),
        400,
    );
    let k = id(&skill);
    // an agent pins a custom skill at its latest version; one that does not exist is refused
    let with_skill = api.ok(
        "agents.create",
        &[],
        "",
        json!({"name": "S", "model": "claude-opus-4-5",
               "skills": [{"type": "custom", "skill_id": k}]}),
    );
    assert_eq!(
        with_skill["skills"][0]["version"], skill["latest_version_id"],
        "{with_skill}"
    );
    api.err(
        "agents.create",
        &[],
        "",
        json!({"name": "S", "model": "claude-opus-4-5",
               "skills": [{"type": "custom", "skill_id": "skill_missing"}]}),
        404,
    );
    api.ok("skills.list", &[], "source=custom", ());
    api.err("skills.list", &[], "limit=?", (), 400);
    api.ok("skills.retrieve", &[&k], "", ());
    api.err("skills.retrieve", &["skill_missing"], "", (), 404);
    let v2 = api.ok(
        "skills.versions.create",
        &[&k],
        "",
        skill_folder("tidy", "tidy"),
    );
    api.err(
        "skills.versions.create",
        &[&k],
        "",
        skill_folder("other", "other"),
        400,
    );
    api.err(
        "skills.versions.create",
        &["skill_missing"],
        "",
        skill_folder("tidy", "tidy"),
        404,
    );
    let v = v2["version"]
        .as_str()
        .or(v2["id"].as_str())
        .unwrap()
        .to_string();
    api.ok("skills.versions.list", &[&k], "", ());
    api.err("skills.versions.list", &["skill_missing"], "", (), 404);
    api.ok("skills.versions.retrieve", &[&k, &v], "", ());
    api.ok("skills.versions.retrieve", &[&k, "latest"], "", ());
    api.err("skills.versions.retrieve", &[&k, "1"], "", (), 404);
    let zip = api.ok("skills.versions.download", &[&k, &v], "", ());
    assert!(zip.as_str().unwrap().starts_with("PK"), "not a zip archive");
    api.err("skills.versions.download", &[&k, "1"], "", (), 404);
    api.ok("skills.versions.delete", &[&k, &v], "", ());
    api.err("skills.versions.delete", &[&k, &v], "", (), 404);
    // the only version left is the skill: it goes with the skill
    api.err("skills.versions.delete", &[&k, "latest"], "", (), 400);
    api.ok("skills.delete", &[&k], "", ());
    api.err("skills.delete", &[&k], "", (), 404);
}
