#!/usr/bin/env bash
# A large batch on the emulator: N tasks (default 10,000), P at a time (default 128), run R
# times (default 3) for wall time and peak RSS (`/usr/bin/time -f "%e %M"`), then once more
# with the client's request log on (RUST_LOG=managed_agents=debug: one line per request
# attempt, "METHOD PATH (attempt K)") to count the requests per task, by kind.
# Usage: bash benches/batch_scale.sh [N] [P] [R]   (needs cargo, python3 and /usr/bin/time)
# BIN=path/to/managed-agents measures that build instead of building this tree's release CLI.
set -euo pipefail
n=${1:-10000}
p=${2:-128}
runs=${3:-3}
source "$(dirname "$0")/lib/emulator.sh"
cli

start_emulator

create_agent
write_tasks "$n" "$work/tasks.jsonl"

batch() {
  rm -f "$work/out.jsonl" "$work/out.jsonl.journal"
  "$BIN" batch "$work/tasks.jsonl" --agent "$agent_id" --environment "$env_id" \
    --parallel "$p" --out "$work/out.jsonl" --quiet "$@"
}
echo "== $n tasks, $p at a time, $runs runs; load: $(uptime | sed 's/.*load average: //')"
printf '%4s %8s %12s %10s\n' "run" "wall s" "peak RSS MiB" "end_turn"
for r in $(seq 1 "$runs"); do
  /usr/bin/time -f "%e %M" -o "$work/time" bash -c "$(declare -f batch); work=$work BIN=$BIN n=$n p=$p agent_id=$agent_id env_id=$env_id; batch" || true
  read -r s kb < "$work/time"
  printf '%4s %8s %12.1f %10s\n' "$r" "$s" "$(awk "BEGIN{print $kb/1024}")" \
    "$(grep -c '"stop_reason": *"end_turn"' "$work/out.jsonl" || true)/$n"
done
echo "load after: $(uptime | sed 's/.*load average: //')"

echo "== one more run, counting requests"
RUST_LOG=managed_agents=debug batch 2> "$work/requests.log" || true
grep -o '[A-Z]* /v1/[^ ]* (attempt [0-9]*)' "$work/requests.log" \
  | sed -E 's#/(sesn|env|agent)_[A-Za-z0-9]+#/{id}#g; s#\?[^ ]*##' \
  | awk -v n="$n" '{k=$1" "$2; c[k]++; t++; if ($4 != "1)") r++}
      END {for (k in c) printf "%8d  %5.2f a task  %s\n", c[k], c[k]/n, k
           printf "%8d  %5.2f a task  all requests (%d retries)\n", t, t/n, r}' | sort -k1,1nr
