//! The API's rules the emulator keeps: uploaded files do not download, a session's vaults must
//! exist, memory contents carry their real SHA-256.

use crate::support::emulated::{cloud_env_and_agent, setup};
use managed_agents::types::*;
use managed_agents::{Error, UploadFile};
use managed_agents_emulator::Script;

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
    let (env, agent) = cloud_env_and_agent(&c);
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
    let (env, agent) = cloud_env_and_agent(&c);
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

#[test]
fn credential_secrets_are_never_returned_at_any_depth() {
    let (emu, c) = setup();
    let vault = c.vaults().create(&VaultCreateParams::new("v")).unwrap();
    let creds = c.vaults().credentials();
    let oauth = MCPOAuthCreateParams::new("secret-access", "https://mcp.example.com/sse").refresh(
        MCPOAuthRefreshParams::new(
            "client",
            "secret-refresh",
            "https://auth.example.com/token",
            TokenEndpointAuthBasicParam::new("secret-client"),
        ),
    );
    let env_var = EnvironmentVariableCreateParams::new(
        UnrestrictedCredentialNetworkingParams::new(),
        "API_TOKEN",
        "secret-value",
    );
    let a = creds
        .create(&vault.id, &CredentialCreateParams::new(oauth))
        .unwrap();
    let b = creds
        .create(&vault.id, &CredentialCreateParams::new(env_var))
        .unwrap();
    // the bytes on the wire, not the typed objects (which drop fields they do not know)
    let text = get_text(&emu, &format!("/v1/vaults/{}/credentials", vault.id));
    assert!(text.contains(&a.id) && text.contains(&b.id), "{text}");
    assert!(!text.contains("secret-"), "{text}");
    match &b.auth {
        CredentialAuth::EnvironmentVariable(e) => {
            assert!(e.injection_location.header && !e.injection_location.body)
        }
        other => panic!("{other:?}"),
    }

    let v = creds.mcp_oauth_validate(&vault.id, &a.id).unwrap();
    assert_eq!(
        (v.status.clone(), v.has_refresh_token),
        (CredentialValidationStatus::Valid, true)
    );
    assert_eq!(
        creds
            .mcp_oauth_validate(&vault.id, &b.id)
            .unwrap_err()
            .status(),
        Some(400)
    );
}

#[test]
fn only_a_repositorys_token_can_be_rotated_and_only_files_are_added() {
    let (_emu, c) = setup();
    let (env, agent) = cloud_env_and_agent(&c);
    let repo =
        GitHubRepositoryResourceParams::new("https://github.com/o/r").authorization_token("tok-1");
    let s = c
        .sessions()
        .create(&SessionCreateParams::new(&agent, env.id.as_str()).resources(vec![repo.into()]))
        .unwrap();
    assert!(!serde_json::to_string(&s).unwrap().contains("tok-"));
    let listed = c
        .sessions()
        .resources()
        .list(&s.id, &Default::default())
        .unwrap();
    let id = serde_json::to_value(&listed.data[0]).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rotated = c
        .sessions()
        .resources()
        .update(&s.id, &id, &ResourceUpdateParams::new("tok-2"))
        .unwrap();
    assert!(matches!(
        rotated,
        ResourceUpdateResponse::GithubRepository(_)
    ));
    assert!(!serde_json::to_string(&rotated).unwrap().contains("tok-"));

    let file = c
        .files()
        .upload(managed_agents::UploadFile::bytes("a.txt", b"a".to_vec()))
        .unwrap();
    let added = c
        .sessions()
        .resources()
        .add(&s.id, &ResourceAddParams::new(file.id.as_str()))
        .unwrap();
    let err = c
        .sessions()
        .resources()
        .update(&s.id, &added.id, &ResourceUpdateParams::new("tok-3"))
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
}

/// A GET answered over a plain socket: the whole answer, head and body, as text.
fn get_text(emu: &managed_agents_emulator::Emulator, path: &str) -> String {
    use std::io::{Read, Write};
    let mut conn =
        std::net::TcpStream::connect(emu.base_url().trim_start_matches("http://")).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nhost: x\r\nanthropic-version: 2026-10-21\r\nanthropic-beta: managed-agents-2026-04-01\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn a_memory_store_resource_carries_its_store_and_instructions_and_refuses_an_archived_one() {
    let (_emu, c) = setup();
    let (env, agent) = cloud_env_and_agent(&c);
    let store = c
        .memory_stores()
        .create(&MemoryStoreCreateParams::new("notes").description("team notes"))
        .unwrap();
    let resource = |id: &str| -> SessionCreateParamsResource {
        MemoryStoreResourceParam::new(id)
            .instructions("read before you start")
            .into()
    };
    let s = c
        .sessions()
        .create(
            &SessionCreateParams::new(&agent, env.id.as_str()).resources(vec![resource(&store.id)]),
        )
        .unwrap();
    match &s.resources[0] {
        SessionResource::MemoryStore(m) => {
            assert_eq!(m.description.as_deref(), Some("team notes"));
            assert_eq!(m.instructions.as_deref(), Some("read before you start"));
        }
        other => panic!("{other:?}"),
    }
    c.memory_stores().archive(&store.id).unwrap();
    let err = c
        .sessions()
        .create(
            &SessionCreateParams::new(&agent, env.id.as_str()).resources(vec![resource(&store.id)]),
        )
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
}
