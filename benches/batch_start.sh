#!/usr/bin/env bash
# What the tasks waiting and the tasks done before cost the memory of `managed-agents batch`,
# apart from running any: a tasks file of N tasks run with --max-cost 0 (every line read and
# checked, then no session starts: exit 6), and the same N tasks resumed against a results file
# and journal in which all N are done (every earlier result read: "0 tasks to run"). Prints the
# median peak RSS (`/usr/bin/time -f %M`) and its range per N and case, R runs each, and the
# slope per task between the smallest and the largest N.
# Usage: bash benches/batch_start.sh [R] [N ...]   (defaults: 3 10000 200000)
# BIN=path/to/managed-agents measures that build instead of building this tree's release CLI;
# VS=path/to/another also measures that one, run for run in turn with BIN.
set -euo pipefail
runs=${1:-3}
shift 1 2>/dev/null || shift $#
ns=("$@")
[ ${#ns[@]} -gt 0 ] || ns=(10000 200000)
source "$(dirname "$0")/lib/emulator.sh"
cli
start_emulator
create_agent
for n in "${ns[@]}"; do
  python3 - "$n" "$work" <<'PY'
import json, sys
n, work = int(sys.argv[1]), sys.argv[2]
usage = {"input_tokens": 10, "output_tokens": 5, "cache_creation_input_tokens": 0,
         "cache_read_input_tokens": 0,
         "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
         "list_cost": {"amount": "1", "currency": "USD"}, "active_seconds": 0.2}
with open(f"{work}/tasks-{n}.jsonl", "w") as t, open(f"{work}/done-{n}.jsonl", "w") as r, \
        open(f"{work}/done-{n}.jsonl.journal", "w") as j:
    j.write(json.dumps({"batch": "bench"}) + "\n")
    for i in range(1, n + 1):
        t.write(json.dumps({"id": f"t{i}", "message": f"task {i}"}) + "\n")
        s = f"sesn_{i:024d}"
        j.write(json.dumps({"task": f"t{i}", "session_id": s}) + "\n")
        r.write(json.dumps({"id": f"t{i}", "session_id": s, "stop_reason": "end_turn",
                            "text": "Done.", "usage": usage, "error": None}) + "\n")
PY
done
builds=("$BIN")
[ -z "${VS:-}" ] || builds+=("$VS")
echo "== $runs runs per N; load: $(uptime | sed 's/.*load average: //')"
for n in "${ns[@]}"; do
  for r in $(seq 1 "$runs"); do
    for b in "${!builds[@]}"; do
      rm -f "$work/out.jsonl" "$work/out.jsonl.journal"
      /usr/bin/time -f "%M" -o "$work/time" "${builds[$b]}" batch "$work/tasks-$n.jsonl" \
        --agent "$agent_id" --environment "$env_id" --out "$work/out.jsonl" --max-cost 0 \
        --quiet 2>/dev/null || true
      echo "$b waiting $n $(tail -1 "$work/time")" >> "$work/runs"
      cp "$work/done-$n.jsonl" "$work/resume.jsonl"
      cp "$work/done-$n.jsonl.journal" "$work/resume.jsonl.journal"
      /usr/bin/time -f "%M" -o "$work/time" "${builds[$b]}" batch "$work/tasks-$n.jsonl" \
        --agent "$agent_id" --environment "$env_id" --out "$work/resume.jsonl" --quiet \
        2>/dev/null || true
      echo "$b done $n $(tail -1 "$work/time")" >> "$work/runs"
    done
  done
done
for b in "${!builds[@]}"; do
  echo "== ${builds[$b]}"
  printf '%8s %8s %14s %16s\n' "case" "tasks" "peak RSS MiB" "range MiB"
  for c in waiting done; do
    first= last=
    for n in "${ns[@]}"; do
      awk -v b="$b" -v c="$c" -v n="$n" '$1 == b && $2 == c && $3 == n {print $4}' "$work/runs" \
        > "$work/these"
      kb=$(median < "$work/these")
      [ -n "$first" ] || first="$n $kb"
      last="$n $kb"
      printf '%8s %8s %14.1f %16s\n' "$c" "$n" "$(awk "BEGIN{print $kb/1024}")" \
        "$(awk '{printf "%.1f\n", $1/1024}' "$work/these" | range)"
    done
    echo "$first $last" | awk -v c="$c" '$1 != $3 {printf "slope (%s): %.3f KiB per task\n", c, ($4-$2)/($3-$1)}'
  done
done
echo "load after: $(uptime | sed 's/.*load average: //')"
