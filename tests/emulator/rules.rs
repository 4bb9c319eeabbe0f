//! The API's rules the emulator keeps: uploaded files do not download, a session's vaults must
//! exist, memory contents carry their real SHA-256.

use super::setup;
use managed_agents::emulator::Script;
use managed_agents::types::*;
use managed_agents::{Error, UploadFile};

#[test]
fn an_uploaded_file_does_not_download_but_a_session_output_does() {
    let (emu, c) = setup();
    let up = c
        .files()
        .upload(UploadFile::bytes("in.txt", b"input".to_vec()))
        .unwrap();
    assert!(!up.downloadable.unwrap_or(false));
    let err = c.files().download(&up.id).unwrap_err();
    match &err {
        Error::Api {
            status, message, ..
        } => {
            assert_eq!(*status, 400);
            assert!(message.contains("cannot be downloaded"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    emu.set_script(Script::new().write_file("out.txt", "output"));
    let s = super::session(&c, false);
    c.run(&s.id).message("go").until_idle().unwrap();
    let outputs = c
        .files()
        .list(&FileListParams::default().scope_id(s.id.as_str()))
        .unwrap();
    assert_eq!(outputs.data.len(), 1);
    let mut sink = Vec::new();
    c.files()
        .download(&outputs.data[0].id)
        .unwrap()
        .write_to(&mut sink)
        .unwrap();
    assert_eq!(sink, b"output");
}

#[test]
fn a_session_with_a_vault_that_does_not_exist_is_refused() {
    let (_emu, c) = setup();
    let env = c
        .environments()
        .create(&EnvironmentCreateParams::cloud("e"))
        .unwrap();
    let agent = c
        .agents()
        .create(&AgentCreateParams::new("A", "claude-opus-4-5"))
        .unwrap();
    let vault = c.vaults().create(&VaultCreateParams::new("v")).unwrap();
    let err = c
        .sessions()
        .create(
            &SessionCreateParams::new(&agent, env.id.as_str())
                .vault_ids(vec![vault.id.clone(), "vlt_missing".into()]),
        )
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(err.to_string().contains("vlt_missing"), "{err}");
    let ok = c
        .sessions()
        .create(&SessionCreateParams::new(&agent, env.id.as_str()).vault_ids(vec![vault.id]))
        .unwrap();
    assert_eq!(ok.vault_ids.len(), 1);
}

#[test]
fn a_memorys_sha256_is_the_digest_of_its_content() {
    let (_emu, c) = setup();
    let store = c
        .memory_stores()
        .create(&MemoryStoreCreateParams::new("notes"))
        .unwrap();
    let mem = c
        .memory_stores()
        .memories()
        .create(
            &store.id,
            &MemoryCreateQuery::default(),
            &MemoryCreateParams::new("/a.md").content("abc"),
        )
        .unwrap();
    assert_eq!(
        mem.content_sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn a_session_on_an_archived_agent_environment_or_vault_is_refused() {
    let (_emu, c) = setup();
    let env = c
        .environments()
        .create(&EnvironmentCreateParams::cloud("e"))
        .unwrap();
    let agent = c
        .agents()
        .create(&AgentCreateParams::new("A", "claude-opus-4-5"))
        .unwrap();
    let vault = c.vaults().create(&VaultCreateParams::new("v")).unwrap();
    let create = |vaults: Vec<String>| {
        c.sessions()
            .create(&SessionCreateParams::new(&agent, env.id.as_str()).vault_ids(vaults))
    };
    c.vaults().archive(&vault.id).unwrap();
    let err = create(vec![vault.id.clone()]).unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(err.to_string().contains("archived"), "{err}");
    c.environments().archive(&env.id).unwrap();
    assert_eq!(create(vec![]).unwrap_err().status(), Some(400));
    let env2 = c
        .environments()
        .create(&EnvironmentCreateParams::cloud("e2"))
        .unwrap();
    c.agents().archive(&agent.id).unwrap();
    let err = c
        .sessions()
        .create(&SessionCreateParams::new(&agent, env2.id.as_str()))
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
}
