"""Webhook signatures, checked both ways against the official Python SDK.

Run by tests/python_sdk/run.sh with the path of the built `webhooks` example:
`python webhooks.py target/debug/examples/webhooks`. Needs `anthropic[webhooks]==2.17.0`
(the SDK verifies with the `standardwebhooks` package). Offline: no API, no emulator.

- what our `sign` produces, `client.beta.webhooks.unwrap` accepts (key passed, and from the
  client's `webhook_key`), and it is byte for byte what the SDK's verifier computes;
- what the SDK's verifier signs, our `unwrap` accepts;
- both refuse the same things: another secret, a stale timestamp, only non-`v1` signatures;
- both accept a header with several signatures of which one matches, and an unpadded secret.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

import anthropic
from anthropic.types.beta import BetaWebhookEvent
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

example = sys.argv[1]
checks = []


def check(name, ok, detail=""):
    checks.append((name, bool(ok)))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok or not detail else f": {detail}"), flush=True)


def new_secret(n=32):
    return "whsec_" + base64.b64encode(os.urandom(n)).decode()


secret = new_secret()
other = new_secret()
client = anthropic.Anthropic(api_key="unused", base_url="http://127.0.0.1:9", webhook_key=secret)


def rust(*args, key=secret):
    env = dict(os.environ, ANTHROPIC_WEBHOOK_SIGNING_KEY=key)
    return subprocess.run([example, *args], env=env, capture_output=True, text=True, timeout=120)


def rust_sign(path, msg_id, ts=None, key=secret):
    r = rust("sign", path, msg_id, *([str(ts)] if ts is not None else []), key=key)
    if r.returncode != 0:
        raise SystemExit(f"the example could not sign: {r.stderr}")
    return dict(line.split(": ", 1) for line in r.stdout.splitlines())


def py_sign(key, msg_id, ts, body):
    return Webhook(key).sign(msg_id, datetime.fromtimestamp(ts, tz=timezone.utc), body)


def sdk_accepts(body, headers, key=None):
    try:
        return client.beta.webhooks.unwrap(body, headers=headers, key=key), None
    except WebhookVerificationError as e:
        return None, str(e)


def event(n, kind, **fields):
    data = {"type": kind, "id": f"obj_{n}", "organization_id": "org_1", **fields}
    return {"id": f"wevt_{n}", "created_at": "2026-05-01T12:00:00Z", "type": "event", "data": data}


ws = {"workspace_id": "wrkspc_1"}
events = [
    event(0, "session.status_idled", **ws),
    event(1, "session.thread_created", session_thread_id="sthr_1", **ws),
    event(2, "vault_credential.refresh_failed", vault_id="vlt_1", **ws),
    event(3, "deployment_run.failed", **ws),
    event(4, "external_key.failed"),
    event(5, "user_profile.enforcement_action_opened", enforcement_action_id="ea_1"),
    # a kind of a newer SDK: read as `Unknown` by us, kept by the SDK's lenient parser
    event(6, "external_storage.failed", **ws),
]
known = {e["data"]["type"] for e in events[:-1]}

with tempfile.TemporaryDirectory() as tmp:
    for i, ev in enumerate(events):
        kind = ev["data"]["type"]
        # non-ASCII text in the body: signed as UTF-8 bytes on both sides
        ev["data"]["note"] = "résumé ✓"
        body = json.dumps(ev, ensure_ascii=False)
        path = os.path.join(tmp, f"body{i}.json")
        with open(path, "wb") as f:
            f.write(body.encode())
        msg_id = f"msg_{i}"

        # ours signs, the SDK verifies
        headers = rust_sign(path, msg_id)
        got, err = sdk_accepts(body, headers)
        check(f"the SDK unwraps what we signed ({kind}), key from the client", got is not None and got.id == ev["id"], err)
        got, err = sdk_accepts(body, {k.upper(): v for k, v in headers.items()}, key=secret)
        check(f"the SDK unwraps what we signed ({kind}), key passed", got is not None and got.data.type == kind, err)
        ts = int(headers["webhook-timestamp"])
        check(f"our signature is the SDK verifier's ({kind})", py_sign(secret, msg_id, ts, body) == headers["webhook-signature"])
        if kind in known:
            # the SDK's model, validated (not constructed), takes the payloads we test with
            validated = BetaWebhookEvent.model_validate(json.loads(body))
            check(f"the SDK's model validates the payload ({kind})", validated.data.type == kind)

        # the SDK's verifier signs, ours verifies
        now = int(time.time())
        r = rust("verify", path, msg_id, str(now), py_sign(secret, msg_id, now, body))
        check(f"we unwrap what the SDK's verifier signed ({kind})", r.returncode == 0 and f"verified {ev['id']}" in r.stdout, r.stderr)

    body = open(os.path.join(tmp, "body0.json"), encoding="utf-8").read()
    path = os.path.join(tmp, "body0.json")
    now = int(time.time())

    # another secret: both refuse
    headers = rust_sign(path, "msg_x", key=other)
    got, err = sdk_accepts(body, headers)
    check("the SDK refuses what we signed with another secret", got is None and "No matching signature" in (err or ""))
    r = rust("verify", path, "msg_x", str(now), py_sign(other, "msg_x", now, body))
    check("we refuse what the SDK's verifier signed with another secret", r.returncode != 0 and "no matching signature" in r.stderr, r.stderr)

    # several signatures, one of them right: both accept
    both = f"{py_sign(other, 'msg_m', now, body)} {py_sign(secret, 'msg_m', now, body)}"
    got, err = sdk_accepts(body, {"webhook-id": "msg_m", "webhook-timestamp": str(now), "webhook-signature": both})
    check("the SDK accepts one right signature among several", got is not None, err)
    r = rust("verify", path, "msg_m", str(now), both)
    check("we accept one right signature among several", r.returncode == 0, r.stderr)

    # only another version: both refuse
    v2 = "v2," + py_sign(secret, "msg_v", now, body).split(",", 1)[1]
    got, err = sdk_accepts(body, {"webhook-id": "msg_v", "webhook-timestamp": str(now), "webhook-signature": v2})
    check("the SDK ignores a v2 signature", got is None)
    r = rust("verify", path, "msg_v", str(now), v2)
    check("we ignore a v2 signature", r.returncode != 0 and "no `v1,` signature" in r.stderr, r.stderr)

    # ten minutes old, and ten minutes ahead: both refuse; four minutes: both accept
    for delta, word, ok in [(-600, "too old", False), (600, "too new", False), (-240, "", True), (240, "", True)]:
        ts = now + delta
        headers = rust_sign(path, "msg_t", ts)
        got, err = sdk_accepts(body, headers)
        check(f"the SDK {'accepts' if ok else 'refuses'} a timestamp {delta:+}s away", (got is not None) == ok, err)
        r = rust("verify", path, "msg_t", str(ts), py_sign(secret, "msg_t", ts, body))
        check(f"we {'accept' if ok else 'refuse'} a timestamp {delta:+}s away", (r.returncode == 0) == ok and word in r.stderr, r.stderr)

    # a secret whose base64 has padding, written without it: both read the same key
    padded = new_secret(31)
    unpadded = padded.rstrip("=")
    assert padded != unpadded
    headers = rust_sign(path, "msg_p", key=unpadded)
    got, err = sdk_accepts(body, headers, key=padded)
    check("an unpadded secret is the same key on both sides", got is not None, err)

failed = [name for name, ok in checks if not ok]
print(f"\n{len(checks) - len(failed)}/{len(checks)} webhook checks passed")
sys.exit(1 if failed else 0)
