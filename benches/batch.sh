#!/usr/bin/env bash
# A batch of N tasks (default 1000), P at a time (default 64), against one emulator: the
# `managed-agents batch` command beside the same work done with the official Python SDK's
# async client (anthropic==2.17.0, asyncio, P at a time). Prints wall time and peak RSS of each.
# Usage: bash benches/batch.sh [N] [P]   (from anywhere; needs python3, cargo and /usr/bin/time)
set -euo pipefail
n=${1:-1000}
p=${2:-64}
source "$(dirname "$0")/lib/emulator.sh"

echo "== setting up the Python side"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "anthropic==2.17.0"

build_cli
bin=$BIN

# one emulator for both sides, its agent saying one line per task
start_emulator

create_agent
write_tasks "$n" "$work/tasks.jsonl"

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
