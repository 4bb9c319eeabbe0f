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
source "$(dirname "$0")/lib/emulator.sh"
build_cli
bin=$BIN

start_emulator --rate-limit "$limit" --rate-limit-window "$window"

create_agent
write_tasks "$n" "$work/tasks.jsonl"

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
