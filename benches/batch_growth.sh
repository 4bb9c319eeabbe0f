#!/usr/bin/env bash
# What a finished task costs the memory of `managed-agents batch`: one emulator (its agent saying
# one line per task), batches of each N given at one --parallel P, each run R times; prints the
# median peak RSS (`/usr/bin/time -f %M`), its range and the median wall time per N, and the slope
# of peak RSS against N (least squares over the medians): what a batch keeps per task it ran. A
# batch that keeps nothing per finished task has a slope near 0, beyond the allocator's drift
# (its waiting tasks hold 8 bytes each: `benches/batch_start.sh` measures them apart). Small N (a few hundred) measure the start-up, not the growth: compare thousands.
# Usage: bash benches/batch_growth.sh [P] [R] [N ...]   (defaults: 128 3 2000 10000)
# BIN=path/to/managed-agents measures that build instead of building this tree's release CLI;
# VS=path/to/another also measures that one, run for run in turn with BIN on the same emulator.
set -euo pipefail
p=${1:-128}
runs=${2:-3}
shift 2 2>/dev/null || shift $#
ns=("$@")
[ ${#ns[@]} -gt 0 ] || ns=(2000 10000)
source "$(dirname "$0")/lib/emulator.sh"
cli
start_emulator
create_agent
for n in "${ns[@]}"; do
  write_tasks "$n" "$work/tasks-$n.jsonl"
done
builds=("$BIN")
[ -z "${VS:-}" ] || builds+=("$VS")


echo "== --parallel $p, $runs runs per N; load: $(uptime | sed 's/.*load average: //')"
for n in "${ns[@]}"; do
  for r in $(seq 1 "$runs"); do
    for b in "${!builds[@]}"; do
      rm -f "$work/out.jsonl" "$work/out.jsonl.journal"
      /usr/bin/time -f "%e %M" -o "$work/time" \
        "${builds[$b]}" batch "$work/tasks-$n.jsonl" --agent "$agent_id" --environment "$env_id" \
        --parallel "$p" --out "$work/out.jsonl" --quiet || true
      read -r s kb < "$work/time"
      ok=$(grep -c '"stop_reason": *"end_turn"' "$work/out.jsonl" || true)
      echo "$b $n $kb $s $ok" >> "$work/runs"
    done
  done
done
for b in "${!builds[@]}"; do
  echo "== ${builds[$b]}"
  printf '%8s %14s %16s %10s %10s\n' "tasks" "peak RSS MiB" "range MiB" "wall s" "end_turn"
  : > "$work/points"
  for n in "${ns[@]}"; do
    awk -v b="$b" -v n="$n" '$1 == b && $2 == n' "$work/runs" > "$work/these"
    kb=$(awk '{print $3}' "$work/these" | median)
    echo "$n $kb" >> "$work/points"
    printf '%8s %14.1f %16s %10s %10s\n' "$n" "$(awk "BEGIN{print $kb/1024}")" \
      "$(awk '{printf "%.1f\n", $3/1024}' "$work/these" | range)" \
      "$(awk '{print $4}' "$work/these" | median)" "$(awk '{print $5}' "$work/these" | sort -n | head -1)/$n"
  done
  awk '{x+=$1; y+=$2; xx+=$1*$1; xy+=$1*$2; k++}
    END {
      if (k < 2) exit
      b = (k*xy - x*y) / (k*xx - x*x); a = (y - b*x) / k
      printf "slope: %.2f KiB per task; intercept %.1f MiB\n", b, a/1024
    }' "$work/points"
done
echo "load after: $(uptime | sed 's/.*load average: //')"
