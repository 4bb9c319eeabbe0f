"""Every operation of spec/openapi.json driven by the official Python SDK against the emulator.

Run by tests/python_sdk/run.sh with an emulator whose script writes a file (a session output
to download) and then says "done", and a second one (TEAM_BASE_URL) whose script delegates to a
child thread, for the session threads of a multi-agent session. Each call goes through the SDK's `.with_raw_response` (or
`.with_streaming_response` for the event streams); the raw JSON is validated into the model
the SDK method is typed to return (`TypeAdapter(...).validate_json`, pydantic's validation,
not the lenient `construct` the SDK itself uses), so a missing required field, a wrong type or
an unknown union member fails. Refusals are checked as the SDK raises them: the status, the
exception class, the error body (`ErrorResponse`) and its `request_id`. The script fails if
any of the spec's operations was not exercised.
"""
import json
import os
import sys
import time
import typing

import anthropic
from anthropic.pagination import BasePage
from anthropic.types import FileNotDownloadableError
from anthropic.types.beta import (
    BetaEnvironmentArchivedError,
    BetaInvalidConfigTypeChangeError,
    BetaInvalidMetadataError,
)
from anthropic.types.beta.environments import BetaHeartbeatPreconditionFailedError
from anthropic.types.shared import ErrorResponse
from pydantic import TypeAdapter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "spec", "openapi.json")) as f:
    SPEC = json.load(f)
OPERATIONS = {op["operationId"] for item in SPEC["paths"].values() for op in item.values()}

client = anthropic.Anthropic(max_retries=0)  # ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL
# the emulator whose scripted coordinator delegates to a child thread
team = anthropic.Anthropic(base_url=os.environ["TEAM_BASE_URL"], max_retries=0)
valid, refused, failures = set(), set(), []
adapters = {}


def fail(text):
    failures.append(text)
    print("FAIL " + text, flush=True)


def resource(op, via=None):
    """`sessions.events.list` -> (client.beta.sessions.events, "list"); `via` another client."""
    path, method = op.rsplit(".", 1)
    obj = (via or client).beta
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj, method


def adapter(kind):
    if kind not in adapters:
        adapters[kind] = TypeAdapter(kind)
    return adapters[kind]


def validate(op, kind, raw_bytes):
    """Validates JSON into `kind` (the SDK's model, a union, or a page of them)."""
    origin = typing.get_origin(kind) or kind
    if isinstance(origin, type) and issubclass(origin, BasePage):
        # a page: its items as the page's item type, its cursor a string or null
        (item,) = kind.__pydantic_generic_metadata__["args"]
        data = json.loads(raw_bytes)
        adapter(typing.List[item]).validate_python(data["data"])
        if not isinstance(data.get("next_page"), (str, type(None))):
            raise ValueError(f"next_page {data.get('next_page')!r}")
        return data
    return adapter(kind).validate_json(raw_bytes)


def ok(op, *args, via=None, **kwargs):
    """Calls `op` with valid input; its raw answer must validate into the method's model."""
    obj, method = resource(op, via)
    kind = typing.get_type_hints(getattr(obj, method))["return"]
    raw = getattr(obj.with_raw_response, method)(*args, **kwargs)
    valid.add(op)
    body = raw.http_response.content
    if op == "environments.work.stop":
        # the API answers a stop with 204 and no body (the SDK casts it to a model anyway)
        if raw.status_code != 204 or body:
            fail(f"{op}: {raw.status_code} {body!r}")
        return None
    if kind is anthropic._response.BinaryAPIResponse:
        if raw.status_code != 200 or not body:
            fail(f"{op}: {raw.status_code} with {len(body)} bytes")
        return body
    try:
        parsed = validate(op, kind, body)
        print(f"ok   {op}", flush=True)
        return parsed
    except Exception as e:  # a pydantic ValidationError, or a body that is not JSON
        fail(f"{op}: the answer does not validate into {kind}: {e}\n{body[:2000]!r}")
        return raw.parse()  # the SDK's lenient reading, so that the run goes on


KNOWN_ERRORS = {
    "invalid_request_error", "authentication_error", "billing_error", "permission_error",
    "not_found_error", "rate_limit_error", "timeout_error", "api_error", "overloaded_error",
}


def refused(op, status, exc, *args, via=None, **kwargs):
    """Calls `op` with input the API refuses: the SDK raises `exc` with the API's error body."""
    obj, method = resource(op, via)
    refused_ops.add(op)
    try:
        result = getattr(obj, method)(*args, **kwargs)
        if op.endswith(".stream"):
            with result:
                next(iter(result))
        fail(f"{op}: accepted, {status} expected")
    except exc as e:
        body = e.body if isinstance(e.body, dict) else {}
        if e.status_code != status:
            fail(f"{op}: {e.status_code}, {status} expected: {body}")
        if body.get("error", {}).get("type") in KNOWN_ERRORS:
            try:
                ErrorResponse.model_validate(body)
            except Exception as v:
                fail(f"{op}: the error body does not validate: {v}")
        if body.get("type") != "error" or not body.get("error", {}).get("message"):
            fail(f"{op}: not the API's error body: {body}")
        if body.get("request_id") != e.request_id:
            fail(f"{op}: request_id {body.get('request_id')} and header {e.request_id}")
        print(f"ok   {op} refused ({status})", flush=True)
    except anthropic.APIStatusError as e:
        fail(f"{op}: {type(e).__name__} ({e.status_code}), {exc.__name__} expected")


refused_ops = set()
NotFound, BadRequest, Conflict = anthropic.NotFoundError, anthropic.BadRequestError, anthropic.ConflictError


def stream(op, send, via=None, until="session.status_idle", **ids):
    """Opens an event stream, sends once it is open, validates every event until `until`."""
    obj, method = resource(op, via)
    (event_kind,) = typing.get_args(typing.get_type_hints(getattr(obj, method))["return"])
    kinds = []
    with getattr(obj.with_streaming_response, method)(**ids) as resp:
        valid.add(op)
        send()
        name = None
        for line in resp.iter_lines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line == "":
                name = None
            elif line.startswith("data:") and name != "ping":
                try:
                    event = adapter(event_kind).validate_json(line[5:].strip())
                except Exception as e:
                    fail(f"{op}: an event does not validate: {e}\n{line}")
                    continue
                kinds.append(event.type)
                if event.type == until:
                    break
    print(f"ok   {op}: {kinds}", flush=True)
    return kinds


def wait_for(what, probe, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    fail(f"never: {what}")
    sys.exit(1)


def message(text):
    return [{"type": "user.message", "content": [{"type": "text", "text": text}]}]


# environments
env = ok("environments.create", name="dev", config={"type": "cloud", "networking": {"type": "limited", "allowed_hosts": ["example.com"]}})
ok("environments.list", limit=5)
ok("environments.retrieve", env.id)
ok("environments.update", env.id, name="dev2", metadata={"k": "v"})
refused("environments.create", 400, BadRequest, name="")
refused("environments.retrieve", 404, NotFound, "env_missing")
gone = ok("environments.create", name="gone")
ok("environments.archive", gone.id)
refused("environments.update", 400, BetaEnvironmentArchivedError, gone.id, name="late")
refused("environments.update", 400, BetaInvalidConfigTypeChangeError, env.id, config={"type": "self_hosted"})
refused("environments.create", 400, BetaInvalidMetadataError, name="m", metadata={f"k{i}": "v" for i in range(17)})
ok("environments.delete", gone.id)
refused("environments.delete", 404, NotFound, gone.id)

# agents
agent = ok("agents.create", name="Reviewer", model="claude-opus-4-5", system="Review.",
           tools=[{"type": "agent_toolset_20260401"},
                  {"type": "custom", "name": "run_tests", "description": "Run",
                   "input_schema": {"type": "object", "properties": {"p": {"type": "string"}}}}])
ok("agents.list")
ok("agents.retrieve", agent.id, version=1)
ok("agents.update", agent.id, version=agent.version, description="reviews code")
ok("agents.versions.list", agent.id)
refused("agents.retrieve", 404, NotFound, "agent_missing")

# vaults and credentials
vault = ok("vaults.create", display_name="keys")
ok("vaults.list")
ok("vaults.retrieve", vault.id)
ok("vaults.update", vault.id, display_name="keys2")
bearer = ok("vaults.credentials.create", vault.id, auth={"type": "static_bearer", "token": "t", "mcp_server_url": "https://mcp.example.com"})
oauth = ok("vaults.credentials.create", vault.id, auth={"type": "mcp_oauth", "access_token": "at", "mcp_server_url": "https://mcp.example.com"})
ok("vaults.credentials.list", vault.id)
ok("vaults.credentials.retrieve", bearer.id, vault_id=vault.id)
ok("vaults.credentials.update", bearer.id, vault_id=vault.id, auth={"type": "static_bearer", "token": "t2"})
ok("vaults.credentials.mcp_oauth_validate", oauth.id, vault_id=vault.id)
ok("vaults.credentials.archive", bearer.id, vault_id=vault.id)
ok("vaults.credentials.delete", oauth.id, vault_id=vault.id)
refused("vaults.credentials.retrieve", 404, NotFound, "vcrd_missing", vault_id=vault.id)

# memory stores, memories, memory versions
store = ok("memory_stores.create", name="notes")
ok("memory_stores.list")
ok("memory_stores.retrieve", store.id)
ok("memory_stores.update", store.id, description="notes of the team")
memory = ok("memory_stores.memories.create", store.id, path="/a/b.md", content="abc")
ok("memory_stores.memories.list", store.id, path_prefix="/a/")
ok("memory_stores.memories.retrieve", memory.id, memory_store_id=store.id)
ok("memory_stores.memories.update", memory.id, memory_store_id=store.id, content="abcd",
   precondition={"type": "content_sha256", "content_sha256": memory.content_sha256})
refused("memory_stores.memories.create", 409, Conflict, store.id, path="/a/b.md", content="again")
versions = ok("memory_stores.memory_versions.list", store.id, memory_id=memory.id)
version_id = versions["data"][0]["id"]
ok("memory_stores.memory_versions.retrieve", version_id, memory_store_id=store.id)
ok("memory_stores.memory_versions.redact", version_id, memory_store_id=store.id)

# files and skills
upload = ok("files.upload", file=("in.txt", b"input", "text/plain"))
ok("files.list")
ok("files.retrieve_metadata", upload.id)
refused("files.download", 400, FileNotDownloadableError, upload.id)
skill_md = b"---\nname: tidy\ndescription: Tidies.\n---\n# tidy\n"
skill = ok("skills.create", display_name="Tidy", files=[("tidy/SKILL.md", skill_md), ("tidy/run.sh", b"echo\n")])
ok("skills.list")
ok("skills.retrieve", skill.id)
version = ok("skills.versions.create", skill.id, files=[("tidy/SKILL.md", skill_md)])
ok("skills.versions.list", skill.id)
ok("skills.versions.retrieve", version.id, skill_id=skill.id)
if not ok("skills.versions.download", version.id, skill_id=skill.id).startswith(b"PK"):
    fail("skills.versions.download: not a zip archive")
ok("skills.versions.delete", version.id, skill_id=skill.id)
ok("skills.delete", skill.id)

# sessions, their resources and events
session = ok("sessions.create", agent={"type": "agent", "id": agent.id, "version": agent.version},
             environment_id=env.id, title="t", vault_ids=[vault.id],
             resources=[{"type": "github_repository", "url": "https://github.com/o/r", "authorization_token": "ghp_x"},
                        {"type": "memory_store", "memory_store_id": store.id}])
refused("sessions.create", 404, NotFound, agent=agent.id, environment_id=env.id, vault_ids=["vlt_missing"])
ok("sessions.list", agent_id=agent.id)
ok("sessions.retrieve", session.id)
ok("sessions.update", session.id, title="renamed", metadata={"k": "v"})
added = ok("sessions.resources.add", session.id, type="file", file_id=upload.id)
listed = ok("sessions.resources.list", session.id)
repo = next(r["id"] for r in listed["data"] if r["type"] == "github_repository")
ok("sessions.resources.retrieve", repo, session_id=session.id)
ok("sessions.resources.update", repo, session_id=session.id, authorization_token="ghp_y")
ok("sessions.resources.delete", added.id, session_id=session.id)
kinds = stream("sessions.events.stream", lambda: ok("sessions.events.send", session.id, events=message("go")), session_id=session.id)
if "agent.message" not in kinds:
    fail(f"sessions.events.stream: no agent.message in {kinds}")
kinds = stream("sessions.events.stream", lambda: ok("sessions.events.send", session.id, events=message("again")),
               session_id=session.id, event_deltas=["agent.message"])
if not {"event_start", "event_delta", "agent.message"} <= set(kinds):
    fail(f"sessions.events.stream: previews expected in {kinds}")
ok("sessions.events.list", session.id, order="desc")
ok("sessions.threads.list", session.id)
# a single-agent session has no threads
for op in ["sessions.threads.retrieve", "sessions.threads.archive", "sessions.threads.events.list",
           "sessions.threads.events.stream"]:
    refused(op, 404, NotFound, "sthr_missing", session_id=session.id)
refused("sessions.events.send", 404, NotFound, "sesn_missing", events=message("x"))

# session threads: a coordinator (on the second emulator) delegates to a child thread
team_env = ok("environments.create", name="team", via=team)
researcher = ok("agents.create", name="Researcher", model="claude-haiku-4-5", via=team)
lead = ok("agents.create", name="Lead", model="claude-opus-4-5", via=team,
          multiagent={"type": "coordinator", "agents": [researcher.id, {"type": "self"}]})
crew = ok("sessions.create", agent=lead.id, environment_id=team_env.id, via=team)
kinds = stream("sessions.events.stream", lambda: ok("sessions.events.send", crew.id, events=message("When?"), via=team),
               via=team, session_id=crew.id)
if not {"session.thread_created", "agent.thread_message_received"} <= set(kinds):
    fail(f"sessions.events.stream: no delegation in {kinds}")
threads = ok("sessions.threads.list", crew.id, via=team)["data"]
if len(threads) != 2 or threads[0]["parent_thread_id"] is not None:
    fail(f"sessions.threads.list: the primary and a child expected: {threads}")
    sys.exit(1)
primary, child = threads[0]["id"], threads[1]["id"]
if ok("sessions.threads.retrieve", primary, session_id=crew.id, via=team).id != primary:
    fail("sessions.threads.retrieve: not the primary thread")
got = ok("sessions.threads.retrieve", child, session_id=crew.id, via=team)
if got.status != "idle" or got.agent.name != "Researcher":
    fail(f"sessions.threads.retrieve: the idle researcher expected: {got}")
events = ok("sessions.threads.events.list", child, session_id=crew.id, via=team)["data"]
if not {"agent.thread_message_received", "agent.message"} <= {e["type"] for e in events}:
    fail(f"sessions.threads.events.list: the child's task and answer expected: {events}")
ok("sessions.threads.events.list", primary, session_id=crew.id, via=team, limit=1)


def archive_child():
    archived = ok("sessions.threads.archive", child, session_id=crew.id, via=team)
    if archived.status != "terminated" or archived.archived_at is None:
        fail(f"sessions.threads.archive: a terminated, archived thread expected: {archived}")


# the child's stream while the idle child is archived: it ends with the termination
kinds = stream("sessions.threads.events.stream", archive_child, via=team, until="session.thread_status_terminated",
               thread_id=child, session_id=crew.id, timeout=30)
if "session.thread_status_terminated" not in kinds:
    fail(f"sessions.threads.events.stream: no termination in {kinds}")
refused("sessions.threads.archive", 400, BadRequest, primary, session_id=crew.id, via=team)

# the session's output downloads (the script wrote it)
output = wait_for("a session output", lambda: client.beta.files.list(scope_id=session.id).data)
if ok("files.download", output[0].id) != b"output":
    fail("files.download: not the file the session wrote")
ok("files.delete", upload.id)

# deployments and their runs
deployment = ok("deployments.create", name="nightly", agent=agent.id, environment_id=env.id, initial_events=message("go"))
ok("deployments.list")
ok("deployments.retrieve", deployment.id)
ok("deployments.update", deployment.id, description="every night")
ok("deployments.pause", deployment.id)
refused("deployments.run", 400, BadRequest, deployment.id)
ok("deployments.unpause", deployment.id)
run = ok("deployments.run", deployment.id)
ok("deployment_runs.list", deployment_id=deployment.id)
ok("deployment_runs.retrieve", run.id)
ok("deployments.archive", deployment.id)

# the work queue of a self-hosted environment
hosted = ok("environments.create", name="hosted", config={"type": "self_hosted"})
ok("sessions.create", agent=agent.id, environment_id=hosted.id)
ok("environments.work.stats", hosted.id)
work = ok("environments.work.poll", hosted.id, block_ms=500)
ok("environments.work.ack", work.id, environment_id=hosted.id)
ok("environments.work.heartbeat", work.id, environment_id=hosted.id, expected_last_heartbeat="NO_HEARTBEAT")
refused("environments.work.heartbeat", 412, BetaHeartbeatPreconditionFailedError, work.id, environment_id=hosted.id, expected_last_heartbeat="NO_HEARTBEAT")
ok("environments.work.update", work.id, environment_id=hosted.id, metadata={"worker": "w1"})
ok("environments.work.retrieve", work.id, environment_id=hosted.id)
ok("environments.work.list", hosted.id)
ok("environments.work.stop", work.id, environment_id=hosted.id, force=True)

# archive and delete what is left
ok("sessions.archive", session.id)
ok("sessions.delete", session.id)
ok("memory_stores.memories.delete", memory.id, memory_store_id=store.id)
ok("memory_stores.archive", store.id)
ok("memory_stores.delete", store.id)
ok("vaults.archive", vault.id)
ok("vaults.delete", vault.id)
ok("agents.archive", agent.id)
ok("environments.archive", env.id)

missing = sorted(OPERATIONS - valid)
if missing:
    fail(f"operations not exercised with valid input: {missing}")
unknown = sorted((valid | refused_ops) - OPERATIONS)
if unknown:
    fail(f"calls to operations the spec does not have: {unknown}")
print(f"{len(valid)} of {len(OPERATIONS)} operations validated, {len(refused_ops)} refusals checked")
if failures:
    print(f"{len(failures)} failures")
    sys.exit(1)
