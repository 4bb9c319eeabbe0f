#!/usr/bin/env bash
# Runs the reference flows with the official TypeScript SDK (@anthropic-ai/sdk@1.17.0, installed
# from the package registry into a throwaway folder) against the emulator in strict mode, then
# once more behind `managed-agents record`, the cassette checked.
# Usage: bash tests/typescript_sdk/run.sh   (from anywhere; needs node, npm and cargo)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$work" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund @anthropic-ai/sdk@1.17.0)
cp "$root/tests/typescript_sdk/flows.mjs" "$work/"

cd "$root"
build_dir=${CARGO_TARGET_DIR:-target}
case $build_dir in /*) ;; *) build_dir="$root/$build_dir" ;; esac
cargo build --quiet --example emulator
echo '["echo", "call_first_custom_tool"]' > "$work/script.json"
"$build_dir/debug/examples/emulator" --strict --script "$work/script.json" > "$work/emulator.log" 2>&1 &
pid=$!
url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/^emulator listening on //p' "$work/emulator.log")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "the emulator did not start"; cat "$work/emulator.log"; exit 1; }
cd "$work"
ANTHROPIC_API_KEY=test ANTHROPIC_BASE_URL="$url" timeout 300 node flows.mjs

# the same flows behind `managed-agents record` (the SDK's fetch through the recording proxy),
# the cassette then checked as the Python SDK's is, when python3 is there to read it
cd "$root"
cargo build --quiet -p managed-agents-cli --bin managed-agents
cd "$work"
recorded_key=sk-ant-recorded-key-0123456789
ANTHROPIC_API_KEY="$recorded_key" "$build_dir/debug/managed-agents" record \
  --out "$work/flows.cassette.jsonl" --upstream "$url" -- timeout 300 node flows.mjs
if command -v python3 >/dev/null 2>&1; then
  python3 "$root/tests/python_sdk/check_cassette.py" "$work/flows.cassette.jsonl" "$recorded_key"
else
  echo "python3 not found: the recorded cassette is not checked"
fi
