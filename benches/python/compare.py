"""The official Python SDK (anthropic==2.12.0) on the same inputs as the Rust benchmarks.

Run by benches/compare.sh, which sets up a throwaway virtual environment, writes the event
log, starts the emulator, and prints both sides with their ratio. Prints one JSON object.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import anthropic
from anthropic._models import construct_type
from anthropic._streaming import SSEDecoder
from anthropic.types.beta.sessions import BetaManagedAgentsStreamSessionEvents

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from replay import loopback_server, replay  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--log", required=True)
p.add_argument("--emulator", required=True)
p.add_argument("--cold-runs", type=int, default=10)
p.add_argument("--deadline-tries", type=int, default=3)
args = p.parse_args()
out = {}

log = open(args.log, "rb").read()
mb = len(log) / 1e6


def chunks(data, size=64 * 1024):
    for i in range(0, len(data), size):
        yield data[i : i + size]


# 1. SSE decoding alone (best of 3, as the Rust side takes its best)
best = float("inf")
for _ in range(3):
    t = time.perf_counter()
    n = sum(1 for _ in SSEDecoder().iter_bytes(chunks(log)))
    best = min(best, time.perf_counter() - t)
out["sse"] = {"mb_s": mb / best, "events_s": n / best, "events": n}

# 2. SSE + JSON into typed events, as the SDK's Stream does for each event
best = float("inf")
for _ in range(3):
    t = time.perf_counter()
    typed = 0
    for sse in SSEDecoder().iter_bytes(chunks(log)):
        if sse.event is None or sse.event == "ping" or not sse.data:
            continue
        construct_type(type_=BetaManagedAgentsStreamSessionEvents, value=json.loads(sse.data))
        typed += 1
    best = min(best, time.perf_counter() - t)
out["typed"] = {"mb_s": mb / best, "events_s": typed / best}


# 3. end to end: sessions.events.stream from a loopback server replaying the log
client = anthropic.Anthropic(api_key="k", base_url=loopback_server(replay(log)), max_retries=0)
t = time.perf_counter()
n = 0
with client.beta.sessions.events.stream(session_id="sesn_1") as stream:
    for _ in stream:
        n += 1
secs = time.perf_counter() - t
out["stream"] = {"events_s": n / secs, "mb_s": mb / secs, "events": n}

# 4. cold start: process start, a client from the environment, one request, exit
env = dict(os.environ, ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=args.emulator)
code = "import anthropic; c = anthropic.Anthropic(); print(len(c.beta.environments.list().data))"
times, rss = [], []
for _ in range(args.cold_runs):
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-c", code], env=env, capture_output=True, text=True)
    times.append(time.perf_counter() - t)
    rss.append(int(r.stderr.strip().splitlines()[-1]))
out["cold"] = {"mean_s": sum(times) / len(times), "min_s": min(times), "max_rss_kib": max(rss)}


# 5. a 0.5 s timeout against a body trickled one byte per 100 ms (the SDK's timeout is per read)
def trickle(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{")
    for _ in range(600):
        time.sleep(0.1)
        conn.sendall(b" ")


url = loopback_server(trickle)
over = []
for _ in range(args.deadline_tries):
    code = (
        "import anthropic\n"
        f"c = anthropic.Anthropic(api_key='k', base_url='{url}', max_retries=0, timeout=0.5)\n"
        "c.beta.environments.list()\n"
    )
    t = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-c", code], timeout=10, capture_output=True)
        over.append(time.perf_counter() - t - 0.5)
    except subprocess.TimeoutExpired:
        over.append(None)  # still reading at 10 s: killed
out["deadline"] = {"overshoot_s": over}

print(json.dumps(out))
