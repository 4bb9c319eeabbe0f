"""A multi-agent session with the official SDK against the emulator: a coordinator with a roster,
its delegation to a child thread, the child's custom tool call answered from the session's
stream, and every thread, thread event and streamed event validated by the SDK's own models.

Run by tests/python_sdk/run.sh with an emulator whose script delegates (see there).
"""
import sys

import anthropic
import pydantic
from anthropic.types.beta import BetaManagedAgentsAgent, BetaManagedAgentsSession
from anthropic.types.beta.sessions import (
    BetaManagedAgentsSessionEvent,
    BetaManagedAgentsSessionThread,
    BetaManagedAgentsStreamSessionEvents,
    BetaManagedAgentsStreamSessionThreadEvents,
)

client = anthropic.Anthropic()
checks = []


def check(name, ok):
    checks.append((name, bool(ok)))
    print(("ok   " if ok else "FAIL ") + name, flush=True)


def valid_as(kind, obj):
    try:
        pydantic.TypeAdapter(kind).validate_python(obj.model_dump(mode="json", by_alias=True, exclude_unset=True))
        return True
    except pydantic.ValidationError as e:
        print(e)
        return False


env = client.beta.environments.create(name="team", config={"type": "cloud"})
schema = {"type": "object", "properties": {"q": {"type": "string"}}}
researcher = client.beta.agents.create(
    name="Researcher",
    model="claude-haiku-4-5",
    tools=[{"type": "custom", "name": "lookup", "description": "Look up", "input_schema": schema}],
)
lead = client.beta.agents.create(
    name="Lead",
    model="claude-opus-4-5",
    multiagent={"type": "coordinator", "agents": [researcher.id, {"type": "self"}]},
)
check("a coordinator validates", valid_as(BetaManagedAgentsAgent, lead))
session = client.beta.sessions.create(agent=lead.id, environment_id=env.id)
check("a multi-agent session validates", valid_as(BetaManagedAgentsSession, session))

seen = []
with client.beta.sessions.events.stream(session.id) as stream:
    client.beta.sessions.events.send(
        session.id, events=[{"type": "user.message", "content": [{"type": "text", "text": "When?"}]}]
    )
    for event in stream:
        seen.append(event)
        if event.type == "agent.custom_tool_use":
            result = {"type": "user.custom_tool_result", "custom_tool_use_id": event.id,
                      "content": [{"type": "text", "text": "May 4"}]}
            if event.session_thread_id is not None:
                result["session_thread_id"] = event.session_thread_id
            client.beta.sessions.events.send(session.id, events=[result])
        if event.type == "session.status_idle" and event.stop_reason.type != "requires_action":
            break
check("the primary stream's events validate", all(valid_as(BetaManagedAgentsStreamSessionEvents, e) for e in seen))
kinds = [e.type for e in seen]
for kind in ["session.thread_created", "agent.thread_message_sent", "session.thread_status_running",
             "agent.thread_message_received", "session.thread_status_idle"]:
    check(f"the primary stream shows {kind}", kind in kinds)
calls = [e for e in seen if e.type == "agent.custom_tool_use"]
check("the child's call is cross-posted with its thread", len(calls) == 1 and calls[0].session_thread_id)

threads = client.beta.sessions.threads.list(session.id).data
check("two threads, primary first", len(threads) == 2 and threads[0].parent_thread_id is None)
check("threads validate", all(valid_as(BetaManagedAgentsSessionThread, t) for t in threads))
child = threads[1]
check("a status filter", [t.id for t in client.beta.sessions.threads.list(session.id, statuses=["running"]).data] == []
      and len(client.beta.sessions.threads.list(session.id, statuses=["idle", "running"]).data) == 2)
check("the child ran the researcher and is idle", child.agent.name == "Researcher" and child.status == "idle")
again = client.beta.sessions.threads.retrieve(child.id, session_id=session.id)
check("a retrieved thread validates", valid_as(BetaManagedAgentsSessionThread, again))
events = client.beta.sessions.threads.events.list(child.id, session_id=session.id).data
check("thread events validate", len(events) >= 6 and all(valid_as(BetaManagedAgentsSessionEvent, e) for e in events))
routed = [e for e in events if e.type == "user.custom_tool_result"]
check("the result was routed to the child", len(routed) == 1 and routed[0].session_thread_id == child.id)

# a thread's stream: its events from now on; archiving the idle child terminates it
with client.beta.sessions.threads.events.stream(child.id, session_id=session.id) as tstream:
    archived = client.beta.sessions.threads.archive(child.id, session_id=session.id)
    check("an archived thread validates", valid_as(BetaManagedAgentsSessionThread, archived))
    check("an archived thread is terminated", archived.status == "terminated" and archived.archived_at)
    for event in tstream:
        check("the thread stream's event validates", valid_as(BetaManagedAgentsStreamSessionThreadEvents, event))
        check("the thread stream shows the termination", event.type == "session.thread_status_terminated")
        break

failed = [n for n, ok in checks if not ok]
print(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
