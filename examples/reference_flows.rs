//! Every non-streaming flow of the Python reference, in Rust, one function each.
//!
//! Run against the API: `ANTHROPIC_API_KEY=... cargo run --example reference_flows` (with a
//! `data.csv` in the current directory); without a key, `cargo run --example reference_flows`
//! runs them on the embedded emulator, with a small CSV of its own.

mod common;

use managed_agents::types::*;
use managed_agents::{Client, Result, UploadFile};
use managed_agents_emulator::Script;
use serde_json::json;
use std::path::Path;

fn create_environment(client: &Client) -> Result<Environment> {
    let environment = client
        .environments()
        .create(&EnvironmentCreateParams::cloud("my-dev-env"))?;
    println!("{}", environment.id); // env_...
    Ok(environment)
}

fn minimal_agent_and_session(client: &Client, environment: &Environment) -> Result<Session> {
    let agent = client.agents().create(
        &AgentCreateParams::new("Coding Assistant", "claude-opus-4-5")
            .tool(AgentToolset20260401Params::enabled()),
    )?;
    let session = client
        .sessions()
        .create(&SessionCreateParams::new(&agent, environment.id.as_str()))?;
    println!("{} {}", session.id, session.status);
    Ok(session)
}

fn agent_with_custom_tools(client: &Client, environment: &Environment) -> Result<Session> {
    let agent = client.agents().create(
        &AgentCreateParams::new("Code Reviewer", "claude-opus-4-5")
            .system("You are a senior code reviewer.")
            .tool(AgentToolset20260401Params::new())
            .tool(CustomToolParams::new(
                "run_tests",
                "Run the test suite",
                json!({
                    "type": "object",
                    "properties": {"test_path": {"type": "string", "description": "Path to test file"}},
                    "required": ["test_path"],
                }),
            )),
    )?;
    client.sessions().create(
        &SessionCreateParams::new(&agent, environment.id.as_str())
            .title("Code review session")
            .resources(vec![GitHubRepositoryResourceParams::new(
                "https://github.com/owner/repo",
            )
            .mount_path("/workspace/repo")
            .authorization_token(std::env::var("GITHUB_TOKEN").unwrap_or_default())
            .checkout(BranchCheckoutParam::new("main"))
            .into()]),
    )
}

fn send_message_and_tool_result(client: &Client, session: &Session) -> Result<()> {
    let events = client.sessions().events();
    events.send(
        &session.id,
        &EventSendParams::one(UserMessageEventParams::text("Review the auth module")),
    )?;
    events.send(
        &session.id,
        &EventSendParams::one(UserCustomToolResultEventParams::text(
            "sevt_abc123",
            "All 42 tests passed.",
        )),
    )?;
    Ok(())
}

fn poll_events(client: &Client, session: &Session) -> Result<()> {
    for event in client
        .sessions()
        .events()
        .list(&session.id, &Default::default())?
    {
        let event = event?;
        println!("{}", event.tag().unwrap_or("?"));
    }
    Ok(())
}

fn files(client: &Client, agent: &Agent, environment: &Environment, csv: &Path) -> Result<()> {
    let file = client.files().upload(UploadFile::path(csv)?)?;
    let session = client.sessions().create(
        &SessionCreateParams::new(agent, environment.id.as_str()).resources(vec![
            FileResourceParams::new(file.id)
                .mount_path("/workspace/data.csv")
                .into(),
        ]),
    )?;
    for f in client.files().list(&FileListParams::scope(&session.id))? {
        let f = f?;
        println!("{} {}", f.filename, f.size_bytes);
        client.files().download(&f.id)?.copy_to_path(&f.filename)?;
    }
    Ok(())
}

fn session_management(client: &Client, id: &str) -> Result<()> {
    let session = client.sessions().retrieve(id)?;
    println!("{} {:?}", session.status, session.usage);
    let _all = client.sessions().list(&Default::default())?;
    client.sessions().archive(id)?;
    client.sessions().delete(id)?;
    Ok(())
}

fn mcp_agent(client: &Client, environment: &Environment, vault_id: &str) -> Result<Session> {
    let agent = client.agents().create(
        &AgentCreateParams::new("MCP Agent", "claude-opus-4-5")
            .mcp_server("my-tools", "https://my-mcp-server.example.com/sse")
            .tool(AgentToolset20260401Params::enabled())
            .tool(MCPToolsetParams::new("my-tools")),
    )?;
    client.sessions().create(
        &SessionCreateParams::new(agent.id.as_str(), environment.id.as_str())
            .vault_ids(vec![vault_id.to_string()]),
    )
}

fn main() -> Result<()> {
    let target = common::client_or_emulator(Script::new().say("On it."))?;
    let client = &target.client;
    let csv = if target.offline() {
        let path = std::env::temp_dir().join(format!("reference-flows-{}.csv", std::process::id()));
        std::fs::write(&path, "name,score\nada,3\n")
            .map_err(|e| managed_agents::Error::io(format!("writing {}", path.display()), e))?;
        path
    } else {
        "data.csv".into()
    };
    let environment = create_environment(client)?;
    let session = minimal_agent_and_session(client, &environment)?;
    send_message_and_tool_result(client, &session)?;
    poll_events(client, &session)?;
    let reviewed = agent_with_custom_tools(client, &environment)?;
    let vault = client.vaults().create(&VaultCreateParams::new("tools"))?;
    let with_mcp = mcp_agent(client, &environment, &vault.id)?;
    let agent = client
        .agents()
        .retrieve(&reviewed.agent.id, &Default::default())?;
    let uploaded = files(client, &agent, &environment, &csv);
    if target.offline() {
        let _ = std::fs::remove_file(&csv);
    }
    uploaded?;
    for id in [&session.id, &reviewed.id, &with_mcp.id] {
        session_management(client, id)?;
    }
    println!("all reference flows ran");
    Ok(())
}
