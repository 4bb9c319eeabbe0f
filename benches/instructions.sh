#!/usr/bin/env bash
# Instructions executed per byte of the same event log, Rust against the official Python SDK
# (anthropic==2.12.0, in a throwaway virtual environment), counted by callgrind: a measure that
# does not depend on the machine's clock, load or memory bandwidth. Each side's count is one
# pass minus a pass that only reads the log.
# Usage: bash benches/instructions.sh [MB]    (default 20 MB of log; about 5 minutes)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mb=${1:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
command -v valgrind >/dev/null || { echo "valgrind is needed"; exit 1; }

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "anthropic==2.12.0"

# cargo puts its output in CARGO_TARGET_DIR when set (relative to the package root)
build_dir=${CARGO_TARGET_DIR:-target}
case $build_dir in /*) ;; *) build_dir="$root/$build_dir" ;; esac
cargo bench --quiet --bench events --no-run
bench=$(ls -t "$build_dir"/release/deps/events-* | grep -v '\.d$' | head -n 1)
"$bench" --write-log "$work/full.sse" > /dev/null
# the first MB megabytes, cut at an event boundary
python3 - "$work/full.sse" "$work/log.sse" "$mb" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
cut = data.index(b"\n\n", int(sys.argv[3]) * 1_000_000) + 2
open(sys.argv[2], "wb").write(data[:cut])
PY
bytes=$(stat -c %s "$work/log.sse")

count() { # count OUT_NAME COMMAND...: total instructions (Ir) of the command
  local name=$1; shift
  valgrind --tool=callgrind --callgrind-out-file="$work/$name.out" "$@" > /dev/null 2> "$work/$name.err"
  grep -m1 '^summary:' "$work/$name.out" | awk '{ print $2 }'
}

for what in none sse typed; do
  eval "rust_$what=\$(count rust-$what \"$bench\" --pass $what \"$work/log.sse\")"
  eval "py_$what=\$(count py-$what \"$work/venv/bin/python\" benches/python/passes.py $what \"$work/log.sse\")"
done
rust_skip=$(count rust-skip "$bench" --pass skip "$work/log.sse")

python3 - "$bytes" "$rust_none" "$rust_sse" "$rust_typed" "$py_none" "$py_sse" "$py_typed" "$rust_skip" <<'PY'
import sys
b, rn, rs, rt, pn, ps, pt, rk = map(int, sys.argv[1:])
print(f"log: {b / 1e6:.1f} MB; instructions per byte (callgrind, minus a pass that only reads the log)")
print("| what | Rust | Python SDK | ratio |\n| --- | --- | --- | --- |")
for name, r, p in [("SSE decoding", rs - rn, ps - pn), ("SSE + JSON into typed events", rt - rn, pt - pn)]:
    print(f"| {name} | {r / b:.2f} | {p / b:.1f} | {p / r:,.0f}x |")
print(f"| floor: SSE + serde_json skipping each event (IgnoredAny) | {(rk - rn) / b:.2f} | | {(pt - pn) / (rk - rn):,.0f}x the Python typed path |")
PY
