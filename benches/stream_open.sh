#!/usr/bin/env bash
# Stream open and message-to-first-event, ours beside the official TypeScript SDK
# (@anthropic-ai/sdk@1.17.0 on Node, installed into a throwaway folder), against the emulator
# answering every request 0, 50 and 100 ms late (its `slow_ms` fault). Prints the median and
# the range of RUNS runs per side and latency, and the machine's load.
# Usage: bash benches/stream_open.sh [RUNS]   (default 7; about a minute after the builds)
# With HANDSHAKE_MS set, every new connection also waits that long before its first answer
# (the emulator's `handshake_ms` fault: a TCP and TLS handshake's round trips).
# With TS_SDK_DIR set to a folder holding node_modules/@anthropic-ai/sdk, nothing is installed.
set -euo pipefail
runs=${1:-7}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
emu_pid=
cleanup() {
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$root"
build_dir=${CARGO_TARGET_DIR:-target}
case $build_dir in /*) ;; *) build_dir="$root/$build_dir" ;; esac

sdk=${TS_SDK_DIR:-}
if [ -z "$sdk" ]; then
  sdk="$work/ts"
  mkdir -p "$sdk"
  (cd "$sdk" && npm init -y > /dev/null && npm install --silent --no-audit --no-fund @anthropic-ai/sdk@1.17.0 > /dev/null)
fi
cargo build --quiet --release --example emulator
cargo bench --quiet --bench stream_open --no-run 2> /dev/null

echo "load before: $(uptime)"
for slow in 0 50 100; do
  echo "{\"slow_ms\": $slow, \"handshake_ms\": ${HANDSHAKE_MS:-0}}" > "$work/faults.json"
  : > "$work/emulator.log"
  "$build_dir/release/examples/emulator" --strict --faults "$work/faults.json" > "$work/emulator.log" 2>&1 &
  emu_pid=$!
  url=
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^emulator listening on //p' "$work/emulator.log")
    [ -n "$url" ] && break
    sleep 0.1
  done
  cargo bench --quiet --bench stream_open -- "$url" "$runs" > "$work/rust-$slow.json"
  node "$root/benches/ts/stream_open.mjs" "$sdk" "$url" "$runs" > "$work/ts-$slow.json"
  kill "$emu_pid" 2>/dev/null || true
  wait "$emu_pid" 2>/dev/null || true
  emu_pid=
done
echo "load after: $(uptime)"

python3 - "$work" "$runs" <<'PY'
import json, statistics, sys
work, runs = sys.argv[1], sys.argv[2]
def cell(xs):
    return f"{statistics.median(xs):.1f} ({min(xs):.1f}-{max(xs):.1f})"
print(f"\nmedian (range) of {runs} runs, ms")
print("| added latency | open: Rust | open: TypeScript | first event: Rust | first event: TypeScript |")
print("| --- | --- | --- | --- | --- |")
for slow in (0, 50, 100):
    r = json.load(open(f"{work}/rust-{slow}.json"))
    t = json.load(open(f"{work}/ts-{slow}.json"))
    print(f"| {slow} ms | {cell(r['open_ms'])} | {cell(t['open_ms'])} | "
          f"{cell(r['first_ms'])} | {cell(t['first_ms'])} |")
PY
