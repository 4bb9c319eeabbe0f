"""Checks a cassette that `managed-agents record` wrote of an official SDK running its flows.

Usage: python check_cassette.py CASSETTE [--retried] SECRET...
Every exchange is matched to its operation, every answer came (with --retried, the emulator's 529s
among them, each retry an exchange of its own), the event streams are recorded as events, and no
SECRET is in the file. Run on the TypeScript SDK's cassette too (tests/typescript_sdk/run.sh).
"""
import json
import sys

path, rest = sys.argv[1], sys.argv[2:]
retried = "--retried" in rest
secrets = [a for a in rest if a != "--retried"]
text = open(path, encoding="utf-8").read()
failures = []


def check(name, ok):
    print(("ok   " if ok else "FAIL ") + name, flush=True)
    if not ok:
        failures.append(name)


lines = [json.loads(line) for line in text.splitlines()]
check("the header first", lines[0]["kind"] == "header" and lines[0]["version"] == 1)
exchanges = [l for l in lines if l["kind"] == "exchange"]
check(f"{len(exchanges)} exchanges", len(exchanges) >= 10)
unmatched = [x["method"] + " " + x["path"] for x in exchanges if not x["operation"]]
check(f"every exchange matched to its operation {unmatched}", not unmatched)
check("every exchange answered", all(isinstance(x["status"], int) for x in exchanges))
if retried:
    check("the 529s the SDK retried", any(x["status"] == 529 for x in exchanges))
credentials = [
    [v for k, v in x["request_headers"].items() if k in ("x-api-key", "authorization")]
    for x in exchanges
]
check("every credential header redacted", all(
    c and all(v == "[REDACTED]" for v in c) for c in credentials))
streams = [x for x in exchanges if x.get("stream") == "events"]
check(f"{len(streams)} event streams", streams)
events = [l for l in lines if l["kind"] == "event"]
check(f"{len(events)} events", events)
stream_ids = {x["id"] for x in streams}
check("every event belongs to a stream", all(e["exchange"] in stream_ids for e in events))
check("the agent's messages among them", any(
    (e.get("data") or {}).get("type") == "agent.message" for e in events))
for s in secrets:
    check(f"the secret {s[:6]}... nowhere in the file", s not in text)
if failures:
    sys.exit(f"{len(failures)} checks failed")
