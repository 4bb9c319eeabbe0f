#!/usr/bin/env bash
# Runs the reference flows with the official Python SDK (anthropic==2.17.0, installed from the
# package registry into a throwaway virtual environment) against the emulator, after checking
# webhook signatures both ways against the SDK's verifier (webhooks.py, offline) and that the SDK
# accepts the webhook events the emulator sends to a receiver (webhooks_live.py), and then the
# same flows recorded by `managed-agents record` (the cassette checked by check_cassette.py), a
# cassette recorded from Rust (the custom_tools example) replayed to the SDK (replay.py), the
# SDK's self-hosted work poller and worker against the emulator's work queue (work.py), a
# multi-agent session with its threads (threads.py), the command-line tool's OTLP/JSON span export
# parsed strictly into the OpenTelemetry protocol's ExportTraceServiceRequest (otlp.py, with
# opentelemetry-proto), and last every operation of the spec, each answer validated into the SDK's
# model (operations.py).
# Usage: bash tests/python_sdk/run.sh   (from anywhere; needs python3 and cargo)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pids=()
# stops every emulator started so far
stop_emulators() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_emulators
  rm -rf "$work"
}
trap cleanup EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "anthropic[webhooks]==2.17.0" \
  "opentelemetry-proto==1.45.2"

cd "$root"
# cargo puts its output in CARGO_TARGET_DIR when set (relative to the package root)
build_dir=${CARGO_TARGET_DIR:-target}
case $build_dir in /*) ;; *) build_dir="$root/$build_dir" ;; esac
cargo build --quiet --example emulator --example webhooks

# emulator NAME [ARGS...]: starts the standalone emulator with ARGS, its output in
# $work/NAME.log, and sets $url to its base URL once it listens
emulator() {
  local log="$work/$1.log"
  shift
  # strict: the SDK's every request must carry exactly its own version and betas
  "$build_dir/debug/examples/emulator" --strict "$@" > "$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    grep -q "listening on" "$log" 2>/dev/null && break
    sleep 0.1
  done
  url=$(sed -n 's/^emulator listening on //p' "$log")
  [ -n "$url" ] || { echo "the emulator did not start"; cat "$log"; exit 1; }
}
# sdk SCRIPT [VAR=VALUE...]: runs a Python script of this folder against the emulator at $url
sdk() {
  local script=$1
  shift
  env ANTHROPIC_API_KEY=test ANTHROPIC_BASE_URL="$url" "$@" \
    timeout 300 "$work/venv/bin/python" "$root/tests/python_sdk/$script"
}

timeout 300 "$work/venv/bin/python" "$root/tests/python_sdk/webhooks.py" "$build_dir/debug/examples/webhooks"
# the emulator's webhook deliveries, received live by a receiver in Python and verified by the SDK
timeout 300 "$work/venv/bin/python" "$root/tests/python_sdk/webhooks_live.py" "$build_dir/debug/examples/emulator"

# the default script, read from a file; and a 529 on every 7th request, which the SDK retries
echo '["echo", "call_first_custom_tool"]' > "$work/script.json"
echo '{"fail_every": 7, "retry_after_ms": 1}' > "$work/faults.json"
emulator flows --script "$work/script.json" --faults "$work/faults.json"
sdk flows.py
stop_emulators

# the same flows behind `managed-agents record`: the SDK's traffic through the recording proxy
# into a cassette, which is then checked (every exchange matched to its operation, the event
# streams as their events, the SDK's key nowhere in the file)
cargo build --quiet -p managed-agents-cli --bin managed-agents
emulator recorded --script "$work/script.json" --faults "$work/faults.json"
recorded_key=sk-ant-recorded-key-0123456789
env ANTHROPIC_API_KEY="$recorded_key" "$build_dir/debug/managed-agents" record \
  --out "$work/flows.cassette.jsonl" --upstream "$url" -- \
  timeout 300 "$work/venv/bin/python" "$root/tests/python_sdk/flows.py"
stop_emulators
"$work/venv/bin/python" "$root/tests/python_sdk/check_cassette.py" "$work/flows.cassette.jsonl" --retried "$recorded_key"

# the SDK replaying a cassette recorded from Rust: the custom_tools example records its run on
# the embedded emulator, `managed-agents emulator --cassette` serves that cassette alone, and
# replay.py makes the same calls with the SDK, to the outcome the cassette holds
cargo build --quiet --example custom_tools
(cd "$work" && env -u ANTHROPIC_API_KEY -u ANTHROPIC_BASE_URL \
  MANAGED_AGENTS_RECORD_TO="$work/rust.cassette.jsonl" "$build_dir/debug/examples/custom_tools" > /dev/null)
"$build_dir/debug/managed-agents" emulator --strict --speed 0 \
  --cassette "$work/rust.cassette.jsonl" > "$work/replay.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  grep -q "listening on" "$work/replay.log" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n 's/^emulator listening on //p' "$work/replay.log")
[ -n "$url" ] || { echo "the replaying emulator did not start"; cat "$work/replay.log"; exit 1; }
sdk replay.py CASSETTE="$work/rust.cassette.jsonl"
stop_emulators

# the work queue of a self-hosted environment: the SDK's poller and EnvironmentWorker, with an
# agent that calls the built-in write tool, then read
cat > "$work/tools.json" <<'JSON'
[{"agent_tool": {"name": "write", "input": {"file_path": "notes.txt", "content": "hello from the agent\n"}}},
 {"agent_tool": {"name": "read", "input": {"file_path": "notes.txt"}}}, {"say": "done"}]
JSON
emulator work --script "$work/tools.json"
sdk work.py
stop_emulators

# a multi-agent session: the coordinator delegates to a child thread that calls a custom tool
cat > "$work/threads.json" <<'JSON'
[{"say": "Asking the researcher."},
 {"delegate": {"agent": "Researcher", "message": "When is the release?", "script": [
   {"say": "Looking it up."}, {"call_tool": {"name": "lookup", "input": {"q": "release"}}},
   {"say": "It is May 4."}]}},
 {"say": "The release is on May 4."}]
JSON
emulator threads --script "$work/threads.json"
sdk threads.py
stop_emulators

# the spans of a batch, as `managed-agents --otlp-endpoint` exports them, received in Python and
# parsed strictly with the OpenTelemetry protocol's schema: one trace per task, and under a
# caller's TRACEPARENT one trace with every task in it
echo '["echo"]' > "$work/echo.json"
emulator otlp --script "$work/echo.json"
sdk otlp.py MANAGED_AGENTS_BIN="$build_dir/debug/managed-agents"
stop_emulators

# every operation of the spec, each answer validated into the SDK's model (operations.py), with
# an agent that writes a file (a session output to download), and on a second emulator a
# coordinator that delegates to a child thread (the session threads' operations)
cat > "$work/team.json" <<'JSON'
[{"say": "Asking the researcher."},
 {"delegate": {"agent": "Researcher", "message": "When is the release?", "script": [{"say": "It is May 4."}]}},
 {"say": "The release is on May 4."}]
JSON
emulator team --script "$work/team.json"
team_url=$url
echo '[{"write_file": {"name": "out.txt", "content": "output"}}, {"say": "done"}]' > "$work/ops.json"
emulator operations --script "$work/ops.json"
sdk operations.py TEAM_BASE_URL="$team_url"
