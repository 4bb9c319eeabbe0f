"""The command-line tool's OTLP/JSON export, checked against the OpenTelemetry protocol's own schema.

Run by tests/python_sdk/run.sh against an emulator (ANTHROPIC_BASE_URL) with the path of the built
`managed-agents` binary in MANAGED_AGENTS_BIN (or as its argument:
`python otlp.py target/debug/managed-agents`). Needs `anthropic==2.17.0`
(to make the batch's agent and environment) and `opentelemetry-proto` (the schema).

A receiver on loopback takes what `managed-agents --otlp-endpoint` posts while it runs a batch of
three tasks. Every body is parsed with `google.protobuf.json_format.Parse` into the collector's
`ExportTraceServiceRequest`, strictly: a field the schema does not have fails. The OTLP/JSON
encoding differs from protobuf's JSON mapping in one respect, the trace and span ids: they are hex,
not base64 (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding), so they are checked
as hex of the right length and given to the parser as base64. A JSON `null`, which the parser
takes as "not set", is a failure of its own. Then the spans must be one trace per task: a root
`managed_agents.task` per task, each in a trace of its own, every parent in the same trace, the
turn under the root and the event stream under the turn. A second batch, run as a CI job would
start it with `TRACEPARENT` and `TRACESTATE` set, must put every task under the caller's span, with
the trace state kept and the parent marked remote (`flags`). Before all that, the check is shown
to refuse what the schema does not allow (an unknown field, base64 ids, a null, a value of the
wrong shape, an unknown enum name).
"""
import base64
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections import defaultdict

import anthropic
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

cli = sys.argv[1] if len(sys.argv) > 1 else os.environ["MANAGED_AGENTS_BIN"]
checks = []


def check(name, ok, detail=""):
    checks.append((name, bool(ok)))
    print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""))


bodies = []


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        bodies.append((self.path, self.headers.get("content-type"), body))
        answer = b"{}"
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
endpoint = f"http://127.0.0.1:{server.server_address[1]}"

client = anthropic.Anthropic()
environment = client.beta.environments.create(name="otlp", config={"type": "cloud"})
agent = client.beta.agents.create(name="Traced", model="claude-opus-4-5")



def batch(tasks, env=None):
    """Runs a batch of `tasks` with the spans exported to the receiver; returns what arrived."""
    del bodies[:]
    work = tempfile.mkdtemp()
    with open(os.path.join(work, "tasks.jsonl"), "w") as f:
        for t in tasks:
            f.write(json.dumps({"id": t, "message": f"hello from {t}"}) + "\n")
    run = subprocess.run(
        [cli, "--otlp-endpoint", endpoint, "batch", os.path.join(work, "tasks.jsonl"),
         "--agent", agent.id, "--environment", environment.id, "--parallel", "2",
         "--out", os.path.join(work, "results.jsonl")],
        capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )
    check("the batch ran", run.returncode == 0, run.stderr)
    return list(bodies)


tasks = ["t1", "t2", "t3"]
bodies_of_tasks = batch(tasks)
check("the spans arrived", len(bodies_of_tasks) >= 1)
check("every export is a POST to /v1/traces in JSON",
      all(p == "/v1/traces" and t == "application/json" for p, t, _ in bodies_of_tasks))

HEX = {"traceId": 32, "spanId": 16, "parentSpanId": 16}
bad_ids = []
nulls = []


def to_proto_json(value, where="$"):
    """`value` with its hex ids as base64, as protobuf's JSON mapping has bytes; notes what is wrong."""
    if value is None:
        nulls.append(where)
        return value
    if isinstance(value, list):
        return [to_proto_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if k in HEX and isinstance(v, str):
            if v == "" and k == "parentSpanId":
                out[k] = v
                continue
            if not re.fullmatch(f"[0-9a-f]{{{HEX[k]}}}", v):
                bad_ids.append(f"{where}.{k}={v!r}")
                out[k] = v
                continue
            out[k] = base64.b64encode(bytes.fromhex(v)).decode()
        else:
            out[k] = to_proto_json(v, f"{where}.{k}")
    return out


def parse(exports):
    """The spans of `exports`, each parsed strictly into `ExportTraceServiceRequest`."""
    spans, errors = [], []
    del bad_ids[:], nulls[:]
    for body in exports:
        try:
            request = json_format.Parse(json.dumps(to_proto_json(json.loads(body))), ExportTraceServiceRequest())
        except (json_format.ParseError, ValueError) as e:
            errors.append(str(e))
            continue
        for rs in request.resource_spans:
            service = [a.value.string_value for a in rs.resource.attributes if a.key == "service.name"]
            if service != ["managed-agents"]:
                errors.append(f"the resource's service.name is {service}")
            for ss in rs.scope_spans:
                spans.extend(ss.spans)
    return spans, errors + [f"id not hex: {b}" for b in bad_ids] + [f"null at {n}" for n in nulls]


# the check refuses what the schema or the OTLP/JSON encoding does not allow
good = {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "00f067aa0ba902b7", "name": "s"}
def export_of(span):
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "managed-agents"}}]},
        "scopeSpans": [{"scope": {"name": "x"}, "spans": [span]}]}]})
check("the check takes a good span", not parse([export_of(good)])[1])
for what, span in [
    ("an unknown field", {**good, "bogus": 1}),
    ("base64 ids", {**good, "traceId": base64.b64encode(bytes(16)).decode()}),
    ("a null value", {**good, "attributes": [{"key": "k", "value": {"doubleValue": None}}]}),
    ("a value of the wrong shape", {**good, "attributes": [{"key": "k", "value": {"arrayValue": "[1]"}}]}),
    ("a kind that is no enum value", {**good, "kind": "SPAN_KIND_NONE"}),
]:
    check(f"the check refuses {what}", parse([export_of(span)])[1])

spans, errors = parse(b for _, _, b in bodies_of_tasks)
check("every export parses into ExportTraceServiceRequest, strictly, with hex ids", not errors, errors[:3])

unset = [(s.name, a.key) for s in spans for a in s.attributes if a.value.WhichOneof("value") is None]
check("every attribute has a value", not unset, unset[:3])
check("every span has its ids", all(len(s.trace_id) == 16 and len(s.span_id) == 8 for s in spans))
check("every parent id is 8 bytes or none", all(len(s.parent_span_id) in (0, 8) for s in spans))
check("every span ends after it starts",
      all(0 < s.start_time_unix_nano <= s.end_time_unix_nano for s in spans))
check("the kinds are client and internal",
      bool(spans) and {s.kind for s in spans} <= {Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_INTERNAL})

by_trace = defaultdict(list)
for s in spans:
    by_trace[s.trace_id].append(s)
roots = [s for s in spans if s.name == "managed_agents.task"]
check("one root span per task", len(roots) == len(tasks), [s.name for s in spans])
check("the roots have no parent", all(not r.parent_span_id for r in roots))
check("each task is a trace of its own", len({r.trace_id for r in roots}) == len(tasks))
task_ids = sorted(a.value.string_value for r in roots for a in r.attributes if a.key == "managed_agents.task.id")
check("the roots name their tasks", task_ids == tasks, task_ids)
check("the roots ended ok", all(r.status.code == Status.STATUS_CODE_OK for r in roots))
outside = [s.name for s in spans if s.trace_id not in {r.trace_id for r in roots}]
check("every span is in a task's trace", not outside, outside)
for root in roots:
    trace = by_trace[root.trace_id]
    ids = {s.span_id: s for s in trace}
    names = {s.name for s in trace}
    for want in ["anthropic.sessions.create", "invoke_agent", "anthropic.sessions.events.send",
                 "anthropic.sessions.events.stream"]:
        check(f"{want} is in the trace", want in names, sorted(names))
    check("every parent is in the same trace",
          all(not s.parent_span_id or s.parent_span_id in ids for s in trace))
    turn = next((s for s in trace if s.name == "invoke_agent"), None)
    check("the turn is the root's child", turn is not None and turn.parent_span_id == root.span_id)
    stream = next((s for s in trace if s.name == "anthropic.sessions.events.stream"), None)
    check("the stream is the turn's child",
          stream is not None and turn is not None and stream.parent_span_id == turn.span_id)
    create = next((s for s in trace if s.name == "anthropic.sessions.create"), None)
    check("the session's creation is a client span",
          create is not None and create.kind == Span.SPAN_KIND_CLIENT)

# a batch a CI job starts with its trace context in the environment: each task is a child of
# the caller's span, its trace state kept, its parent marked remote
TRACE, PARENT = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
spans, errors = parse(b for _, _, b in batch(
    ["c1", "c2"], {"TRACEPARENT": f"00-{TRACE}-{PARENT}-01", "TRACESTATE": "vendor=opaque"}))
check("the exports of a batch under TRACEPARENT parse strictly", not errors, errors[:3])
roots = [s for s in spans if s.name == "managed_agents.task"]
check("under TRACEPARENT, a root per task", len(roots) == 2, [s.name for s in spans])
check("the roots are children of the caller's span, in its trace",
      all(r.trace_id.hex() == TRACE and r.parent_span_id.hex() == PARENT for r in roots))
check("the roots keep the caller's trace state", all(r.trace_state == "vendor=opaque" for r in roots),
      [r.trace_state for r in roots])
check("the roots' parent is marked remote", all(r.flags & 0x300 == 0x300 for r in roots),
      [hex(r.flags) for r in roots])
check("every span is in the caller's trace", all(s.trace_id.hex() == TRACE for s in spans))
server.shutdown()

failed = [n for n, ok in checks if not ok]
print(f"{len(checks) - len(failed)}/{len(checks)} checks passed")
sys.exit(1 if failed else 0)
