"""The official Python SDK replaying a cassette recorded from Rust.

Run by tests/python_sdk/run.sh: the Rust `custom_tools` example records its run on the embedded
emulator (MANAGED_AGENTS_RECORD_TO=FILE), `managed-agents emulator --cassette FILE` serves that
cassette alone, and this script makes the same calls with the SDK: an environment, an agent with
the `run_tests` custom tool, a session, then one stream on which it sends the message, answers
the tool call and reads until the turn ends. It must reach the outcome the cassette recorded:
the same tool call, the same agent text, the same end. The cassette's path is in CASSETTE.
"""
import json
import os
import sys

import anthropic

with open(os.environ["CASSETTE"]) as f:
    cassette = [json.loads(line) for line in f if line.strip()]
recorded_events = [l["data"] for l in cassette if l["kind"] == "event" and isinstance(l.get("data"), dict)]
recorded_text = "".join(
    b["text"]
    for e in recorded_events
    if e.get("type") == "agent.message"
    for b in e.get("content", [])
    if b.get("type") == "text"
)
recorded_calls = [e["id"] for e in recorded_events if e.get("type") == "agent.custom_tool_use"]

client = anthropic.Anthropic()  # ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL from the environment
checks = []


def check(name, ok):
    checks.append((name, bool(ok)))
    print(("ok   " if ok else "FAIL ") + name, flush=True)


# what examples/custom_tools.rs sends, as the SDK sends it
environment = client.beta.environments.create(
    name="example-env",
    config={"type": "cloud", "networking": {"type": "unrestricted"}},
)
agent = client.beta.agents.create(
    name="Tester",
    model="claude-opus-4-5",
    tools=[{
        "type": "custom",
        "name": "run_tests",
        "description": "Run the test suite",
        "input_schema": {"type": "object", "properties": {"test_path": {"type": "string"}}},
    }],
)
session = client.beta.sessions.create(
    agent={"type": "agent", "id": agent.id, "version": agent.version},
    environment_id=environment.id,
)
check("the recorded session", session.id in json.dumps(cassette[1:5]))

texts, calls, stop = [], [], None
with client.beta.sessions.events.stream(session_id=session.id) as stream:
    client.beta.sessions.events.send(
        session_id=session.id,
        events=[{"type": "user.message", "content": [{"type": "text", "text": "Run the tests"}]}],
    )
    for event in stream:
        if event.type == "agent.message":
            texts.extend(b.text for b in event.content if b.type == "text")
        elif event.type == "agent.custom_tool_use":
            calls.append(event.id)
            client.beta.sessions.events.send(
                session_id=session.id,
                events=[{
                    "type": "user.custom_tool_result",
                    "custom_tool_use_id": event.id,
                    "content": [{"type": "text", "text": "All tests passed."}],
                    "is_error": False,
                }],
            )
        elif event.type == "session.status_idle" and event.stop_reason.type != "requires_action":
            stop = event.stop_reason.type
            break

check("the recorded tool call answered", calls == recorded_calls and len(calls) == 1)
check("the recorded agent text", "".join(texts) == recorded_text and recorded_text)
check("the turn ended as recorded", stop == "end_turn")

failed = [name for name, ok in checks if not ok]
print(f"{len(checks) - len(failed)}/{len(checks)} checks passed")
sys.exit(1 if failed else 0)
