//! `--otlp-endpoint`: a batch's spans arrive at a local OTLP/HTTP receiver, decoded there from
//! the OTLP JSON encoding: one trace per task, with the library's spans in it, the headers of
//! `OTEL_EXPORTER_OTLP_HEADERS` sent and never printed.

use crate::support::{batch_args, command, respond, run, setup, stderr, temp, TestServer};
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
    emu.clear_request_log();
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
    // every request carries the trace context of the call span it was sent for
    let sent = emu.request_log();
    assert!(!sent.is_empty());
    for req in &sent {
        let value = req.header("traceparent").unwrap_or_else(|| {
            panic!("{} {} has no traceparent", req.method, req.path);
        });
        let (trace, span) = traceparent(value);
        let call = spans
            .iter()
            .find(|s| s.0 == trace && s.1 == span)
            .unwrap_or_else(|| panic!("{value} is no exported span"));
        assert!(call.3.starts_with("anthropic."), "{value} is {}", call.3);
    }
    let carried: BTreeSet<String> = sent
        .iter()
        .filter_map(|r| r.header("traceparent"))
        .map(|v| traceparent(v).0)
        .collect();
    assert!(traces.iter().all(|t| carried.contains(*t)), "{carried:?}");
}

/// The trace id and parent id of a W3C `traceparent` (`00-<trace>-<parent>-<flags>`).
fn traceparent(value: &str) -> (String, String) {
    let parts: Vec<&str> = value.split('-').collect();
    assert_eq!(parts.len(), 4, "{value}");
    assert_eq!(parts[0], "00", "{value}");
    assert_eq!((parts[1].len(), parts[2].len()), (32, 16), "{value}");
    (parts[1].to_string(), parts[2].to_string())
}

/// A batch of `tasks` tasks on an echoing emulator, with `extra` flags and `env` variables.
fn run_batch(
    emu: &managed_agents_emulator::Emulator,
    agent: &str,
    env_id: &str,
    tasks: usize,
    extra: &[&str],
    env: &[(&str, &str)],
) {
    emu.set_script(Script::new().step(Step::Echo));
    let dir = temp("otlp-parent");
    let file = dir.join("tasks.jsonl");
    let lines: String = (1..=tasks)
        .map(|i| format!("{{\"id\": \"t{i}\", \"message\": \"m{i}\"}}\n"))
        .collect();
    std::fs::write(&file, lines).unwrap();
    let out = dir.join("results.jsonl");
    let mut args = batch_args(&file, &out, agent, env_id, &["--parallel", "2"]);
    args.extend_from_slice(extra);
    let mut cmd = command(emu);
    cmd.args(&args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Checks that the emulator got requests and none of them carried a `traceparent`.
fn assert_no_trace_context(emu: &managed_agents_emulator::Emulator) {
    let sent = emu.request_log();
    assert!(!sent.is_empty());
    for req in &sent {
        assert_eq!(
            req.header("traceparent"),
            None,
            "{} {}",
            req.method,
            req.path
        );
    }
}

#[test]
fn without_an_exporter_requests_carry_no_trace_context() {
    let (emu, _c, agent, env) = setup(false);
    emu.clear_request_log();
    run_batch(
        &emu,
        &agent,
        &env,
        2,
        &[],
        &[(
            "TRACEPARENT",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )],
    );
    assert_no_trace_context(&emu);
}

#[test]
fn the_caller_s_traceparent_is_the_parent_of_every_task() {
    const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
    const PARENT: &str = "b7ad6b7169203331";
    let receiver = TestServer::start(|_, _, conn| {
        respond(conn, 200, &[("content-type", "application/json")], b"{}");
    });
    let (emu, _c, agent, env) = setup(false);
    emu.clear_request_log();
    let traceparent_var = format!("00-{TRACE}-{PARENT}-01");
    run_batch(
        &emu,
        &agent,
        &env,
        2,
        &["--otlp-endpoint", &receiver.url],
        &[
            ("TRACEPARENT", &traceparent_var),
            ("TRACESTATE", "vendor=opaque"),
        ],
    );
    let spans = spans(&receiver);
    let roots: Vec<_> = spans
        .iter()
        .filter(|s| s.3 == "managed_agents.task")
        .collect();
    assert_eq!(roots.len(), 2, "{spans:?}");
    for root in &roots {
        assert_eq!(root.0, TRACE, "the caller's trace");
        assert_eq!(root.2.as_deref(), Some(PARENT), "the caller's span");
    }
    // the API's requests carry it on, with the caller's trace state
    for req in emu.request_log() {
        let value = req.header("traceparent").expect("a traceparent");
        assert_eq!(traceparent(value).0, TRACE);
        assert_eq!(req.header("tracestate"), Some("vendor=opaque"));
    }
}

#[test]
fn a_traceparent_that_is_not_valid_leaves_each_task_a_trace_of_its_own() {
    let receiver = TestServer::start(|_, _, conn| {
        respond(conn, 200, &[("content-type", "application/json")], b"{}");
    });
    let (emu, _c, agent, env) = setup(false);
    run_batch(
        &emu,
        &agent,
        &env,
        2,
        &["--otlp-endpoint", &receiver.url],
        &[(
            "TRACEPARENT",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        )],
    );
    let spans = spans(&receiver);
    let roots: Vec<_> = spans
        .iter()
        .filter(|s| s.3 == "managed_agents.task")
        .collect();
    assert_eq!(roots.len(), 2, "{spans:?}");
    assert!(roots.iter().all(|r| r.2.is_none()));
    assert_ne!(roots[0].0, roots[1].0);
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

#[test]
fn a_tool_command_is_given_its_tool_call_s_span_as_traceparent() {
    let receiver = TestServer::start(|_, _, conn| {
        respond(conn, 200, &[("content-type", "application/json")], b"{}");
    });
    let (emu, c, agent, env) = setup(true);
    emu.set_script(
        Script::new()
            .call_tool("shout", serde_json::json!({}))
            .say("ok"),
    );
    let o = run(
        &emu,
        &agent,
        &env,
        &[
            "--tool",
            "shout=printf '%s %s' \"$TRACEPARENT\" \"${TRACESTATE:-none}\"",
            "--otlp-endpoint",
            &receiver.url,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let result = crate::support::custom_tool_results(&c).remove(0);
    let text = result["content"][0]["text"].as_str().unwrap().to_string();
    let (value, state) = text.split_once(' ').unwrap();
    let (trace, span) = traceparent(value);
    let tool = spans(&receiver)
        .into_iter()
        .find(|s| s.3 == "anthropic.custom_tool_use shout")
        .expect("the tool call's span");
    assert_eq!((trace, span), (tool.0, tool.1), "{text}");
    assert_eq!(state, "none");
}

#[test]
fn anthropic_open_telemetry_propagation_false_keeps_the_spans_and_sends_no_context() {
    let receiver = TestServer::start(|_, _, conn| {
        respond(conn, 200, &[("content-type", "application/json")], b"{}");
    });
    let (emu, _c, agent, env) = setup(false);
    emu.clear_request_log();
    run_batch(
        &emu,
        &agent,
        &env,
        1,
        &["--otlp-endpoint", &receiver.url],
        &[("ANTHROPIC_OPEN_TELEMETRY_PROPAGATION", "false")],
    );
    assert_no_trace_context(&emu);
    // the spans are the same
    assert!(spans(&receiver)
        .iter()
        .any(|s| s.3 == "anthropic.sessions.create"));
}
