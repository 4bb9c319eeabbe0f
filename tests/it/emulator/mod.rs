//! The emulator's own behaviour over real HTTP: objects, the status machine, pagination, error
//! bodies, the status machine and the event log; and the quickstart. The rest of the emulator's
//! tests are the modules below, one concern each.

use crate::support::emulated::{cloud_session, setup};
use crate::support::example_exe;
use managed_agents::types::*;
use managed_agents::StreamOptions;
use managed_agents::{Client, Error, UploadFile};
use managed_agents_emulator::Script;
use serde_json::json;
use std::io::{Read, Write};
use std::time::Duration;

mod budget;
mod deployments;
mod http;
mod interrupt;
mod memories;
mod rosters;
mod rules;
mod runner_cancel;
mod schema;
mod skills;
mod stream_and_faults;
mod thread_calls;
mod thread_streams;
mod threads;
mod work;
mod work_stats;
mod worker;
mod worker_faults;
pub(crate) mod worker_memories;
mod worker_memory_download;
mod worker_memory_writes;
mod worker_skill_limits;
mod worker_skills;
mod worker_subagent_skills;

/// A session in a cloud environment, of an agent with a `run_tests` tool when `with_tool`.
fn session(client: &Client, with_tool: bool) -> Session {
    cloud_session(
        client,
        with_tool.then(|| {
            CustomToolParams::new(
                "run_tests",
                "Run",
                json!({"type": "object", "properties": {"test_path": {"type": "string"}}}),
            )
        }),
    )
}

#[test]
fn objects_round_trip_through_every_resource_the_flows_touch() {
    let (_emu, c) = setup();
    let env = c
        .environments()
        .create(
            &EnvironmentCreateParams::cloud("dev").metadata(
                [("team".to_string(), "x".to_string())]
                    .into_iter()
                    .collect::<std::collections::BTreeMap<_, _>>(),
            ),
        )
        .unwrap();
    assert_eq!(c.environments().retrieve(&env.id).unwrap().name, "dev");
    let agent = c
        .agents()
        .create(&AgentCreateParams::new("Reviewer", "claude-opus-4-5").system("Be brief."))
        .unwrap();
    assert_eq!(
        (agent.version, agent.system.as_deref()),
        (1, Some("Be brief."))
    );
    let v2 = c
        .agents()
        .update(&agent.id, &AgentUpdateParams::new().system("Be briefer."))
        .unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(
        c.agents()
            .versions()
            .list(&agent.id, &Default::default())
            .unwrap()
            .data
            .len(),
        2
    );
    let old = c
        .agents()
        .retrieve(&agent.id, &AgentRetrieveParams::default().version(1))
        .unwrap();
    assert_eq!(old.system.as_deref(), Some("Be brief."));

    let file = c
        .files()
        .upload(UploadFile::bytes("data.csv", b"a,b\n".to_vec()))
        .unwrap();
    assert_eq!((file.filename.as_str(), file.size_bytes), ("data.csv", 4));
    let vault = c.vaults().create(&VaultCreateParams::new("tools")).unwrap();
    let cred = c
        .vaults()
        .credentials()
        .create(
            &vault.id,
            &CredentialCreateParams::new(StaticBearerCreateParams::new(
                "https://mcp.example.com/sse",
                "secret",
            )),
        )
        .unwrap();
    assert!(
        !serde_json::to_string(&cred).unwrap().contains("secret"),
        "a credential's secret is never returned"
    );
    let store = c
        .memory_stores()
        .create(&MemoryStoreCreateParams::new("notes"))
        .unwrap();
    let mem = c
        .memory_stores()
        .memories()
        .create(
            &store.id,
            &MemoryCreateQuery::default().view(MemoryView::Full),
            &MemoryCreateParams::new("/a.md").content("hi"),
        )
        .unwrap();
    assert_eq!(mem.content.as_deref(), Some("hi"));

    let s = c
        .sessions()
        .create(
            &SessionCreateParams::new(&v2, env.id.as_str())
                .title("t")
                .resources(vec![FileResourceParams::new(file.id.as_str())
                    .mount_path("/workspace/data.csv")
                    .into()])
                .vault_ids(vec![vault.id.clone()]),
        )
        .unwrap();
    assert_eq!(s.status, SessionStatus::Idle);
    assert_eq!(
        (s.agent.version, s.resources.len(), s.vault_ids.len()),
        (2, 1, 1)
    );
    let archived = c.sessions().archive(&s.id).unwrap();
    assert!(archived.archived_at.is_some());
    c.sessions().delete(&s.id).unwrap();
    assert_eq!(
        c.sessions().retrieve(&s.id).unwrap_err().status(),
        Some(404)
    );
    c.files().delete(&file.id).unwrap();
    c.environments().delete(&env.id).unwrap();
}

#[test]
fn missing_objects_and_bad_input_get_the_apis_error_bodies() {
    let (emu, c) = setup();
    let err = c.sessions().retrieve("sesn_missing").unwrap_err();
    match &err {
        Error::Api {
            status,
            error_type,
            message,
            request_id,
            ..
        } => {
            assert_eq!(
                (*status, error_type.as_ref().map(|t| t.as_str())),
                (404, Some("not_found_error"))
            );
            assert!(message.contains("sesn_missing"));
            assert!(request_id.as_deref().is_some_and(|r| r.starts_with("req_")));
        }
        other => panic!("{other:?}"),
    }
    // a session on an environment that does not exist
    let agent = c
        .agents()
        .create(&AgentCreateParams::new("A", "claude-opus-4-5"))
        .unwrap();
    let err = c
        .sessions()
        .create(&SessionCreateParams::new(&agent, "env_nope"))
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    // a body that is not JSON, straight over a socket
    let mut conn =
        std::net::TcpStream::connect(emu.base_url().trim_start_matches("http://")).unwrap();
    conn.write_all(b"POST /v1/agents HTTP/1.1\r\nhost: x\r\nanthropic-version: 2026-10-21\r\nanthropic-beta: managed-agents-2026-04-01\r\ncontent-type: application/json\r\ncontent-length: 5\r\nconnection: close\r\n\r\n{nope").unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains(r#""type":"invalid_request_error""#), "{text}");
}

#[test]
fn the_status_machine_and_event_log() {
    let (emu, c) = setup();
    emu.set_script(
        Script::new()
            .say("one")
            .call_tool("run_tests", json!({}))
            .say("two"),
    );
    let s = session(&c, true);
    let stream = c
        .sessions()
        .events()
        .stream(&s.id, StreamOptions::new())
        .unwrap();
    c.sessions()
        .events()
        .send(
            &s.id,
            &EventSendParams::one(UserMessageEventParams::text("go")),
        )
        .unwrap();
    let mut kinds = Vec::new();
    let mut tool_id = None;
    let mut stream = stream.until_idle();
    for ev in stream.by_ref() {
        let ev = ev.unwrap();
        kinds.push(ev.tag().unwrap().to_string());
        if let SessionEvent::AgentCustomToolUse(t) = &ev {
            tool_id = Some(t.id.clone());
        }
        if let SessionEvent::SessionStatusIdle(i) = &ev {
            if matches!(
                i.stop_reason,
                SessionStatusIdleEventStopReason::RequiresAction(_)
            ) {
                assert_eq!(
                    c.sessions().retrieve(&s.id).unwrap().status,
                    SessionStatus::Idle
                );
                let id = tool_id.clone().unwrap();
                c.sessions()
                    .events()
                    .send(
                        &s.id,
                        &EventSendParams::one(UserCustomToolResultEventParams::text(id, "ok")),
                    )
                    .unwrap();
            }
        }
    }
    assert_eq!(
        kinds,
        [
            "user.message",
            "session.status_running",
            "agent.message",
            "agent.custom_tool_use",
            "session.status_idle",
            "user.custom_tool_result",
            "session.status_running",
            "agent.message",
            "session.status_idle"
        ]
    );
    // the log: ids, increasing processed_at, pagination both ways
    let page = c
        .sessions()
        .events()
        .list(&s.id, &SessionsEventListParams::default().limit(4))
        .unwrap();
    assert_eq!(page.data.len(), 4);
    assert!(page.has_next_page());
    let all: Vec<SessionEvent> = page.auto_paging().map(Result::unwrap).collect();
    assert_eq!(all.len(), 9);
    let stamps: Vec<&str> = all.iter().map(|e| e.processed_at().unwrap()).collect();
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
    let desc = c
        .sessions()
        .events()
        .list(
            &s.id,
            &SessionsEventListParams::default()
                .order(EventsListOrder::Desc)
                .limit(1),
        )
        .unwrap();
    assert_eq!(desc.data[0].id(), all[8].id());
    let only = c
        .sessions()
        .events()
        .list(
            &s.id,
            &SessionsEventListParams::default().types(vec![SessionEventType::AgentMessage]),
        )
        .unwrap();
    assert_eq!(only.data.len(), 2);
    assert!(
        c.sessions()
            .retrieve(&s.id)
            .unwrap()
            .usage
            .output_tokens
            .unwrap_or(0)
            > 0
    );
}

#[test]
fn terminate_and_retries_exhausted_and_output_files() {
    let (emu, c) = setup();
    emu.set_script(Script::new().write_file("out.txt", "hello").fail());
    let s = session(&c, false);
    let outcome = c
        .run(&s.id)
        .message("go")
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(
        outcome.stop_reason,
        Some(managed_agents::runner::StopReason::RetriesExhausted)
    );
    let files = c.files().list(&FileListParams::scope(&s.id)).unwrap();
    assert_eq!(files.data.len(), 1);
    let mut body = Vec::new();
    c.files()
        .download(&files.data[0].id)
        .unwrap()
        .write_to(&mut body)
        .unwrap();
    assert_eq!(body, b"hello");

    emu.set_script(Script::new().terminate());
    let s = session(&c, false);
    let outcome = c
        .run(&s.id)
        .message("go")
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(
        outcome.stop_reason,
        Some(managed_agents::runner::StopReason::Terminated)
    );
    let err = c
        .sessions()
        .events()
        .send(
            &s.id,
            &EventSendParams::one(UserMessageEventParams::text("again")),
        )
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
}

#[test]
fn the_default_script_echoes_and_calls_the_agents_custom_tool() {
    let (_emu, c) = setup();
    let s = session(&c, true);
    let outcome = c
        .run(&s.id)
        .message("hello there")
        .tool("run_tests", |call| {
            Ok::<_, String>(format!("ran {}", call["test_path"].as_str().unwrap_or("?")))
        })
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(
        outcome.text(),
        "You said: hello thereThe run_tests tool said: ran example test_path"
    );
    assert_eq!(outcome.tool_calls.len(), 1);
}

/// The quickstart, end to end, as a new user runs it (no API key: on the emulator).
#[test]
fn the_quickstart_runs_end_to_end() {
    let out = std::process::Command::new(example_exe("quickstart"))
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("No ANTHROPIC_API_KEY: running on the embedded emulator"),
        "{stdout}"
    );
    for want in [
        "tool call: run_tests",
        "stop reason: \"EndTurn\"",
        "tool calls: 1",
        "downloaded review.md",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in\n{stdout}");
    }
}
