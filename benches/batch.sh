#!/usr/bin/env bash
# A batch of N tasks (default 1000), P at a time (default 64), against one emulator: the
# `managed-agents batch` command beside the same work done with the official Python SDK's
# async client (anthropic==2.17.0, asyncio, P at a time). Prints wall time and peak RSS of each.
# Usage: bash benches/batch.sh [N] [P]   (from anywhere; needs python3, cargo and /usr/bin/time)
set -euo pipefail
n=${1:-1000}
p=${2:-64}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
emu_pid=
cleanup() {
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cd "$root"
# cargo puts its output in CARGO_TARGET_DIR when set (relative to the package root)
build_dir=${CARGO_TARGET_DIR:-target}
case $build_dir in /*) ;; *) build_dir="$root/$build_dir" ;; esac

echo "== setting up the Python side"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "anthropic==2.17.0"

cargo build --quiet --release -p managed-agents-cli
bin="$build_dir/release/managed-agents"

# one emulator for both sides, its agent saying one line per task
"$bin" emulator --say "Done." > "$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$work/emulator.log" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n 's/^emulator listening on //p' "$work/emulator.log")
[ -n "$url" ] || { echo "the emulator did not start"; cat "$work/emulator.log"; exit 1; }
export ANTHROPIC_API_KEY=test ANTHROPIC_BASE_URL="$url"

printf 'name: bench\n' > "$work/env.yaml"
printf 'name: bench\nmodel: claude-opus-4-5\n' > "$work/agent.yaml"
id() { python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
env_id=$("$bin" environments create "$work/env.yaml" | id)
agent_id=$("$bin" agents create "$work/agent.yaml" | id)
for i in $(seq 1 "$n"); do
  printf '{"id": "t%d", "message": "task %d"}\n' "$i" "$i"
done > "$work/tasks.jsonl"

echo "== $n tasks, $p at a time"
/usr/bin/time -f "%e %M" -o "$work/rust.time" \
  "$bin" batch "$work/tasks.jsonl" --agent "$agent_id" --environment "$env_id" \
  --parallel "$p" --out "$work/rust.jsonl" --quiet || true
/usr/bin/time -f "%e %M" -o "$work/python.time" \
  "$work/venv/bin/python" "$root/benches/python/batch.py" "$work/tasks.jsonl" "$work/python.jsonl" \
  "$p" "$agent_id" "$env_id"

count() { grep -c '"stop_reason": *"end_turn"' "$1" || true; }
read -r rust_s rust_kb < "$work/rust.time"
read -r py_s py_kb < "$work/python.time"
printf '%-34s %8s %12s %10s\n' "" "wall s" "peak RSS MB" "end_turn"
printf '%-34s %8s %12.1f %10s\n' "managed-agents batch (Rust)" "$rust_s" "$(awk "BEGIN{print $rust_kb/1024}")" "$(count "$work/rust.jsonl")/$n"
printf '%-34s %8s %12.1f %10s\n' "Python SDK AsyncAnthropic" "$py_s" "$(awk "BEGIN{print $py_kb/1024}")" "$(count "$work/python.jsonl")/$n"
