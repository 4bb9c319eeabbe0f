"""The flows of the Python reference guide, run with the official SDK against the emulator.

Run by tests/python_sdk/run.sh, which installs `anthropic==2.17.0` into a throwaway virtual
environment and starts the emulator. Where the guide and the SDK disagree, the SDK wins:
`client.beta.sessions.events.stream(...)` (the guide's `client.beta.sessions.stream` does not
exist) and `event.name` (not `tool_name`).
"""
import json
import os
import sys
import tempfile

import anthropic

client = anthropic.Anthropic()  # ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL from the environment
checks = []


def check(name, ok):
    checks.append((name, bool(ok)))
    print(("ok   " if ok else "FAIL ") + name, flush=True)


# Create an Environment
environment = client.beta.environments.create(
    name="my-dev-env",
    config={"type": "cloud", "networking": {"type": "unrestricted"}},
)
check("environment created", environment.id.startswith("env_"))

# Create an Agent (minimal) and start a session
agent = client.beta.agents.create(
    name="Coding Assistant",
    model="claude-opus-4-5",
    tools=[{"type": "agent_toolset_20260401", "default_config": {"enabled": True}}],
)
session = client.beta.sessions.create(
    agent={"type": "agent", "id": agent.id, "version": agent.version},
    environment_id=environment.id,
)
check("session created idle", session.status == "idle")

# With system prompt and custom tools
agent = client.beta.agents.create(
    name="Code Reviewer",
    model="claude-opus-4-5",
    system="You are a senior code reviewer.",
    tools=[
        {"type": "agent_toolset_20260401"},
        {
            "type": "custom",
            "name": "run_tests",
            "description": "Run the test suite",
            "input_schema": {
                "type": "object",
                "properties": {"test_path": {"type": "string", "description": "Path to test file"}},
                "required": ["test_path"],
            },
        },
    ],
)
session = client.beta.sessions.create(
    agent={"type": "agent", "id": agent.id, "version": agent.version},
    environment_id=environment.id,
    title="Code review session",
    resources=[
        {
            "type": "github_repository",
            "url": "https://github.com/owner/repo",
            "mount_path": "/workspace/repo",
            "authorization_token": os.environ.get("GITHUB_TOKEN", "ghp_test"),
            "branch": "main",
        }
    ],
)
check("session with a repository", session.resources[0].type == "github_repository")

# Stream-first, then send; print text; answer custom tools (the full streaming loop)
def run_custom_tool(tool_name, tool_input):
    if tool_name == "run_tests":
        return "All tests passed."
    return f"Unknown tool: {tool_name}"


texts = []
tool_names = []


def run_session(client, session_id, first_message):
    message = first_message
    while True:
        with client.beta.sessions.events.stream(session_id=session_id) as stream:
            if message is not None:
                client.beta.sessions.events.send(
                    session_id=session_id,
                    events=[{"type": "user.message", "content": [{"type": "text", "text": message}]}],
                )
                message = None
            tool_calls = []
            for event in stream:
                if event.type == "agent.message":
                    for block in event.content:
                        if block.type == "text":
                            texts.append(block.text)
                elif event.type == "agent.custom_tool_use":
                    tool_calls.append(event)
                elif event.type == "session.status_idle":
                    break
                elif event.type == "session.status_terminated":
                    return
        if not tool_calls:
            break
        results = []
        for call in tool_calls:
            tool_names.append(call.name)
            result = run_custom_tool(call.name, call.input)
            results.append({
                "type": "user.custom_tool_result",
                "custom_tool_use_id": call.id,
                "content": [{"type": "text", "text": result}],
            })
        client.beta.sessions.events.send(session_id=session_id, events=results)


run_session(client, session.id, "Review the auth module")
check("streamed the agent's text", any("Review the auth module" in t for t in texts))
check("answered the custom tool", tool_names == ["run_tests"])
check("the tool result came back", any("All tests passed." in t for t in texts))

# Provide a custom tool result directly (the guide's standalone snippet), then poll events
events = client.beta.sessions.events.list(session_id=session.id)
kinds = [e.type for e in events.data]
check("poll events", "agent.custom_tool_use" in kinds and "user.custom_tool_result" in kinds)
for event in events.data:
    assert event.id.startswith("sevt_")

# Upload a file and use it in a session
with tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as f:
    f.write(b"a,b\n1,2\n")
    path = f.name
with open(path, "rb") as f:
    file = client.beta.files.upload(file=f)
check("uploaded a file", file.size_bytes == 8)
session = client.beta.sessions.create(
    agent={"type": "agent", "id": agent.id, "version": agent.version},
    environment_id=environment.id,
    resources=[{"type": "file", "file_id": file.id, "mount_path": "/workspace/data.csv"}],
)
check("session with the file", session.resources[0].file_id == file.id)

# List and download session files
files = client.beta.files.list(scope_id=session.id, betas=["managed-agents-2026-04-01"])
check("list session files", isinstance(files.data, list))
# only files the API made (a session's outputs) download; an uploaded one is refused
try:
    client.beta.files.download(file.id)
    check("an uploaded file does not download", False)
except anthropic.BadRequestError as e:
    check("an uploaded file does not download", "cannot be downloaded" in str(e))

# Session management (archive before delete: a deleted session is gone)
got = client.beta.sessions.retrieve(session_id=session.id)
check("retrieve a session", got.id == session.id and got.usage is not None)
sessions = client.beta.sessions.list()
check("list sessions", any(s.id == session.id for s in sessions.data))
client.beta.sessions.archive(session_id=session.id)
client.beta.sessions.delete(session_id=session.id)
try:
    client.beta.sessions.retrieve(session_id=session.id)
    check("a deleted session is gone", False)
except anthropic.NotFoundError:
    check("a deleted session is gone", True)

# MCP server integration with a vault
vault = client.beta.vaults.create(display_name="tools")
agent = client.beta.agents.create(
    name="MCP Agent",
    model="claude-opus-4-5",
    mcp_servers=[{"type": "url", "name": "my-tools", "url": "https://my-mcp-server.example.com/sse"}],
    tools=[
        {"type": "agent_toolset_20260401", "default_config": {"enabled": True}},
        {"type": "mcp_toolset", "mcp_server_name": "my-tools"},
    ],
)
session = client.beta.sessions.create(agent=agent.id, environment_id=environment.id, vault_ids=[vault.id])
check("mcp agent session with a vault", session.vault_ids == [vault.id])
try:
    client.beta.sessions.create(agent=agent.id, environment_id=environment.id, vault_ids=["vlt_missing"])
    check("a vault that does not exist is refused", False)
except anthropic.NotFoundError:
    check("a vault that does not exist is refused", True)

# Deployments and their runs; every answer must pass the SDK's own models, validated
from anthropic.types.beta import (  # noqa: E402
    BetaManagedAgentsDeployment,
    BetaManagedAgentsDeploymentRun,
    BetaSkill,
)
from anthropic.types.beta.skills import BetaSkillVersion  # noqa: E402


def valid(model, obj):
    try:
        model.model_validate(obj.model_dump(mode="json", by_alias=True, exclude_unset=True))
        return True
    except Exception as e:  # pydantic.ValidationError
        print(e)
        return False


deployment = client.beta.deployments.create(
    name="nightly",
    agent=agent.id,
    environment_id=environment.id,
    initial_events=[{"type": "user.message", "content": [{"type": "text", "text": "report"}]}],
)
check("create a deployment", valid(BetaManagedAgentsDeployment, deployment) and deployment.status == "active")
paused = client.beta.deployments.pause(deployment.id)
check("pause a deployment", paused.status == "paused" and paused.paused_reason.type == "manual")
try:
    client.beta.deployments.run(deployment.id)
    check("a paused deployment does not run", False)
except anthropic.BadRequestError:
    check("a paused deployment does not run", True)
client.beta.deployments.unpause(deployment.id)
run = client.beta.deployments.run(deployment.id)
check("run a deployment", valid(BetaManagedAgentsDeploymentRun, run) and run.session_id and run.error is None)
runs = client.beta.deployment_runs.list(deployment_id=deployment.id)
check("list its runs", [r.id for r in runs.data] == [run.id])
check("retrieve a run", client.beta.deployment_runs.retrieve(run.id).session_id == run.session_id)
updated = client.beta.deployments.update(deployment.id, name="nightly-2", metadata={"team": "a"})
check("update a deployment", updated.name == "nightly-2" and updated.metadata == {"team": "a"})
check("list deployments", any(d.id == deployment.id for d in client.beta.deployments.list().data))
check("archive a deployment", client.beta.deployments.archive(deployment.id).archived_at is not None)

# Skills from a folder, versions, content
skill_md = b"---\nname: pdf-tools\ndescription: Reads PDFs\n---\n# PDFs\n"
skill = client.beta.skills.create(files=[("pdf-tools/SKILL.md", skill_md), ("pdf-tools/run.sh", b"echo hi\n")])
check("create a skill from a folder", valid(BetaSkill, skill) and skill.display_name == "pdf-tools")
version = client.beta.skills.versions.create(skill.id, files=[("pdf-tools/SKILL.md", skill_md)])
check("a new skill version", valid(BetaSkillVersion, version) and version.name == "pdf-tools")
check("list skills", any(k.id == skill.id for k in client.beta.skills.list().data))
versions = client.beta.skills.versions.list(skill.id)
check("list skill versions", [v.id for v in versions.data][0] == version.id and len(versions.data) == 2)
got = client.beta.skills.versions.retrieve(version.id, skill_id=skill.id)
check("retrieve a skill version", got.description == "Reads PDFs")
content = client.beta.skills.versions.download(version.id, skill_id=skill.id)
check("download a skill version as a zip", content.read()[:2] == b"PK")
client.beta.skills.versions.delete(version.id, skill_id=skill.id)
check("delete a skill", client.beta.skills.delete(skill.id).type == "skill_deleted")

# Memories and their versions
from anthropic.types.beta.memory_stores import (  # noqa: E402
    BetaManagedAgentsMemory,
    BetaManagedAgentsMemoryVersion,
)

store = client.beta.memory_stores.create(name="notes")
memory = client.beta.memory_stores.memories.create(store.id, path="/notes/a.md", content="one")
check("create a memory", valid(BetaManagedAgentsMemory, memory) and memory.content is None)
memory = client.beta.memory_stores.memories.update(
    memory.id, memory_store_id=store.id, content="two",
    precondition={"type": "content_sha256", "content_sha256": memory.content_sha256},
)
got = client.beta.memory_stores.memories.retrieve(memory.id, memory_store_id=store.id)
check("update a memory with a precondition", got.content == "two")
listed = client.beta.memory_stores.memories.list(store.id, path_prefix="/", depth=1)
check("list memories by depth", [i.type for i in listed.data] == ["memory_prefix"])
client.beta.memory_stores.memories.delete(memory.id, memory_store_id=store.id)
versions = client.beta.memory_stores.memory_versions.list(store.id, memory_id=memory.id)
check(
    "memory versions outlive the memory",
    [v.operation for v in versions.data] == ["deleted", "modified", "created"]
    and all(valid(BetaManagedAgentsMemoryVersion, v) for v in versions.data),
)
redacted = client.beta.memory_stores.memory_versions.redact(versions.data[2].id, memory_store_id=store.id)
check("redact a memory version", redacted.redacted_at is not None and redacted.content is None)

# Every kind the emulator answers passes the SDK's models, validated (not the lenient parse)
import pydantic  # noqa: E402
from anthropic.types.beta import (  # noqa: E402
    BetaEnvironment,
    BetaEnvironmentDeleteResponse,
    BetaFileMetadata,
    BetaManagedAgentsAgent,
    BetaManagedAgentsDeletedSession,
    BetaManagedAgentsMemoryStore,
    BetaManagedAgentsSession,
    BetaManagedAgentsVault,
)
from anthropic.types.beta.sessions import BetaManagedAgentsSessionEvent  # noqa: E402
from anthropic.types.beta.vaults import (  # noqa: E402
    BetaManagedAgentsCredential,
    BetaManagedAgentsCredentialValidation,
)


def valid_as(kind, obj):
    try:
        pydantic.TypeAdapter(kind).validate_python(obj.model_dump(mode="json", by_alias=True, exclude_unset=True))
        return True
    except pydantic.ValidationError as e:
        print(e)
        return False


env = client.beta.environments.create(name="kinds", config={"type": "cloud"})
check("an environment validates", valid_as(BetaEnvironment, env))
check("an environment list validates", all(valid_as(BetaEnvironment, e) for e in client.beta.environments.list().data))
tooled = client.beta.agents.create(
    name="Kinds", model="claude-opus-4-5", system="s",
    tools=[{"type": "agent_toolset_20260401"}, {"type": "custom", "name": "t", "description": "d",
                                                "input_schema": {"type": "object"}}],
)
check("an agent validates", valid_as(BetaManagedAgentsAgent, tooled))
v2 = client.beta.agents.update(tooled.id, version=tooled.version, system="s2")
check("an agent version validates", valid_as(BetaManagedAgentsAgent, v2) and v2.version == 2)
check("agent versions validate", all(valid_as(BetaManagedAgentsAgent, a) for a in client.beta.agents.versions.list(tooled.id).data))
kv = client.beta.vaults.create(display_name="kinds")
check("a vault validates", valid_as(BetaManagedAgentsVault, kv))
cred = client.beta.vaults.credentials.create(kv.id, auth={
    "type": "mcp_oauth", "access_token": "secret-a", "mcp_server_url": "https://mcp.example.com",
    "refresh": {"client_id": "c", "refresh_token": "secret-r", "token_endpoint": "https://a.example.com/t",
                "token_endpoint_auth": {"type": "client_secret_post", "client_secret": "secret-c"}},
})
env_cred = client.beta.vaults.credentials.create(kv.id, auth={
    "type": "environment_variable", "secret_name": "TOKEN", "secret_value": "secret-v",
    "networking": {"type": "unrestricted"},
})
check(
    "credentials validate and keep their secrets",
    valid_as(BetaManagedAgentsCredential, cred) and valid_as(BetaManagedAgentsCredential, env_cred)
    and "secret-" not in cred.model_dump_json() + env_cred.model_dump_json(),
)
validation = client.beta.vaults.credentials.mcp_oauth_validate(cred.id, vault_id=kv.id)
check("a credential validation validates", valid_as(BetaManagedAgentsCredentialValidation, validation))
ms = client.beta.memory_stores.create(name="kinds")
check("a memory store validates", valid_as(BetaManagedAgentsMemoryStore, ms))
s2 = client.beta.sessions.create(agent=tooled.id, environment_id=env.id, vault_ids=[kv.id],
                                 resources=[{"type": "memory_store", "memory_store_id": ms.id}])
check("a session validates", valid_as(BetaManagedAgentsSession, s2))
client.beta.sessions.events.send(s2.id, events=[{"type": "user.message", "content": [{"type": "text", "text": "hi"}]}])
import time  # noqa: E402

for _ in range(100):
    if client.beta.sessions.retrieve(s2.id).status == "idle" and client.beta.sessions.events.list(s2.id).data[-1].type == "session.status_idle":
        break
    time.sleep(0.05)
evs = client.beta.sessions.events.list(s2.id, limit=100).data
check("session events validate", len(evs) >= 4 and all(valid_as(BetaManagedAgentsSessionEvent, e) for e in evs))
check("a file validates", valid_as(BetaFileMetadata, file))
deleted = client.beta.environments.delete(client.beta.environments.create(name="gone").id)
check("a deleted environment validates", valid_as(BetaEnvironmentDeleteResponse, deleted))
client.beta.sessions.events.send(s2.id, events=[{"type": "user.interrupt"}])
check("a deleted session validates", valid_as(BetaManagedAgentsDeletedSession, client.beta.sessions.delete(s2.id)))

failed = [n for n, ok in checks if not ok]
print(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
