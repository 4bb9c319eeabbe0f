# The set-up the batch benches share, sourced by them (`source "$(dirname "$0")/lib/emulator.sh"`):
# on sourcing, `root` (the repository), `work` (a temporary folder) and a trap at exit that
# stops the emulator and removes `work`, and the working directory is `root`. Then:
#   build_cli            builds this tree's release CLI; BIN is its path
#   cli                  BIN as given, else build_cli
#   start_emulator ARGS  starts "$BIN" emulator --say "Done." ARGS (its log in $work/emulator.log),
#                        waits for "listening on" and exports ANTHROPIC_API_KEY and
#                        ANTHROPIC_BASE_URL (the emulator's URL, also in `url`)
#   create_agent         creates an environment and an agent on it: env_id, agent_id
#   write_tasks N FILE   writes N task lines {"id": "tI", "message": "task I"} to FILE
#   median, range        the median and the lowest-highest of numbers on stdin, one a line
# Needs bash, cargo and python3.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
emu_pid=
cleanup() {
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$root"

build_cli() {
  # cargo puts its output in CARGO_TARGET_DIR when set (relative to the package root)
  local build_dir=${CARGO_TARGET_DIR:-target}
  case $build_dir in /*) ;; *) build_dir="$root/$build_dir" ;; esac
  cargo build --quiet --release -p managed-agents-cli
  BIN="$build_dir/release/managed-agents"
}

cli() {
  [ -n "${BIN:-}" ] || build_cli
}

start_emulator() {
  "$BIN" emulator --say "Done." "$@" > "$work/emulator.log" 2>&1 &
  emu_pid=$!
  for _ in $(seq 1 100); do
    grep -q "listening on" "$work/emulator.log" 2>/dev/null && break
    sleep 0.1
  done
  url=$(sed -n 's/^emulator listening on //p' "$work/emulator.log")
  [ -n "$url" ] || { echo "the emulator did not start"; cat "$work/emulator.log"; exit 1; }
  export ANTHROPIC_API_KEY=test ANTHROPIC_BASE_URL="$url"
}

id() { python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }

create_agent() {
  printf 'name: bench\n' > "$work/env.yaml"
  printf 'name: bench\nmodel: claude-opus-4-5\n' > "$work/agent.yaml"
  env_id=$("$BIN" environments create "$work/env.yaml" | id)
  agent_id=$("$BIN" agents create "$work/agent.yaml" | id)
}

write_tasks() {
  local i
  for i in $(seq 1 "$1"); do
    printf '{"id": "t%d", "message": "task %d"}\n' "$i" "$i"
  done > "$2"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
range() { sort -n | awk 'NR==1{lo=$1} {hi=$1} END {print lo "-" hi}'; }
