//! `record`: a program (here a shell script with curl and the command-line tool itself) run
//! behind the recording proxy, against the strict emulator: what it sends reaches the emulator
//! with its own key, its answers (an event stream among them) come back, the cassette holds
//! every exchange with its operation and the stream's events, no secret is in the file, and
//! the command exits with the program's status.

use crate::support::{setup, stderr, temp, text, BIN};
use managed_agents::types::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// A value no other test uses, long enough to be searched for in the cassette's text.
fn secret(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("rec-secret-{what}-{}-{nanos}", std::process::id())
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The headers every request of the script sends, as the API wants them.
const CURL: &str = r#"curl -sS -f -H "x-api-key: $ANTHROPIC_API_KEY" -H "anthropic-version: $VERSION" -H "anthropic-beta: managed-agents-2026-04-01" -H "content-type: application/json" -H "x-tenant-token: $TENANT""#;

#[test]
fn a_recorded_program_keeps_its_traffic_and_none_of_its_secrets() {
    let (emu, c, agent, env) = setup(false);
    let vault = c.vaults().create(&VaultCreateParams::new("v")).unwrap().id;
    emu.clear_request_log();
    let dir = temp("record");
    let cassette = dir.join("program.cassette.jsonl");
    let api_key = secret("api-key");
    let vault_token = secret("vault-token");
    let github_token = secret("github-token");
    let customer = secret("customer");
    let tenant = secret("tenant");
    // a file upload, passed on as it is read (a form is never held whole)
    let upload = dir.join("upload.txt");
    let content: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&upload, &content).unwrap();
    let uploaded = dir.join("uploaded.json");
    let script = format!(
        r#"set -e
{CURL} -X POST "$ANTHROPIC_BASE_URL/v1/vaults/$VAULT/credentials" -d '{{"display_name":"mcp","auth":{{"type":"static_bearer","token":"'"$VAULT_TOKEN"'","mcp_server_url":"https://mcp.example.com/mcp"}}}}' > /dev/null
{CURL} -X POST "$ANTHROPIC_BASE_URL/v1/sessions" -d '{{"agent":"'"$AGENT"'","environment_id":"'"$ENV"'","resources":[{{"type":"github_repository","url":"https://github.com/o/r","authorization_token":"'"$GITHUB_TOKEN"'"}}],"metadata":{{"customer":"'"$CUSTOMER"'"}}}}' > /dev/null
curl -sS -f -H "x-api-key: $ANTHROPIC_API_KEY" -H "anthropic-version: $VERSION" -H "anthropic-beta: files-api-2025-04-14,managed-agents-2026-04-01" -F "file=@$UPLOAD;type=text/plain" "$ANTHROPIC_BASE_URL/v1/files" > "$UPLOADED"
"$BIN" run --agent "$AGENT" --environment "$ENV" --message go
exit 3"#
    );
    let out = Command::new(BIN)
        .args(["record", "--out"])
        .arg(&cassette)
        .args(["--upstream", emu.base_url()])
        .args([
            "--redact",
            "/metadata/customer",
            "--redact",
            "X-Tenant-Token",
        ])
        .args(["--", "sh", "-c", &script])
        .env("ANTHROPIC_API_KEY", &api_key)
        .env("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
        .env("VERSION", managed_agents::ANTHROPIC_VERSION)
        .env("VAULT", &vault)
        .env("AGENT", &agent)
        .env("ENV", &env)
        .env("BIN", BIN)
        .env("VAULT_TOKEN", &vault_token)
        .env("GITHUB_TOKEN", &github_token)
        .env("CUSTOMER", &customer)
        .env("TENANT", &tenant)
        .env("UPLOAD", &upload)
        .env("UPLOADED", &uploaded)
        .output()
        .unwrap();
    // the program's status, once it ran to its end (the run printed the agent's answer)
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        text(&out.stdout).contains("You said: go"),
        "{}",
        text(&out.stdout)
    );

    // the program's own key went upstream with every request
    let log = emu.request_log();
    assert!(log.len() >= 5, "{log:?}");
    assert!(
        log.iter().all(|r| r.header("x-api-key").is_some()),
        "{log:?}"
    );

    // no secret in the file: searched for with grep, as a user would
    for s in [&api_key, &vault_token, &github_token, &customer, &tenant] {
        let found = Command::new("grep")
            .args(["-c", "-F", s])
            .arg(&cassette)
            .output()
            .unwrap();
        assert_eq!(found.status.code(), Some(1), "{s} is in the cassette");
    }

    let lines = lines(&cassette);
    assert_eq!(lines[0]["kind"], "header");
    assert_eq!(lines[0]["format"], "managed-agents-cassette");
    assert_eq!(lines[0]["base_url"], emu.base_url());
    let exchanges: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "exchange").collect();
    assert_eq!(exchanges.len(), log.len(), "one exchange per request");
    for x in &exchanges {
        assert!(x["operation"].is_string(), "{x}");
        assert!(x["path_template"].is_string(), "{x}");
        assert_eq!(x["request_headers"]["x-api-key"], "[REDACTED]", "{x}");
    }
    let of = |op: &str| -> Vec<&Value> {
        exchanges
            .iter()
            .copied()
            .filter(|x| x["operation"] == op)
            .collect()
    };
    let credential = of("vaults.credentials.create");
    assert_eq!(credential.len(), 1);
    assert_eq!(
        credential[0]["path_template"],
        "/v1/vaults/{vault_id}/credentials"
    );
    assert_eq!(credential[0]["status"], 200);
    assert_eq!(credential[0]["request_body"]["auth"]["token"], "[REDACTED]");
    assert_eq!(
        credential[0]["request_headers"]["x-tenant-token"],
        "[REDACTED]"
    );
    let created = of("sessions.create");
    assert_eq!(created.len(), 2, "the script's session and the run's");
    let body = &created[0]["request_body"];
    assert_eq!(body["resources"][0]["authorization_token"], "[REDACTED]");
    assert_eq!(body["metadata"]["customer"], "[REDACTED]");
    assert_eq!(body["environment_id"], env.as_str());
    assert!(!of("sessions.events.send").is_empty());

    // the upload: whole upstream (the emulator counted every byte), summarised in the cassette
    let file: Value = serde_json::from_slice(&std::fs::read(&uploaded).unwrap()).unwrap();
    assert_eq!(file["size_bytes"], content.len(), "{file}");
    let upload = of("files.upload");
    assert_eq!(upload.len(), 1);
    assert_eq!(upload[0]["status"], 200);
    let form = &upload[0]["request_body"]["multipart"];
    assert!(
        form["content_type"]
            .as_str()
            .is_some_and(|ct| ct.starts_with("multipart/form-data; boundary=")),
        "{form}"
    );
    assert_eq!(
        form["length"].to_string(),
        upload[0]["request_headers"]["content-length"]
            .as_str()
            .unwrap()
    );
    assert!(form["length"].as_u64().unwrap() > content.len() as u64);

    // the run's event stream, recorded as its events
    let streams = of("sessions.events.stream");
    assert!(!streams.is_empty());
    let stream = streams[0];
    assert_eq!(stream["stream"], "events");
    assert_eq!(stream["body"], Value::Null);
    assert_eq!(
        stream["path_template"],
        "/v1/sessions/{session_id}/events/stream"
    );
    let events: Vec<&Value> = lines
        .iter()
        .filter(|l| l["kind"] == "event" && l["exchange"] == stream["id"])
        .collect();
    assert!(!events.is_empty());
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"], i as u64, "{e}");
        assert!(e["delay_ms"].as_f64().is_some(), "{e}");
    }
    let types: Vec<&str> = events
        .iter()
        .filter_map(|e| e["data"]["type"].as_str())
        .collect();
    assert!(types.contains(&"session.status_idle"), "{types:?}");
    assert!(types.iter().any(|t| t.starts_with("agent.")), "{types:?}");
}

#[test]
fn the_command_exits_as_the_program_did() {
    let dir = temp("record-exit");
    let cassette = dir.join("c.jsonl");
    let record = |args: &[&str]| {
        Command::new(BIN)
            .args(["record", "--out"])
            .arg(&cassette)
            .args(["--upstream", "http://127.0.0.1:9", "--"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = record(&["sh", "-c", "exit 42"]);
    assert_eq!(out.status.code(), Some(42), "{}", stderr(&out));
    // a program ended by a signal: 128 + its number, as a shell says
    let out = record(&["sh", "-c", "kill -TERM $$"]);
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    // the program sees the proxy, not the upstream
    let out = record(&["sh", "-c", "echo $ANTHROPIC_BASE_URL"]);
    let url = text(&out.stdout);
    assert!(url.trim().starts_with("http://127.0.0.1:"), "{url}");
    assert_ne!(url.trim(), "http://127.0.0.1:9");
    // a program that cannot be run is a usage error
    let out = record(&["/nonexistent/program"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot run"), "{}", stderr(&out));
    // an upstream that does not answer: the program gets a 502 of the API's shape, the
    // cassette an exchange without a status
    let out = record(&[
        "sh",
        "-c",
        r#"curl -s -o /dev/null -w '%{http_code}' "$ANTHROPIC_BASE_URL/v1/agents""#,
    ]);
    assert_eq!(text(&out.stdout), "502", "{}", stderr(&out));
    let lines = lines(&cassette);
    let x = lines.iter().find(|l| l["kind"] == "exchange").unwrap();
    assert_eq!(x["status"], Value::Null);
    assert_eq!(x["operation"], "agents.list");
    assert!(x["error"].as_str().is_some_and(|e| !e.is_empty()), "{x}");
}

#[test]
fn an_event_stream_reaches_the_program_frame_by_frame() {
    use managed_agents_emulator::{Script, Step};
    use std::io::BufRead;
    let (emu, _c, agent, env) = setup(false);
    emu.set_script(
        Script::new()
            .say("first-words")
            .step(Step::Pause(std::time::Duration::from_millis(1500)))
            .say("second-words"),
    );
    let dir = temp("record-stream");
    let cassette = dir.join("stream.cassette.jsonl");
    // the program prints the stream's lines as curl gets them, while the agent pauses
    let script = format!(
        r#"S=$({CURL} -X POST "$ANTHROPIC_BASE_URL/v1/sessions" -d '{{"agent":"'"$AGENT"'","environment_id":"'"$ENV"'"}}' | grep -o '"id":"sesn_[^"]*"' | head -n 1 | cut -d '"' -f 4)
{CURL} -N --max-time 6 "$ANTHROPIC_BASE_URL/v1/sessions/$S/events/stream" &
sleep 1
{CURL} -X POST "$ANTHROPIC_BASE_URL/v1/sessions/$S/events" -d '{{"events":[{{"type":"user.message","content":[{{"type":"text","text":"go"}}]}}]}}' > /dev/null
wait
exit 0"#
    );
    let mut child = Command::new(BIN)
        .args(["record", "--out"])
        .arg(&cassette)
        .args(["--upstream", emu.base_url(), "--", "sh", "-c", &script])
        .env("ANTHROPIC_API_KEY", "test-key")
        .env("VERSION", managed_agents::ANTHROPIC_VERSION)
        .env("AGENT", &agent)
        .env("ENV", &env)
        .env("TENANT", "t")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (None, None);
    for line in stdout.lines() {
        let line = line.unwrap();
        if line.contains("first-words") && first.is_none() {
            first = Some(std::time::Instant::now());
        }
        if line.contains("second-words") && second.is_none() {
            second = Some(std::time::Instant::now());
        }
    }
    assert!(child.wait().unwrap().success());
    let (first, second) = (first.expect("no first event"), second.expect("no second"));
    let apart = second - first;
    assert!(
        apart >= std::time::Duration::from_millis(1000),
        "the events came {apart:?} apart: held back by the proxy"
    );
    // and the cassette has the pause as the second message's delay
    let lines = lines(&cassette);
    let said: Vec<&Value> = lines
        .iter()
        .filter(|l| l["kind"] == "event" && l["data"]["type"] == "agent.message")
        .collect();
    assert_eq!(said.len(), 2, "{said:?}");
    let delay: f64 = lines
        .iter()
        .filter(|l| l["kind"] == "event" && l["exchange"] == said[1]["exchange"])
        .skip_while(|l| l["data"]["type"] != "agent.message")
        .skip(1)
        .take_while(|l| l["seq"].as_u64() <= said[1]["seq"].as_u64())
        .map(|l| l["delay_ms"].as_f64().unwrap())
        .sum();
    assert!(delay >= 1000.0, "{delay} ms between the messages");
}

#[test]
fn a_stop_signal_reaches_the_program() {
    use crate::support::signal;
    let dir = temp("record-signal");
    let cassette = dir.join("c.jsonl");
    let ready = dir.join("ready");
    for (sig, code) in [("TERM", 5), ("HUP", 6), ("INT", 7)] {
        let _ = std::fs::remove_file(&ready);
        // the program says how it was stopped, with a status of its own
        let script =
            format!("trap 'exit {code}' {sig}; touch \"$READY\"; while :; do sleep 0.05; done");
        let child = Command::new(BIN)
            .args(["record", "--out"])
            .arg(&cassette)
            .args([
                "--upstream",
                "http://127.0.0.1:9",
                "--",
                "sh",
                "-c",
                &script,
            ])
            .env("READY", &ready)
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !ready.exists() {
            assert!(
                std::time::Instant::now() < until,
                "the program never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        signal(&child, sig);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(code), "SIG{sig}");
    }
}
