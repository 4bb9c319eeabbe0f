//! A self-hosted worker: the agent's built-in tools (bash, read, write, edit, glob, grep) run
//! on this machine, in a work directory, by an `EnvironmentWorker` that claims the session's
//! work item, keeps its lease, posts each tool's result and stops the item when the session
//! is idle. Prints the session's transcript and the files the agent left.
//!
//! `cargo run --example worker` runs offline on the embedded emulator when ANTHROPIC_API_KEY
//! is not set: it creates a `self_hosted` environment, and its scripted agent calls the tools.
//! With ANTHROPIC_API_KEY set it uses the real API, and needs a self-hosted environment made
//! beforehand: its id in ANTHROPIC_ENVIRONMENT_ID and its key in ANTHROPIC_ENVIRONMENT_KEY.
//! (The worker serves whatever that environment's queue holds; it stops once this example's
//! session is done.)

mod common;

use managed_agents::{types::*, Error, Result};
use managed_agents_emulator::Script;
use serde_json::{json, Value};
use std::time::Duration;

fn main() {
    if let Err(e) = run() {
        eprintln!("\nworker example failed: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let target = common::client_or_emulator(
        Script::new()
            .say("I will write the plan, extend it, and check it.")
            .agent_tool(
                "write",
                json!({"file_path": "notes/plan.txt", "content": "1. read the code\n2. fix the bug\n"}),
            )
            .agent_tool("bash", json!({"command": "echo '3. run the tests' >> notes/plan.txt && wc -l notes/plan.txt"}))
            .agent_tool("grep", json!({"pattern": "tests"}))
            .agent_tool("read", json!({"file_path": "notes/plan.txt"}))
            .say("The plan has three steps and ends with running the tests."),
    )?;
    let client = &target.client;

    let (environment_id, environment_key) = if target.offline() {
        // the emulator takes any environment key
        let env = client.environments().create(
            &EnvironmentCreateParams::new("worker-example").config(SelfHostedConfigParams::new()),
        )?;
        (env.id, "emulator-environment-key".to_string())
    } else {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match (
            var("ANTHROPIC_ENVIRONMENT_ID"),
            var("ANTHROPIC_ENVIRONMENT_KEY"),
        ) {
            (Some(id), Some(key)) => (id, key),
            _ => {
                eprintln!("usage: ANTHROPIC_ENVIRONMENT_ID=env_... ANTHROPIC_ENVIRONMENT_KEY=... cargo run --example worker");
                std::process::exit(2);
            }
        }
    };
    let agent = client.agents().create(
        &AgentCreateParams::new("Local planner", "claude-opus-4-5")
            .system("You work in the user's checkout with your built-in tools.")
            .tool(AgentToolset20260401Params::enabled()),
    )?;
    let session = client.sessions().create(
        &SessionCreateParams::new(&agent, environment_id.as_str()).title("Worker example"),
    )?;
    println!("session {} in environment {environment_id}", session.id);
    client.sessions().events().send(
        &session.id,
        &EventSendParams::one(UserMessageEventParams::text(
            "Write a three-step plan to notes/plan.txt, then show it to me.",
        )),
    )?;

    // the worker: claims the item, runs the tools in a directory of the item's own, stops it
    let workdir = std::env::temp_dir().join(format!("worker-example-{}", std::process::id()));
    std::fs::create_dir_all(&workdir)
        .map_err(|e| Error::io(format!("creating {}", workdir.display()), e))?;
    let worker = client
        .environments()
        .work()
        .worker()
        .environment_id(environment_id.as_str())
        .environment_key(environment_key)
        .workdir(&workdir);
    let stop = worker.stop_signal();
    let ours = session.id.clone();
    let worker = worker.on_report(move |item, report| {
        match report {
            Ok(r) => println!("work item {} done: {:?}", item.id, r.disposition),
            Err(e) => println!("work item {} failed: {e}", item.id),
        }
        if item.session_id() == Some(ours.as_str()) {
            stop.set();
        }
    });
    // a watchdog, so the example cannot run for ever
    let watchdog = worker.stop_signal();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(600));
        watchdog.set();
    });
    let stats = worker.run()?;
    println!(
        "worker: {} item(s) claimed, {} ran, {} failed\n",
        stats.claimed, stats.ran, stats.failed
    );

    // the transcript
    let mut results = 0;
    for ev in client
        .sessions()
        .events()
        .list(&session.id, &SessionsEventListParams::default())?
    {
        let ev = serde_json::to_value(ev?).map_err(|e| Error::connection(e.to_string()))?;
        match ev["type"].as_str().unwrap_or("") {
            "user.message" => println!("user: {}", text(&ev["content"])),
            "agent.message" => println!("agent: {}", text(&ev["content"])),
            "agent.tool_use" => println!(
                "tool call: {} {}",
                ev["name"].as_str().unwrap_or("?"),
                ev["input"]
            ),
            "user.tool_result" => {
                results += 1;
                let error = if ev["is_error"] == true {
                    " (error)"
                } else {
                    ""
                };
                println!("tool result{error}: {}", text(&ev["content"]).trim_end());
            }
            "session.status_idle" => {
                println!(
                    "idle: {}",
                    ev["stop_reason"]["type"].as_str().unwrap_or("?")
                )
            }
            _ => {}
        }
    }
    println!("\n{results} tool results posted by this machine");
    if target.offline() {
        // the item's work directory holds what the agent wrote
        for entry in
            std::fs::read_dir(&workdir).map_err(|e| Error::io("listing the work directory", e))?
        {
            let plan = entry
                .map_err(|e| Error::io("listing the work directory", e))?
                .path()
                .join("notes/plan.txt");
            if let Ok(content) = std::fs::read_to_string(&plan) {
                println!("notes/plan.txt on disk:\n{content}");
            }
        }
        let _ = std::fs::remove_dir_all(&workdir);
    }
    Ok(())
}

/// The text blocks of a content list, joined.
fn text(content: &Value) -> String {
    content
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["text"].as_str())
        .collect::<Vec<_>>()
        .join("")
}
