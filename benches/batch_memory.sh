#!/usr/bin/env bash
# Memory per running session of `managed-agents batch`: one emulator (its agent saying one line
# per task), then batches of N tasks at each --parallel P given, each run R times; prints the
# median peak RSS (`/usr/bin/time -f %M`) and wall time per P, and the slope of peak RSS against
# P (least squares over the medians): what one more running session costs, its threads included.
# Usage: bash benches/batch_memory.sh [N] [R] [P ...]   (defaults: 1000 3 1 16 64 128 256)
# BIN=path/to/managed-agents measures that build instead of building this tree's release CLI.
set -euo pipefail
n=${1:-1000}
runs=${2:-3}
shift 2 2>/dev/null || shift $#
ps=("$@")
[ ${#ps[@]} -gt 0 ] || ps=(1 16 64 128 256)
source "$(dirname "$0")/lib/emulator.sh"
cli

start_emulator

create_agent
write_tasks "$n" "$work/tasks.jsonl"


echo "== $n tasks a run, $runs runs per --parallel; load: $(uptime | sed 's/.*load average: //')"
printf '%8s %14s %16s %12s %10s\n' "parallel" "peak RSS MiB" "range MiB" "wall s" "end_turn"
: > "$work/points"
for p in "${ps[@]}"; do
  : > "$work/kb"
  : > "$work/s"
  for r in $(seq 1 "$runs"); do
    rm -f "$work/out.jsonl" "$work/out.jsonl.journal"
    /usr/bin/time -f "%e %M" -o "$work/time" \
      "$BIN" batch "$work/tasks.jsonl" --agent "$agent_id" --environment "$env_id" \
      --parallel "$p" --out "$work/out.jsonl" --quiet || true
    read -r s kb < "$work/time"
    echo "$kb" >> "$work/kb"
    echo "$s" >> "$work/s"
    ok=$(grep -c '"stop_reason": *"end_turn"' "$work/out.jsonl" || true)
  done
  kb=$(median < "$work/kb")
  echo "$p $kb" >> "$work/points"
  printf '%8s %14.1f %16s %12s %10s\n' "$p" "$(awk "BEGIN{print $kb/1024}")" \
    "$(awk '{printf "%.1f\n", $1/1024}' "$work/kb" | range)" "$(median < "$work/s")" "$ok/$n"
done
awk '{x+=$1; y+=$2; xx+=$1*$1; xy+=$1*$2; k++}
  END {
    if (k < 2) exit
    b = (k*xy - x*y) / (k*xx - x*x); a = (y - b*x) / k
    printf "slope: %.0f KiB per running session; intercept %.1f MiB\n", b, a/1024
  }' "$work/points"
echo "load after: $(uptime | sed 's/.*load average: //')"
