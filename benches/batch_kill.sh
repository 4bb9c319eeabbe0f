#!/usr/bin/env bash
# A batch killed with SIGKILL at K random moments (default 10) and resumed each time with the
# same --out, then run to its end: against one fresh emulator (its agent saying one line per
# task), N tasks (default 1,000), P at a time (default 32). Then every session on the emulator
# is read back (`sessions list`, and `sessions events` of each) and counted per task (its
# `metadata.task`): sessions that received a message per task (must be 1 for every task),
# sessions never messaged (orphans a `batch cleanup` archives), tasks without a result line
# (lost, must be 0), result lines naming another session than the task's messaged one.
# Usage: bash benches/batch_kill.sh [N] [P] [K] [SEED]   (needs cargo and python3)
# The kill moments are uniform in 0.05-1.5 s after each start, from SEED (default: random,
# printed). BIN=path/to/managed-agents uses that build instead of this tree's release CLI.
set -euo pipefail
n=${1:-1000}
p=${2:-32}
kills=${3:-10}
seed=${4:-$RANDOM}
source "$(dirname "$0")/lib/emulator.sh"
cli

start_emulator

create_agent
write_tasks "$n" "$work/tasks.jsonl"

moments=$(python3 -c "import random; r = random.Random($seed); print(' '.join('%.2f' % r.uniform(0.05, 1.5) for _ in range($kills)))")
echo "== $n tasks, $p at a time, killed $kills times (seed $seed: at $moments s)"
# the batch process itself (exec), so that the kill reaches it and not a shell around it
run() {
  exec "$BIN" batch "$work/tasks.jsonl" --agent "$agent_id" --environment "$env_id" \
    --parallel "$p" --out "$work/out.jsonl" --quiet
}
k=0
for at in $moments; do
  k=$((k + 1))
  (run > /dev/null 2>&1) &
  pid=$!
  sleep "$at"
  if kill -9 "$pid" 2>/dev/null; then how=killed; else how="had ended"; fi
  wait "$pid" 2>/dev/null || true
  lines=$( (wc -l < "$work/out.jsonl") 2>/dev/null || echo 0)
  echo "run $k: $how at $at s; results file: $lines lines"
done
(run) || echo "the last run exited $?"
echo "last run: $(wc -l < "$work/out.jsonl") lines"

"$BIN" sessions list > "$work/sessions.json"
python3 - "$work" "$BIN" "$n" <<'EOF'
import collections, json, subprocess, sys
work, bin_, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sessions = json.load(open(f"{work}/sessions.json"))
messaged = collections.defaultdict(list)
orphans = 0
for s in sessions:
    task = (s.get("metadata") or {}).get("task")
    events = subprocess.run([bin_, "sessions", "events", s["id"]], capture_output=True, text=True, check=True).stdout
    if any(json.loads(line).get("type") == "user.message" for line in events.splitlines() if line.strip()):
        messaged[task].append(s["id"])
    else:
        orphans += 1
results = [json.loads(l) for l in open(f"{work}/out.jsonl") if l.strip()]
by_task = collections.defaultdict(list)
for r in results:
    by_task[r["id"]].append(r)
tasks = [f"t{i}" for i in range(1, n + 1)]
lost = [t for t in tasks if t not in by_task]
twice = [t for t in tasks if len(by_task.get(t, [])) > 1]
per_task = collections.Counter(len(messaged.get(t, [])) for t in tasks)
mismatch = [t for t in tasks if by_task.get(t) and [by_task[t][-1].get("session_id")] != messaged.get(t)]
done = sum(1 for t in tasks if by_task.get(t) and by_task[t][-1].get("stop_reason") == "end_turn")
print(f"sessions on the emulator: {len(sessions)}; messaged: {sum(len(v) for v in messaged.values())}; never messaged: {orphans}")
print("messaged sessions per task: " + ", ".join(f"{k}: {v} tasks" for k, v in sorted(per_task.items())))
print(f"tasks ended end_turn: {done}/{n}; results lost: {len(lost)}; tasks with two result lines: {len(twice)}; result naming another session: {len(mismatch)}")
ok = per_task == collections.Counter({1: n}) and not lost and not mismatch
print("OK" if ok else "NOT OK")
sys.exit(0 if ok else 1)
EOF
