"""The emulator's webhook deliveries, received live and verified by the official Python SDK.

Run by tests/python_sdk/run.sh with the path of the built `emulator` example:
`python webhooks_live.py target/debug/examples/emulator`. Needs `anthropic[webhooks]==2.17.0`.

The script starts a receiver on loopback (it answers the first delivery with 500, the rest
with 204), starts the emulator with `--webhook-url` and `--webhook-secret` pointed at it,
drives a session's lifecycle and a few objects with the SDK, and checks that:

- every delivery is accepted by `client.beta.webhooks.unwrap` (the key from the client's
  `webhook_key`) and validates as the SDK's `BetaWebhookEvent` model (`model_validate`);
- the events come in the order their changes happened, naming the objects the SDK made;
- the delivery answered 500 comes again, with the same `webhook-id`, and is accepted then;
- another key is refused.
"""
import base64
import http.server
import json
import os
import subprocess
import sys
import threading
import time

import anthropic
from anthropic.types.beta import BetaWebhookEvent
from standardwebhooks.webhooks import WebhookVerificationError

emulator = sys.argv[1]
checks = []


def check(name, ok, detail=""):
    checks.append((name, bool(ok)))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok or not detail else f": {detail}"), flush=True)


secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
other = "whsec_" + base64.b64encode(os.urandom(32)).decode()

# ---- the receiver ---------------------------------------------------------------------------
deliveries = []  # (status answered, raw body, headers)
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        with lock:
            status = 500 if not deliveries else 204
            deliveries.append((status, body, dict(self.headers.items()), self.path))
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
hooks = f"http://127.0.0.1:{server.server_address[1]}/hooks"

# ---- the emulator, pointed at it -------------------------------------------------------------
env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_WEBHOOK_SIGNING_KEY"}
proc = subprocess.Popen(
    [emulator, "--strict", "--webhook-url", hooks, "--webhook-secret", secret],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
)
try:
    first = proc.stdout.readline().strip()
    prefix = "emulator listening on "
    if not first.startswith(prefix):
        raise SystemExit(f"the emulator did not start: {first!r} {proc.stderr.read()}")
    base_url = first[len(prefix):]
    threading.Thread(target=proc.stdout.read, daemon=True).start()

    client = anthropic.Anthropic(api_key="test", base_url=base_url, webhook_key=secret)

    # ---- a session's lifecycle and a few objects, in this order ------------------------------
    environment = client.beta.environments.create(name="hooks", config={"type": "cloud"})
    agent = client.beta.agents.create(name="Hooks", model="claude-opus-4-5")
    session = client.beta.sessions.create(agent=agent.id, environment_id=environment.id)
    client.beta.sessions.events.send(
        session.id, events=[{"type": "user.message", "content": [{"type": "text", "text": "hi"}]}]
    )
    deadline = time.monotonic() + 60
    while client.beta.sessions.retrieve(session.id).status != "idle" or not any(
        e.type == "session.status_idle" for e in client.beta.sessions.events.list(session.id)
    ):
        if time.monotonic() > deadline:
            raise SystemExit("the session never went idle")
        time.sleep(0.05)
    client.beta.sessions.archive(session.id)
    client.beta.sessions.delete(session.id)
    vault = client.beta.vaults.create(display_name="hooks")
    credential = client.beta.vaults.credentials.create(vault.id, auth={
        "type": "static_bearer", "token": "secret-token", "mcp_server_url": "https://mcp.example.com/sse",
    })
    client.beta.agents.archive(agent.id)

    expected = [
        ("environment.created", environment.id),
        ("agent.created", agent.id),
        ("session.created", session.id),
        ("session.status_run_started", session.id),
        ("session.status_idled", session.id),
        ("session.archived", session.id),
        ("session.deleted", session.id),
        ("vault.created", vault.id),
        ("vault_credential.created", credential.id),
        ("agent.archived", agent.id),
    ]
    # one more: the first delivery comes twice
    deadline = time.monotonic() + 60
    while True:
        with lock:
            got = list(deliveries)
        if len(got) >= len(expected) + 1 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    time.sleep(0.3)
    with lock:
        got = list(deliveries)
finally:
    proc.kill()
    proc.wait()
    server.shutdown()

check(f"{len(expected) + 1} deliveries arrived", len(got) == len(expected) + 1, f"{len(got)}: {[b for _, b, _, _ in got]}")
check("every delivery is a POST to the endpoint's path", all(p == "/hooks" for *_, p in got))

# ---- the first delivery, answered 500, came again with the same id ---------------------------
(s0, b0, h0, _), (s1, b1, h1, _) = got[0], got[1]
check("the first try was answered 500, the second 204", (s0, s1) == (500, 204))
check("the retry has the same webhook-id", h0.get("webhook-id") == h1.get("webhook-id") and h0.get("webhook-id"))
check("the retry has the same body", b0 == b1)

# ---- every accepted delivery: verified by the SDK, validated by its model, in order ----------
accepted = [(b, h) for s, b, h, _ in got if s == 204]
events = []
for body, headers in accepted:
    try:
        event = client.beta.webhooks.unwrap(body.decode(), headers=headers)
    except WebhookVerificationError as e:
        check(f"the SDK unwraps {body[:80]!r}", False, str(e))
        continue
    validated = BetaWebhookEvent.model_validate(json.loads(body))
    events.append(event)
    kind = event.data.type
    check(f"the SDK unwraps and validates {kind}", validated.data.type == kind and validated.type == "event"
          and headers.get("webhook-id") == event.id)

kinds = [(e.data.type, e.data.id) for e in events]
check("the events come in the order of their changes", kinds == expected, f"{kinds}")
cred_events = [e for e in events if e.data.type == "vault_credential.created"]
check("vault_credential.created names its vault", bool(cred_events) and cred_events[0].data.vault_id == vault.id)
check("the events' times only go forward", all(a.created_at <= b.created_at for a, b in zip(events, events[1:])))

# ---- another key is refused -------------------------------------------------------------------
try:
    client.beta.webhooks.unwrap(accepted[0][0].decode(), headers=accepted[0][1], key=other)
    check("the SDK refuses a delivery under another key", False)
except WebhookVerificationError:
    check("the SDK refuses a delivery under another key", True)

failed = [name for name, ok in checks if not ok]
print(f"\n{len(checks) - len(failed)}/{len(checks)} live webhook checks passed")
sys.exit(1 if failed else 0)
