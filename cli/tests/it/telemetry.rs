//! `--otlp-endpoint`: a batch's spans arrive at a local OTLP/HTTP receiver, decoded there from
//! the OTLP JSON encoding: one trace per task, with the library's spans in it, the headers of
//! `OTEL_EXPORTER_OTLP_HEADERS` sent and never printed.

use crate::support::{batch_args, command, respond, setup, stderr, temp, TestServer};
use managed_agents_emulator::{Script, Step};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The spans of every export the receiver took: (trace id, span id, parent, name).
fn spans(server: &TestServer) -> Vec<(String, String, Option<String>, String)> {
    let mut out = Vec::new();
    for i in 0..server.count() {
        let req = server.request(i);
        let body: Value = serde_json::from_slice(&req.body).expect("an OTLP JSON body");
        for rs in body["resourceSpans"].as_array().unwrap() {
            assert_eq!(
                rs["resource"]["attributes"][0]["value"]["stringValue"],
                "managed-agents"
            );
            for ss in rs["scopeSpans"].as_array().unwrap() {
                for s in ss["spans"].as_array().unwrap() {
                    out.push((
                        s["traceId"].as_str().unwrap().to_string(),
                        s["spanId"].as_str().unwrap().to_string(),
                        s["parentSpanId"].as_str().map(String::from),
                        s["name"].as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn a_batch_is_one_trace_per_task_at_the_otlp_receiver() {
    let receiver = TestServer::start(|_, _, conn| {
        respond(conn, 200, &[("content-type", "application/json")], b"{}");
    });
    let (emu, _c, agent, env) = setup(false);
    emu.set_script(Script::new().step(Step::Echo));
    let dir = temp("otlp");
    let tasks = dir.join("tasks.jsonl");
    std::fs::write(
        &tasks,
        "{\"id\": \"t1\", \"message\": \"one\"}\n{\"id\": \"t2\", \"message\": \"two\"}\n{\"id\": \"t3\", \"message\": \"three\"}\n",
    )
    .unwrap();
    let out = dir.join("results.jsonl");
    let mut args = batch_args(&tasks, &out, &agent, &env, &["--parallel", "2", "-vv"]);
    args.extend_from_slice(&["--otlp-endpoint", &receiver.url]);
    let o = command(&emu)
        .args(&args)
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-otlp-token=s3cret%20value")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    // the header's value is never printed, even at -vv
    assert!(!err.contains("s3cret"), "{err}");

    assert!(receiver.count() >= 1);
    for i in 0..receiver.count() {
        let req = receiver.request(i);
        assert_eq!(req.method, "POST");
        assert_eq!(req.target, "/v1/traces");
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(req.header("x-otlp-token"), Some("s3cret value"));
    }
    let spans = spans(&receiver);
    // one root per task, each its own trace
    let roots: Vec<_> = spans
        .iter()
        .filter(|s| s.3 == "managed_agents.task")
        .collect();
    assert_eq!(roots.len(), 3, "{spans:?}");
    assert!(roots.iter().all(|r| r.2.is_none()));
    let traces: BTreeSet<&str> = roots.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(traces.len(), 3);
    // each trace holds its task's session: created, run as one turn, its calls under the turn
    let mut names: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &spans {
        names.entry(s.0.as_str()).or_default().push(s.3.as_str());
    }
    for trace in &traces {
        let in_trace = &names[trace];
        for want in [
            "anthropic.sessions.create",
            "invoke_agent",
            "anthropic.sessions.events.send",
            "anthropic.sessions.events.stream",
        ] {
            assert!(in_trace.contains(&want), "{want} not in {in_trace:?}");
        }
        let turn = spans
            .iter()
            .find(|s| s.0 == *trace && s.3 == "invoke_agent")
            .unwrap();
        let root = roots.iter().find(|r| r.0 == *trace).unwrap();
        assert_eq!(turn.2.as_deref(), Some(root.1.as_str()));
        let stream = spans
            .iter()
            .find(|s| s.0 == *trace && s.3 == "anthropic.sessions.events.stream")
            .unwrap();
        assert_eq!(stream.2.as_deref(), Some(turn.1.as_str()));
    }
}

#[test]
fn a_bad_endpoint_is_a_usage_error() {
    let (emu, _c, _agent, _env) = setup(false);
    let o = command(&emu)
        .args(["--otlp-endpoint", "localhost:4318", "agents", "list"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not an http:// or https:// URL"));
}
