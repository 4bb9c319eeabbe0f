#!/usr/bin/env bash
# A batch against a rate limit: N tasks (default 256) at --parallel P (default 256) against an
# emulator that lets L requests through a window W (default 60 a second: the API's 60 a
# minute with the minute scaled down 60 times, so a run takes about half a minute, not half an
# hour), the batch's adaptive controller beside a fixed pool (--fixed-parallel), R runs each
# (default 3), in turn. Prints each run's wall time, tasks failed and 429s (the batch's own
# count, which the CLI tests check against the emulator's), then the medians.
# Usage: bash benches/ratelimit.sh [N] [P] [L] [W] [R]   (W in whole seconds: 1s, 6s, 60s;
# from anywhere; needs cargo and python3)
set -euo pipefail
n=${1:-256}
p=${2:-256}
limit=${3:-60}
window=${4:-1s}
runs=${5:-3}
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
cargo build --quiet --release -p managed-agents-cli
bin="$build_dir/release/managed-agents"

"$bin" emulator --say "Done." --rate-limit "$limit" --rate-limit-window "$window" \
  > "$work/emulator.log" 2>&1 &
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

# one run: wall seconds, tasks failed, 429s
one() {
  local mode=$1 out="$work/out-$1-$2.jsonl" extra=()
  [ "$mode" = fixed ] && extra=(--fixed-parallel)
  sleep "${window%s}" # the bucket full again: each run starts as the first did
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" batch "$work/tasks.jsonl" --agent "$agent_id" --environment "$env_id" \
    --parallel "$p" --out "$out" "${extra[@]}" 2> "$work/err" || true
  t1=$(date +%s.%N)
  local failed limited
  failed=$(grep -vc '"stop_reason": *"end_turn"' "$out" || true)
  limited=$(sed -n 's/^rate limited: \([0-9]*\) requests.*/\1/p' "$work/err")
  echo "$mode $(awk "BEGIN { print $t1 - $t0 }") ${failed:-0} ${limited:-0}"
}

echo "== $n tasks, --parallel $p, $limit requests per $window, $runs runs each"
for r in $(seq 1 "$runs"); do
  one adaptive "$r"
  one fixed "$r"
done | tee "$work/runs"
python3 - "$work/runs" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for mode in ("adaptive", "fixed"):
    got = [(float(w), int(f), int(k)) for m, w, f, k in rows if m == mode]
    for i, name in enumerate(("wall s", "tasks failed", "429s")):
        xs = [g[i] for g in got]
        print(f"{mode:9} {name:13} median {statistics.median(xs):g} (range {min(xs):g}-{max(xs):g})")
EOF
