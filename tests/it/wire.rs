//! The exact HTTP of a few operations per resource, against a mockito server on loopback:
//! method, path (with encoded IDs), query (repeated keys), JSON body and headers.

use managed_agents::types::*;
use managed_agents::{Client, Error, RequestOptions, UploadFile};
use mockito::{Matcher, Server, ServerGuard};
use serde_json::{json, Value};

const KEY: &str = "sk-ant-test-key-0123456789";
const MA: &str = "managed-agents-2026-04-01";
const FILES_BETA: &str = "files-api-2025-04-14,managed-agents-2026-04-01";

fn client(server: &ServerGuard) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(server.url())
        .max_retries(0)
        .build()
        .unwrap()
}

/// The minimal fixture of a response type (tests/fixtures/types).
fn fixture(name: &str) -> String {
    let text = std::fs::read_to_string(format!("tests/fixtures/types/{name}.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["minimal"].to_string()
}

fn page(items: Vec<Value>, next: Option<&str>) -> String {
    json!({"data": items, "next_page": next}).to_string()
}

/// A mock with the headers every managed-agents request carries.
fn expect(server: &mut ServerGuard, method: &str, path: &str, beta: &str) -> mockito::Mock {
    server
        .mock(method, path)
        .match_header("x-api-key", KEY)
        .match_header("anthropic-version", "2026-10-21")
        .match_header("anthropic-beta", beta)
        .match_header("x-stainless-retry-count", "0")
        .match_header("user-agent", Matcher::Regex("^managed-agents-rust/".into()))
        .match_query(Matcher::Missing)
}

#[test]
fn agents_create_sends_the_body_and_headers() {
    let mut server = Server::new();
    let m = expect(&mut server, "POST", "/v1/agents", MA)
        .match_query(Matcher::Missing)
        .match_header("content-type", "application/json")
        .match_body(Matcher::Json(json!({
            "name": "Code Reviewer",
            "model": "claude-opus-4-5",
            "system": "You are a senior code reviewer.",
            "tools": [
                {"type": "agent_toolset_20260401", "default_config": {"enabled": true}},
                {"type": "custom", "name": "run_tests", "description": "Run the test suite",
                 "input_schema": {"type": "object", "properties": {"test_path": {"type": "string"}},
                                  "required": ["test_path"], "additionalProperties": false}}
            ]
        })))
        .with_body(fixture("Agent"))
        .create();
    let agent = client(&server)
        .agents()
        .create(
            &AgentCreateParams::new("Code Reviewer", "claude-opus-4-5")
                .system("You are a senior code reviewer.")
                .tool(AgentToolset20260401Params::enabled())
                .tool(CustomToolParams::new(
                    "run_tests",
                    "Run the test suite",
                    json!({"type": "object", "properties": {"test_path": {"type": "string"}},
                           "required": ["test_path"], "additionalProperties": false}),
                )),
        )
        .unwrap();
    assert!(agent.id.starts_with("agent_"));
    m.assert();
}

#[test]
fn agents_list_and_versions_send_their_query() {
    let mut server = Server::new();
    let m = expect(&mut server, "GET", "/v1/agents", MA)
        .match_query(Matcher::Exact("limit=2&page=page_abc".into()))
        .with_body(page(vec![], None))
        .create();
    let c = client(&server);
    let p = c
        .agents()
        .list(&AgentListParams::default().limit(2).page("page_abc"))
        .unwrap();
    assert!(p.data.is_empty() && !p.has_next_page());
    m.assert();
    let m = expect(&mut server, "GET", "/v1/agents/agent_1/versions", MA)
        .match_query(Matcher::Missing)
        .with_body(page(vec![], None))
        .create();
    c.agents()
        .versions()
        .list("agent_1", &Default::default())
        .unwrap();
    m.assert();
}

#[test]
fn path_parameters_are_percent_encoded() {
    let mut server = Server::new();
    let m = expect(
        &mut server,
        "GET",
        "/v1/sessions/a%2Fb%3Fc%23d%25..%20e",
        MA,
    )
    .match_query(Matcher::Missing)
    .with_body(fixture("Session"))
    .create();
    client(&server).sessions().retrieve("a/b?c#d%.. e").unwrap();
    m.assert();
}

#[test]
fn invalid_ids_are_refused_before_any_request() {
    let mut server = Server::new();
    let m = server.mock("GET", Matcher::Any).expect(0).create();
    let c = client(&server);
    for bad in ["", "..", ".", "ab\ncd"] {
        match c.sessions().retrieve(bad) {
            Err(Error::InvalidInput { param, .. }) => assert_eq!(param, "session_id"),
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
    match c.vaults().credentials().retrieve("vlt_1", "") {
        Err(Error::InvalidInput { param, .. }) => assert_eq!(param, "credential_id"),
        other => panic!("{other:?}"),
    }
    m.assert();
}

#[test]
fn events_list_repeats_array_keys_and_send_posts_events() {
    let mut server = Server::new();
    let m = expect(&mut server, "GET", "/v1/sessions/sesn_1/events", MA)
        .match_query(Matcher::Exact(
            "limit=50&order=desc&types%5B%5D=agent.message&types%5B%5D=agent.custom_tool_use"
                .into(),
        ))
        .with_body(page(vec![], None))
        .create();
    let c = client(&server);
    c.sessions()
        .events()
        .list(
            "sesn_1",
            &SessionsEventListParams::default()
                .limit(50)
                .order(EventsListOrder::Desc)
                .types(vec![
                    SessionEventType::AgentMessage,
                    SessionEventType::AgentCustomToolUse,
                ]),
        )
        .unwrap();
    m.assert();

    let m = expect(&mut server, "POST", "/v1/sessions/sesn_1/events", MA)
        .match_body(Matcher::Json(json!({"events": [
            {"type": "user.message", "content": [{"type": "text", "text": "Review the auth module"}]},
            {"type": "user.custom_tool_result", "custom_tool_use_id": "sevt_abc123",
             "content": [{"type": "text", "text": "All 42 tests passed."}]}
        ]})))
        .with_body(fixture("SendSessionEvents"))
        .create();
    c.sessions()
        .events()
        .send(
            "sesn_1",
            &EventSendParams::new(vec![
                UserMessageEventParams::text("Review the auth module").into(),
                UserCustomToolResultEventParams::text("sevt_abc123", "All 42 tests passed.").into(),
            ]),
        )
        .unwrap();
    m.assert();
}

#[test]
fn sessions_create_update_archive_delete() {
    let mut server = Server::new();
    let c = client(&server);
    let m = expect(&mut server, "POST", "/v1/sessions", MA)
        .match_body(Matcher::Json(json!({
            "agent": {"type": "agent", "id": "agent_1", "version": 3},
            "environment_id": "env_1",
            "title": "Code review session",
            "resources": [{"type": "github_repository", "url": "https://github.com/owner/repo",
                           "mount_path": "/workspace/repo", "authorization_token": "ghp_x",
                           "checkout": {"type": "branch", "name": "main"}}],
            "vault_ids": ["vlt_1"]
        })))
        .with_body(fixture("Session"))
        .create();
    c.sessions()
        .create(
            &SessionCreateParams::new(AgentParams::new("agent_1").version(3), "env_1")
                .title("Code review session")
                .resources(vec![GitHubRepositoryResourceParams::new(
                    "https://github.com/owner/repo",
                )
                .mount_path("/workspace/repo")
                .authorization_token("ghp_x")
                .checkout(BranchCheckoutParam::new("main"))
                .into()])
                .vault_ids(vec!["vlt_1".to_string()]),
        )
        .unwrap();
    m.assert();

    // an explicit null clears a field
    let m = expect(&mut server, "POST", "/v1/sessions/sesn_1", MA)
        .match_body(Matcher::Json(json!({"title": null})))
        .with_body(fixture("Session"))
        .create();
    c.sessions()
        .update("sesn_1", &SessionUpdateParams::default().clear_title())
        .unwrap();
    m.assert();

    let m = expect(&mut server, "POST", "/v1/sessions/sesn_1/archive", MA)
        .with_body(fixture("Session"))
        .create();
    c.sessions().archive("sesn_1").unwrap();
    m.assert();
    let m = expect(&mut server, "DELETE", "/v1/sessions/sesn_1", MA)
        .with_body(fixture("DeletedSession"))
        .create();
    c.sessions().delete("sesn_1").unwrap();
    m.assert();
}

#[test]
fn environments_and_their_work_queue() {
    let mut server = Server::new();
    let c = client(&server);
    let m = expect(&mut server, "POST", "/v1/environments", MA)
        .match_body(Matcher::Json(json!({"name": "my-dev-env",
            "config": {"type": "cloud", "networking": {"type": "unrestricted"}}})))
        .with_body(fixture("Environment"))
        .create();
    c.environments()
        .create(&EnvironmentCreateParams::cloud("my-dev-env"))
        .unwrap();
    m.assert();
    let m = expect(&mut server, "GET", "/v1/environments/env_1/work/poll", MA)
        .match_query(Matcher::Exact("block_ms=5000".into()))
        .with_body(fixture("SelfHostedWork"))
        .create();
    c.environments()
        .work()
        .poll("env_1", &WorkPollParams::default().block_ms(5000))
        .unwrap();
    m.assert();
    let m = expect(
        &mut server,
        "POST",
        "/v1/environments/env_1/work/work_1/ack",
        MA,
    )
    .with_body(fixture("SelfHostedWork"))
    .create();
    c.environments().work().ack("env_1", "work_1").unwrap();
    m.assert();
}

#[test]
fn vaults_credentials_memory_and_deployments() {
    let mut server = Server::new();
    let c = client(&server);
    let m = expect(&mut server, "POST", "/v1/vaults/vlt_1/credentials", MA)
        .match_body(Matcher::Json(json!({"auth": {"type": "static_bearer",
            "mcp_server_url": "https://my-mcp-server.example.com/sse", "token": "tok"}})))
        .with_body(fixture("Credential"))
        .create();
    c.vaults()
        .credentials()
        .create(
            "vlt_1",
            &CredentialCreateParams::new(StaticBearerCreateParams::new(
                "https://my-mcp-server.example.com/sse",
                "tok",
            )),
        )
        .unwrap();
    m.assert();

    let m = expect(
        &mut server,
        "POST",
        "/v1/memory_stores/memstore_1/memories",
        "agent-memory-2026-07-22",
    )
    .match_query(Matcher::Exact("view=full".into()))
    .match_body(Matcher::Json(
        json!({"path": "/notes.md", "content": "hello"}),
    ))
    .with_body(fixture("Memory"))
    .create();
    c.memory_stores()
        .memories()
        .create(
            "memstore_1",
            &MemoryCreateQuery::default().view(MemoryView::Full),
            &MemoryCreateParams::new("/notes.md").content("hello"),
        )
        .unwrap();
    m.assert();

    let m = expect(&mut server, "POST", "/v1/deployments/depl_1/pause", MA)
        .with_body(fixture("Deployment"))
        .create();
    c.deployments().pause("depl_1").unwrap();
    m.assert();
    let m = expect(&mut server, "GET", "/v1/deployment_runs", MA)
        .match_query(Matcher::Missing)
        .with_body(page(vec![], None))
        .create();
    c.deployment_runs().list(&Default::default()).unwrap();
    m.assert();
}

#[test]
fn files_use_the_files_beta_and_stream_multipart() {
    let mut server = Server::new();
    let c = client(&server);
    let m = expect(&mut server, "GET", "/v1/files", FILES_BETA)
        .match_query(Matcher::Exact("scope_id=sesn_1".into()))
        .with_body(page(vec![], None))
        .create();
    c.files().list(&FileListParams::scope("sesn_1")).unwrap();
    m.assert();

    let m = expect(&mut server, "POST", "/v1/files", FILES_BETA)
        .match_header("content-type", Matcher::Regex("^multipart/form-data; boundary=managed-agents-".into()))
        .match_body(Matcher::Regex(
            "(?s)^--managed-agents-[0-9a-f]+\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\n1,2\n\r\n--managed-agents-[0-9a-f]+--\r\n$".into(),
        ))
        .with_body(fixture("FileMetadata"))
        .create();
    c.files()
        .upload(UploadFile::bytes("data.csv", b"a,b\n1,2\n".to_vec()))
        .unwrap();
    m.assert();

    let m = expect(&mut server, "GET", "/v1/files/file_1/content", FILES_BETA)
        .with_body(b"\x00\x01binary")
        .create();
    let mut out = Vec::new();
    c.files()
        .download("file_1")
        .unwrap()
        .write_to(&mut out)
        .unwrap();
    assert_eq!(out, b"\x00\x01binary");
    m.assert();
}

#[test]
fn skills_versions_use_the_skills_beta() {
    let mut server = Server::new();
    let c = client(&server);
    let m = expect(
        &mut server,
        "GET",
        "/v1/skills/skill_1/versions/1759178010641129",
        "skills-2025-10-02",
    )
    .with_body(fixture("SkillVersion"))
    .create();
    c.skills()
        .versions()
        .retrieve("skill_1", "1759178010641129")
        .unwrap();
    m.assert();
}

#[test]
fn per_call_options_add_headers_and_query() {
    let mut server = Server::new();
    let m = expect(&mut server, "POST", "/v1/sessions/sesn_1/archive", MA)
        .match_header("anthropic-workspace-id", "wrkspc_1")
        .match_query(Matcher::Exact("trace=1".into()))
        .with_body(fixture("Session"))
        .create();
    client(&server)
        .sessions()
        .archive_with(
            "sesn_1",
            &RequestOptions::new()
                .header("anthropic-workspace-id", "wrkspc_1")
                .query("trace", "1"),
        )
        .unwrap();
    m.assert();
}

#[test]
fn api_errors_carry_status_type_message_and_request_id() {
    let mut server = Server::new();
    server
        .mock("GET", "/v1/sessions/sesn_404")
        .match_query(Matcher::Any)
        .with_status(404)
        .with_header("request-id", "req_123")
        .with_body(
            r#"{"type":"error","error":{"type":"not_found_error","message":"session not found"}}"#,
        )
        .create();
    let err = client(&server).sessions().retrieve("sesn_404").unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.request_id(), Some("req_123"));
    let text = err.to_string();
    assert!(
        text.contains("not_found_error") && text.contains("session not found"),
        "{text}"
    );
    assert!(!format!("{err:?}").contains(KEY));
}

#[test]
fn work_stop_and_update_keep_the_environment_in_the_path_and_stop_answers_204() {
    let mut server = Server::new();
    let c = client(&server);
    let path = "/v1/environments/env_1/work/work_1";
    // the body is only `{"force": ..}`: no `environment_id`; the answer has no body
    let m = expect(&mut server, "POST", &format!("{path}/stop"), MA)
        .match_body(Matcher::Json(json!({"force": true})))
        .with_status(204)
        .create();
    // `stop` returns `()`: the empty answer is not read as a work item
    let (): () = c
        .environments()
        .work()
        .stop("env_1", "work_1", &WorkStopParams::new().force(true))
        .unwrap();
    m.assert();
    let m = expect(&mut server, "POST", path, MA)
        .match_body(Matcher::Json(json!({"metadata": {"k": "v"}})))
        .with_body(fixture("SelfHostedWork"))
        .create();
    let metadata: std::collections::BTreeMap<String, Option<String>> =
        [("k".to_string(), Some("v".to_string()))].into();
    c.environments()
        .work()
        .update("env_1", "work_1", &WorkUpdateParams::new(metadata))
        .unwrap();
    m.assert();
    // the other updates whose parent ID is a path parameter send it nowhere else
    let m = expect(
        &mut server,
        "POST",
        "/v1/sessions/ses_1/resources/res_1",
        MA,
    )
    .match_body(Matcher::Json(json!({"authorization_token": "tok"})))
    .with_body(fixture("FileResource"))
    .create();
    c.sessions()
        .resources()
        .update("ses_1", "res_1", &ResourceUpdateParams::new("tok"))
        .unwrap();
    m.assert();
    let m = expect(
        &mut server,
        "POST",
        "/v1/vaults/vlt_1/credentials/crd_1",
        MA,
    )
    .match_body(Matcher::Json(json!({"display_name": "d"})))
    .with_body(fixture("Credential"))
    .create();
    c.vaults()
        .credentials()
        .update(
            "vlt_1",
            "crd_1",
            &CredentialUpdateParams::new().display_name("d"),
        )
        .unwrap();
    m.assert();
    let m = expect(
        &mut server,
        "POST",
        "/v1/memory_stores/mst_1/memories/mem_1",
        "agent-memory-2026-07-22",
    )
    .match_body(Matcher::Json(json!({"content": "c"})))
    .with_body(fixture("Memory"))
    .create();
    c.memory_stores()
        .memories()
        .update(
            "mst_1",
            "mem_1",
            &Default::default(),
            &MemoryUpdateParams::new().content("c"),
        )
        .unwrap();
    m.assert();
}

/// A one-connection HTTP proxy on loopback (a `CONNECT` tunnel, as ureq asks for one):
/// answers the tunneled request with `body` and hands back the request lines it saw, or
/// `None` when nothing connected within `wait` (after which it listens no more).
fn fake_proxy(
    body: &'static str,
    wait: std::time::Duration,
) -> (String, std::thread::JoinHandle<Option<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let until = std::time::Instant::now() + wait;
        let mut conn = loop {
            match listener.accept() {
                Ok((c, _)) => break c,
                Err(_) if std::time::Instant::now() < until => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                Err(_) => return None,
            }
        };
        conn.set_nonblocking(false).unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let head = |reader: &mut BufReader<std::net::TcpStream>| {
            let mut first = String::new();
            reader.read_line(&mut first).unwrap();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            first.trim_end().to_string()
        };
        let mut seen = vec![head(&mut reader)];
        if seen[0].starts_with("CONNECT ") {
            conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .unwrap();
            seen.push(head(&mut reader));
        }
        write!(
            conn,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        Some(seen)
    });
    (addr, handle)
}

#[test]
fn an_explicit_proxy_carries_every_request() {
    let (proxy, seen) = fake_proxy(
        r#"{"data":[],"next_page":null}"#,
        std::time::Duration::from_secs(60),
    );
    let client = Client::builder()
        .api_key(KEY)
        .base_url("http://api.example.test")
        .allow_plain_http(true)
        .proxy(proxy)
        .max_retries(0)
        .build()
        .unwrap();
    let page = client.agents().list(&Default::default()).unwrap();
    assert!(page.data.is_empty());
    let seen = seen.join().unwrap().expect("the proxy was not used");
    assert_eq!(seen[0], "CONNECT api.example.test:80 HTTP/1.1");
    assert_eq!(seen[1], "GET /v1/agents HTTP/1.1");
    // the proxy's URL (it may hold a password) is not in the builder's Debug
    let b = Client::builder().proxy("http://user:hunter2@proxy.test:3128");
    assert!(!format!("{b:?}").contains("hunter2"), "{b:?}");
}
