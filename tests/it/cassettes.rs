//! Recording a client's traffic into a cassette (`ClientBuilder::record_to`), on the strict
//! emulator: one line per exchange with its path template, bodies as the caller got them, an
//! event stream as its events with their delays, and no secret in the file.

use crate::support::emulated::cloud_session;
use managed_agents::types::*;
use managed_agents::Client;
use managed_agents_emulator::{Emulator, Script};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A fresh file path for a test's cassette (removed when dropped).
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix(&format!("managed-agents-cassette-{name}-"))
            .tempdir()
            .unwrap();
        Scratch(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.path().join("session.cassette.jsonl")
    }

    /// A client with `key` of the server at `url`, recording to this cassette.
    fn recording_client(&self, key: &str, url: &str) -> Client {
        Client::builder()
            .api_key(key)
            .base_url(url)
            .record_to(self.file())
            .build()
            .unwrap()
    }
}

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A concrete path matches its template segment by segment.
fn fits(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

/// What the caller got, read again from what the cassette holds: equal when the cassette's
/// body is the one the client decoded.
fn same_as<T: serde::de::DeserializeOwned + serde::Serialize>(recorded: &Value, got: &T) {
    let again: T = serde_json::from_value(recorded.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        serde_json::to_value(got).unwrap()
    );
}

#[test]
fn a_recorded_session_has_every_exchange_and_the_stream_as_it_came() {
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    emu.set_script(
        Script::new()
            .call_tool("run_tests", json!({"test_path": "tests/"}))
            .say("The tests pass."),
    );
    let scratch = Scratch::new("faithful");
    let client = scratch.recording_client("emulator-key", emu.base_url());
    let environment = client
        .environments()
        .create(&EnvironmentCreateParams::cloud("cassette-env"))
        .unwrap();
    let agent = client
        .agents()
        .create(
            &AgentCreateParams::new("Tester", "claude-opus-4-5").tool(CustomToolParams::new(
                "run_tests",
                "Run the test suite",
                json!({"type": "object", "properties": {"test_path": {"type": "string"}}}),
            )),
        )
        .unwrap();
    let session = client
        .sessions()
        .create(&SessionCreateParams::new(&agent, environment.id.as_str()))
        .unwrap();
    let mut seen = Vec::new();
    let outcome = client
        .run(&session.id)
        .message("Run the tests")
        .tool("run_tests", |_call| Ok::<_, String>("All tests passed."))
        .on_event(|ev| seen.push(serde_json::to_value(ev).unwrap()))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.tool_calls.len(), 1);
    let events = client
        .sessions()
        .events()
        .list(&session.id, &Default::default())
        .unwrap();
    drop(client);

    let all = lines(&scratch.file());
    assert_eq!(
        all[0],
        json!({"kind": "header", "format": "managed-agents-cassette", "version": 1,
               "client": format!("managed-agents-rust/{}", env!("CARGO_PKG_VERSION")),
               "base_url": emu.base_url()})
    );
    let exchanges: Vec<&Value> = all.iter().filter(|l| l["kind"] == "exchange").collect();
    // one line per request the server saw (a stream opens with its listing and its connect at
    // once, so those two may reach the server in either order)
    let mut log = emu.request_log();
    assert_eq!(exchanges.len(), log.len(), "{exchanges:#?}");
    let mut ids = Vec::new();
    for x in &exchanges {
        let seen = log
            .iter()
            .position(|req| x["method"] == req.method && x["path"] == req.path)
            .unwrap_or_else(|| panic!("the server never saw {x}"));
        let req = log.remove(seen);
        let template = x["path_template"].as_str().unwrap();
        assert!(fits(template, &req.path), "{template} vs {}", req.path);
        assert_eq!(x["status"].as_u64().map(|s| s / 100), Some(2), "{x}");
        assert!(x["response_headers"]["request-id"].is_string(), "{x}");
        assert!(x["elapsed_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{x}");
        ids.push(x["id"].as_u64().unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let by_op = |op: &str| -> Vec<&Value> {
        exchanges
            .iter()
            .copied()
            .filter(|x| x["operation"] == op)
            .collect()
    };
    let one = |op: &str| -> &Value {
        let found = by_op(op);
        assert_eq!(found.len(), 1, "{op}: {found:#?}");
        found[0]
    };

    // bodies: what the caller got, and what it sent
    let x = one("environments.create");
    assert_eq!(x["path_template"], "/v1/environments");
    assert_eq!(x["request_body"]["name"], "cassette-env");
    same_as(&x["body"], &environment);
    let x = one("agents.create");
    assert_eq!(x["request_body"]["tools"][0]["name"], "run_tests");
    same_as(&x["body"], &agent);
    let x = one("sessions.create");
    same_as(&x["body"], &session);
    let x = by_op("sessions.events.list");
    let last = x.last().unwrap();
    assert_eq!(last["path_template"], "/v1/sessions/{session_id}/events");
    assert_eq!(last["path"], format!("/v1/sessions/{}/events", session.id));
    same_as(&last["body"]["data"], &events.data);
    // the message and the tool's answer, as sent
    let sent: Vec<&Value> = by_op("sessions.events.send")
        .iter()
        .flat_map(|x| x["request_body"]["events"].as_array().unwrap())
        .collect();
    assert!(
        sent.iter()
            .any(|e| e["type"] == "user.message" && e["content"][0]["text"] == "Run the tests"),
        "{sent:#?}"
    );
    assert!(
        sent.iter().any(|e| e["type"] == "user.custom_tool_result"
            && e["content"][0]["text"] == "All tests passed."),
        "{sent:#?}"
    );

    // the stream: its exchange, then its events, each with its delay, in order
    let stream = one("sessions.events.stream");
    assert_eq!(
        stream["path_template"],
        "/v1/sessions/{session_id}/events/stream"
    );
    assert_eq!(stream["stream"], "events");
    assert_eq!(stream["body"], Value::Null);
    let stream_id = &stream["id"];
    let recorded: Vec<&Value> = all
        .iter()
        .filter(|l| l["kind"] == "event" && &l["exchange"] == stream_id)
        .collect();
    assert!(!recorded.is_empty());
    for (i, e) in recorded.iter().enumerate() {
        assert_eq!(e["seq"], json!(i), "{e}");
        assert!(e["delay_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{e}");
    }
    let stream_position = all.iter().position(|l| l == stream).unwrap();
    let first_event = all.iter().position(|l| l == recorded[0]).unwrap();
    assert!(stream_position < first_event);
    // every event the runner was handed from the stream is there, as it was
    let on_stream: Vec<&Value> = recorded.iter().map(|e| &e["data"]).collect();
    for kind in [
        "agent.custom_tool_use",
        "agent.message",
        "session.status_idle",
    ] {
        let got = seen.iter().find(|e| e["type"] == kind).unwrap();
        let rec = on_stream
            .iter()
            .find(|e| e["id"] == got["id"])
            .unwrap_or_else(|| panic!("{kind} not recorded"));
        same_as(
            rec,
            &serde_json::from_value::<SessionEvent>(got.clone()).unwrap(),
        );
    }
}

#[test]
fn no_secret_reaches_the_cassette() {
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    let scratch = Scratch::new("secrets");
    const API_KEY: &str = "sk-ant-api-SECRET-0001";
    const ENV_KEY: &str = "envkey-SECRET-0002";
    const VAULT_TOKEN: &str = "vault-bearer-SECRET-0003";
    const VAULT_TOKEN_2: &str = "vault-bearer-SECRET-0004";
    const GITHUB_TOKEN: &str = "ghp_SECRET0005abcdef";
    const GITHUB_TOKEN_2: &str = "ghp_SECRET0006abcdef";
    const WEBHOOK_SECRET: &str = "whsec_SECRET0007abcdef";
    const HEADER_SECRET: &str = "internal-SECRET-0008";
    const POINTER_SECRET: &str = "customer-SECRET-0009";
    let client = Client::builder()
        .api_key(API_KEY)
        .base_url(emu.base_url())
        .header("x-internal-token", HEADER_SECRET)
        .record_to(scratch.file())
        .record_redact(["x-internal-token", "/metadata/customer"])
        .build()
        .unwrap();

    // a self-hosted environment whose work item hands out a sessions token
    let metadata: BTreeMap<String, String> = [
        ("customer".to_string(), POINTER_SECRET.to_string()),
        ("webhook_secret".to_string(), WEBHOOK_SECRET.to_string()),
    ]
    .into();
    let env = client
        .environments()
        .create(
            &EnvironmentCreateParams::new("local")
                .config(SelfHostedConfigParams::new())
                .metadata(metadata),
        )
        .unwrap();
    let agent = client
        .agents()
        .create(&AgentCreateParams::new("Local", "claude-opus-4-5"))
        .unwrap();
    let vault = client
        .vaults()
        .create(&VaultCreateParams::new("tools"))
        .unwrap();
    let credential = client
        .vaults()
        .credentials()
        .create(
            &vault.id,
            &CredentialCreateParams::new(StaticBearerCreateParams::new(
                "https://mcp.example.com/sse",
                VAULT_TOKEN,
            )),
        )
        .unwrap();
    let _ = client.vaults().credentials().update(
        &vault.id,
        &credential.id,
        &CredentialUpdateParams::new().auth(StaticBearerUpdateParams::new().token(VAULT_TOKEN_2)),
    );
    let session = client
        .sessions()
        .create(
            &SessionCreateParams::new(&agent, env.id.as_str()).resources(vec![
                GitHubRepositoryResourceParams::new("https://github.com/owner/repo")
                    .authorization_token(GITHUB_TOKEN)
                    .into(),
            ]),
        )
        .unwrap();
    let resources = client
        .sessions()
        .resources()
        .list(&session.id, &Default::default())
        .unwrap();
    let resource = serde_json::to_value(&resources.data[0]).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    client
        .sessions()
        .resources()
        .update(
            &session.id,
            &resource,
            &ResourceUpdateParams::new(GITHUB_TOKEN_2),
        )
        .unwrap();

    let worker = client.with_environment_key(ENV_KEY).unwrap();
    let work = worker
        .environments()
        .work()
        .poll(&env.id, &WorkPollParams::default().block_ms(999))
        .unwrap()
        .expect("a work item for the session");
    let secret = work.secret.clone().expect("the work item's secret");
    let sessions_token =
        managed_agents::environments::sessions_token(Some(&secret)).expect("a sessions token");
    let with_token = client.with_environment_key(&sessions_token).unwrap();
    let _ = with_token.sessions().retrieve(&session.id);
    drop((client, worker, with_token));

    let text = std::fs::read_to_string(scratch.file()).unwrap();
    for secret in [
        API_KEY,
        ENV_KEY,
        VAULT_TOKEN,
        VAULT_TOKEN_2,
        GITHUB_TOKEN,
        GITHUB_TOKEN_2,
        WEBHOOK_SECRET,
        HEADER_SECRET,
        POINTER_SECRET,
        &secret,
        &sessions_token,
    ] {
        assert!(
            !text.contains(secret),
            "{secret} is in the cassette:\n{text}"
        );
    }
    // the lines are still there, with the secrets marked as taken out
    let all = lines(&scratch.file());
    let x = all
        .iter()
        .find(|l| l["operation"] == "vaults.credentials.create")
        .unwrap();
    assert_eq!(x["request_body"]["auth"]["token"], "[REDACTED]");
    assert_eq!(
        x["request_body"]["auth"]["mcp_server_url"],
        "https://mcp.example.com/sse"
    );
    let x = all
        .iter()
        .find(|l| l["operation"] == "environments.work.poll")
        .unwrap();
    assert_eq!(x["request_headers"]["authorization"], "[REDACTED]");
    assert_eq!(x["body"]["secret"], "[REDACTED]");
    let x = all
        .iter()
        .find(|l| l["operation"] == "environments.create")
        .unwrap();
    assert_eq!(x["request_headers"]["x-api-key"], "[REDACTED]");
    assert_eq!(x["request_headers"]["x-internal-token"], "[REDACTED]");
    assert_eq!(x["request_body"]["metadata"]["customer"], "[REDACTED]");
    assert_eq!(x["body"]["metadata"]["customer"], "[REDACTED]");
    assert_eq!(x["request_body"]["name"], "local");
}

#[test]
fn an_event_is_in_the_cassette_while_its_stream_is_still_open() {
    use managed_agents::StreamOptions;
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    emu.set_script(Script::new().say("Hello."));
    let scratch = Scratch::new("unbuffered");
    let client = scratch.recording_client("emulator-key", emu.base_url());
    let session = cloud_session(&client, None);
    let mut stream = client
        .sessions()
        .events()
        .stream(&session.id, StreamOptions::new())
        .unwrap();
    client
        .sessions()
        .events()
        .send(
            &session.id,
            &EventSendParams::one(UserMessageEventParams::text("hi")),
        )
        .unwrap();
    let message = stream
        .by_ref()
        .map(|e| serde_json::to_value(e.unwrap()).unwrap())
        .find(|e| e["type"] == "agent.message")
        .unwrap();
    // the stream is open (the session idles, the connection waits): the event is already there
    let recorded = lines(&scratch.file());
    assert!(
        recorded
            .iter()
            .any(|l| l["kind"] == "event" && l["data"]["id"] == message["id"]),
        "{recorded:#?}"
    );
    assert!(
        !recorded.iter().any(|l| l["kind"] == "end"),
        "{recorded:#?}"
    );
    drop(stream);
}

#[test]
fn errors_forms_and_downloads_are_recorded() {
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    let scratch = Scratch::new("errors");
    let client = scratch.recording_client("emulator-key", emu.base_url());
    let missing = client.sessions().retrieve("sesn_011missing").unwrap_err();
    let content = b"a,b\n1,2\n".repeat(1000);
    let file = client
        .files()
        .upload(managed_agents::UploadFile::bytes(
            "data.csv",
            content.clone(),
        ))
        .unwrap();
    assert!(file.id.starts_with("file_"));
    drop(client);

    let all = lines(&scratch.file());
    let x = all
        .iter()
        .find(|l| l["operation"] == "sessions.retrieve")
        .unwrap();
    assert_eq!(x["status"], 404);
    assert_eq!(x["path_template"], "/v1/sessions/{session_id}");
    assert_eq!(x["body"]["request_id"], json!(missing.request_id()));
    assert_eq!(
        x["response_headers"]["request-id"],
        json!(missing.request_id())
    );
    let x = all
        .iter()
        .find(|l| l["operation"] == "files.upload")
        .unwrap();
    let form = &x["request_body"]["multipart"];
    assert!(form["content_type"]
        .as_str()
        .unwrap()
        .starts_with("multipart/form-data; boundary="));
    assert!(form["length"].as_u64().unwrap() > content.len() as u64);

    // a download, from a server that sends it in pieces
    let mut server = mockito::Server::new();
    let _m = server
        .mock("GET", "/v1/files/file_1/content")
        .with_header("content-type", "application/octet-stream")
        .with_chunked_body({
            let content = content.clone();
            move |w| {
                for piece in content.chunks(3000) {
                    w.write_all(piece)?;
                    w.flush()?;
                }
                Ok(())
            }
        })
        .create();
    let scratch = Scratch::new("download");
    let client = scratch.recording_client("mock-key", &server.url());
    let downloaded = client.files().download("file_1").unwrap().bytes().unwrap();
    assert_eq!(downloaded, content);
    drop(client);
    let all = lines(&scratch.file());
    let x = all
        .iter()
        .find(|l| l["operation"] == "files.download")
        .unwrap();
    assert_eq!(x["stream"], "bytes");
    assert_eq!(x["path_template"], "/v1/files/{file_id}/content");
    use base64::Engine;
    let mut got = Vec::new();
    for c in all
        .iter()
        .filter(|l| l["kind"] == "chunk" && l["exchange"] == x["id"])
    {
        got.extend(
            base64::engine::general_purpose::STANDARD
                .decode(c["base64"].as_str().unwrap())
                .unwrap(),
        );
    }
    assert_eq!(got, content);
    let end = all
        .iter()
        .find(|l| l["kind"] == "end" && l["exchange"] == x["id"])
        .unwrap();
    assert_eq!(end["reason"], "eof");
}

#[test]
fn secrets_in_events_are_taken_out_and_other_events_kept_as_they_came() {
    let mut server = mockito::Server::new();
    let frames = concat!(
        "event: message\n",
        "data: {\"type\":\"agent.message\",\"id\":\"sevt_1\",\"content\":[{\"type\":\"text\",\"text\":\"no secret here\"}]}\n\n",
        ": a comment\n\n",
        "event: ping\ndata: {}\n\n",
        "event: message\n",
        "data: {\"type\":\"x.resource\",\"id\":\"sevt_2\",\"authorization_token\":\"ghp_SECRETinEVENT01\"}\n\n",
        "event: message\n",
        "data: {\"type\":\"x.escaped\",\"id\":\"sevt_3\",\"\\u0074oken\":\"SECRET-escaped-key-02\"}\n\n",
        "event: message\n",
        "data: {\"type\":\"x.multi\",\n",
        "data:  \"id\":\"sevt_4\", \"secret\" : \"SECRET-split-line-03\"}\n\n",
        "data: not json\n\n",
    );
    let _m = server
        .mock("GET", "/v1/sessions/sesn_1/events/stream")
        .with_header("content-type", "text/event-stream")
        .with_body(frames)
        .create();
    let scratch = Scratch::new("event-secrets");
    let client = scratch.recording_client("mock-key", &server.url());
    let body = client
        .sessions()
        .events()
        .stream_response("sesn_1", &Default::default())
        .unwrap()
        .bytes()
        .unwrap();
    // what the caller reads is the body as sent
    assert_eq!(body, frames.as_bytes());
    drop(client);
    let text = std::fs::read_to_string(scratch.file()).unwrap();
    for secret in [
        "ghp_SECRETinEVENT01",
        "SECRET-escaped-key-02",
        "SECRET-split-line-03",
    ] {
        assert!(!text.contains(secret), "{secret}:\n{text}");
    }
    let events: Vec<Value> = lines(&scratch.file())
        .into_iter()
        .filter(|l| l["kind"] == "event")
        .collect();
    let data: Vec<&Value> = events.iter().map(|e| &e["data"]).collect();
    assert_eq!(events.len(), 6, "{events:#?}");
    assert_eq!(
        *data[0],
        json!({"type": "agent.message", "id": "sevt_1",
               "content": [{"type": "text", "text": "no secret here"}]})
    );
    assert_eq!(events[1]["event"], "ping");
    assert_eq!(
        *data[2],
        json!({"type": "x.resource", "id": "sevt_2",
                               "authorization_token": "[REDACTED]"})
    );
    assert_eq!(
        *data[3],
        json!({"type": "x.escaped", "id": "sevt_3", "token": "[REDACTED]"})
    );
    assert_eq!(
        *data[4],
        json!({"type": "x.multi", "id": "sevt_4", "secret": "[REDACTED]"})
    );
    assert_eq!(events[5]["data_text"], "not json");
    assert!(events.iter().all(|e| e["delay_ms"].as_f64().is_some()));
}

/// `CassetteWriter`: the exchanges of a program the crate did not send itself (as the
/// command-line tool's recording proxy sees them), matched to their operations, with the same
/// secrets kept out as a client's cassette.
#[test]
fn a_writer_records_raw_exchanges_as_a_client_would() {
    use managed_agents::cassette::{AnswerBody, CassetteWriter};
    use std::io::Read;
    let scratch = Scratch::new("writer");
    let path = scratch.file();
    let redact = ["/metadata/customer".to_string(), "X-Tenant".to_string()];
    let w = CassetteWriter::create(&path, "proxy/1", "https://api.example.com", &redact).unwrap();
    w.add_secret("known-secret-0123456789");
    let h = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let json = h(&[("content-type", "application/json")]);

    // a vault credential: its token and value taken out, the bearer token learned
    let pending = w.request(
        "post",
        "/v1/vaults/vlt_1/credentials",
        &[("beta".to_string(), "true".to_string())],
        &h(&[
            ("Authorization", "Bearer bearer-token-0123456789"),
            ("x-tenant", "tenant-secret-0123456789"),
            ("content-type", "application/json"),
        ]),
        br#"{"auth":{"type":"environment_variable","secret_name":"N","value":"vault-value-0123456789","token":"t0ken-0123456789"},"metadata":{"customer":"customer-0123456789","note":"known-secret-0123456789"}}"#,
    );
    let answer = br#"{"id":"vcrd_1","echo":"bearer-token-0123456789"}"#;
    let x = w.answered(pending, 200, &json, AnswerBody::Whole(answer));
    assert_eq!(x.id(), 1);

    // an event stream, read through the tap as it comes
    let pending = w.request("GET", "/v1/sessions/sesn_1/events/stream", &[], &[], b"");
    let sse = h(&[("content-type", "text/event-stream")]);
    let x = w.answered(pending, 200, &sse, AnswerBody::Events);
    let body = "event: message\ndata: {\"type\":\"agent.message\",\"n\":1}\n\n\
                data: {\"type\":\"x\",\"token\":\"stream-token-0123456789\"}\n\n";
    let mut tapped = w.tap(&x, std::io::Cursor::new(body.as_bytes().to_vec()));
    let mut passed = String::new();
    tapped.read_to_string(&mut passed).unwrap();
    drop(tapped);
    assert_eq!(passed, body, "the body passes unchanged");

    // a form, a path the API does not have, and a request that got no answer
    let form = h(&[("content-type", "multipart/form-data; boundary=b")]);
    let pending = w.request("POST", "/v1/files", &[], &form, b"--b\r\n...--b--\r\n");
    w.answered(
        pending,
        200,
        &json,
        AnswerBody::Whole(b"{\"id\":\"file_1\"}"),
    );
    let pending = w.request_form("POST", "/v1/files", &[], &form, Some(1234));
    w.answered(
        pending,
        200,
        &json,
        AnswerBody::Whole(b"{\"id\":\"file_2\"}"),
    );
    let pending = w.request("GET", "/v2/elsewhere", &[], &[], b"");
    w.failed(pending, "connection refused");

    let text = std::fs::read_to_string(&path).unwrap();
    for secret in [
        "bearer-token-0123456789",
        "tenant-secret-0123456789",
        "vault-value-0123456789",
        "t0ken-0123456789",
        "customer-0123456789",
        "known-secret-0123456789",
        "stream-token-0123456789",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} is in the cassette:\n{text}"
        );
    }
    let lines = lines(&path);
    assert_eq!(lines[0]["client"], "proxy/1");
    assert_eq!(lines[0]["base_url"], "https://api.example.com");
    let credential = &lines[1];
    assert_eq!(credential["operation"], "vaults.credentials.create");
    assert_eq!(credential["method"], "POST");
    assert_eq!(
        credential["path_template"],
        "/v1/vaults/{vault_id}/credentials"
    );
    assert_eq!(credential["query"], json!([["beta", "true"]]));
    assert_eq!(credential["request_headers"]["authorization"], "[REDACTED]");
    assert_eq!(credential["request_headers"]["x-tenant"], "[REDACTED]");
    let auth = &credential["request_body"]["auth"];
    assert_eq!(auth["value"], "[REDACTED]");
    assert_eq!(auth["token"], "[REDACTED]");
    assert_eq!(auth["secret_name"], "N");
    assert_eq!(
        credential["request_body"]["metadata"]["customer"],
        "[REDACTED]"
    );
    assert_eq!(credential["body"]["echo"], "[REDACTED]");
    let stream = &lines[2];
    assert_eq!(stream["operation"], "sessions.events.stream");
    assert_eq!(stream["stream"], "events");
    let events: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "event").collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["event"], "message");
    assert_eq!(events[0]["data"], json!({"type": "agent.message", "n": 1}));
    assert_eq!(events[1]["data"]["token"], "[REDACTED]");
    assert_eq!(events[1]["seq"], 1);
    let end = lines.iter().find(|l| l["kind"] == "end").unwrap();
    assert_eq!(end["reason"], "eof");
    let files = lines
        .iter()
        .find(|l| l["operation"] == "files.upload")
        .unwrap();
    assert_eq!(
        files["request_body"]["multipart"]["content_type"],
        "multipart/form-data; boundary=b"
    );
    let unread = lines
        .iter()
        .filter(|l| l["operation"] == "files.upload")
        .nth(1)
        .unwrap();
    assert_eq!(
        unread["request_body"],
        json!({"multipart": {"content_type": "multipart/form-data; boundary=b", "length": 1234}})
    );
    let failed = lines.last().unwrap();
    assert_eq!(failed["operation"], Value::Null);
    assert_eq!(failed["path_template"], Value::Null);
    assert_eq!(failed["status"], Value::Null);
    assert_eq!(failed["error"], "connection refused");
}

#[test]
fn frames_split_across_reads_or_sharing_one_are_each_one_event_line() {
    use crate::support::{respond_list, sse_head, TestServer};
    use managed_agents::StreamOptions;
    use std::io::Write;
    let event = |n: u32| {
        json!({"type": "agent.message", "id": format!("sevt_{n:03}"),
               "processed_at": "2026-04-01T12:00:00Z",
               "content": [{"type": "text", "text": format!("part {n}")}]})
    };
    let idle = json!({"type": "session.status_idle", "id": "sevt_999",
                      "processed_at": "2026-04-01T12:00:01Z",
                      "stop_reason": {"type": "end_turn"}});
    // LF and CRLF frames: three in one write, one trickled a few bytes a write, a comment
    let mut frames: Vec<String> = (1..=3)
        .map(|n| format!("event: message\ndata: {}\n\n", event(n)))
        .collect();
    frames.push(format!("event: message\r\ndata: {}\r\n\r\n", event(4)));
    frames.push(": a comment\n\n".into());
    frames.push(format!("data: {}\r\n\r\n", event(5)));
    frames.push(format!("data: {idle}\n\n"));
    let frames = std::sync::Arc::new(frames);
    let server = TestServer::start({
        let frames = frames.clone();
        move |_, req, conn| {
            if !req.target.contains("/stream") {
                return respond_list(conn, &req.target, &[]);
            }
            sse_head(conn);
            let together: String = frames[..3].concat();
            let _ = conn.write_all(together.as_bytes());
            let _ = conn.flush();
            for frame in &frames[3..] {
                for piece in frame.as_bytes().chunks(7) {
                    let _ = conn.write_all(piece);
                    let _ = conn.flush();
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        }
    });
    let scratch = Scratch::new("frames");
    let client = scratch.recording_client("frames-key-0123456789", &server.url);
    let got: Vec<Value> = client
        .sessions()
        .events()
        .stream("sesn_1", StreamOptions::new())
        .unwrap()
        .take(6)
        .map(|e| serde_json::to_value(e.unwrap()).unwrap())
        .collect();
    let recorded = lines(&scratch.file());
    let events: Vec<&Value> = recorded.iter().filter(|l| l["kind"] == "event").collect();
    let ids: Vec<&str> = events
        .iter()
        .filter_map(|l| l["data"]["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["sevt_001", "sevt_002", "sevt_003", "sevt_004", "sevt_005", "sevt_999"],
        "{recorded:#?}"
    );
    let seqs: Vec<u64> = events.iter().filter_map(|l| l["seq"].as_u64()).collect();
    assert_eq!(seqs, [0, 1, 2, 3, 4, 5]);
    for (line, ev) in events.iter().zip(&got) {
        assert_eq!(&line["data"], ev);
    }
    assert_eq!(events[3]["event"], "message");
    assert_eq!(events[4]["event"], Value::Null);
}
