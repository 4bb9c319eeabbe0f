#!/usr/bin/env bash
# Runs the Rust benchmarks, the official Python SDK (anthropic==2.12.0, in a throwaway virtual
# environment) and the official TypeScript SDK (@anthropic-ai/sdk on Node, installed into the
# same throwaway folder) on the same inputs, in one run, and prints them side by side.
# Usage: bash benches/compare.sh          (about 5 minutes on 2 cores)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
emu_pid=
replay_pid=
cleanup() {
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null || true
  [ -n "$replay_pid" ] && kill "$replay_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$root"
# cargo puts its output in CARGO_TARGET_DIR when set (relative to the package root)
build_dir=${CARGO_TARGET_DIR:-target}
case $build_dir in /*) ;; *) build_dir="$root/$build_dir" ;; esac

echo "== setting up the Python side"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "anthropic==2.12.0"
echo "== setting up the TypeScript side"
mkdir -p "$work/ts"
(cd "$work/ts" && npm install --silent --no-audit --no-fund @anthropic-ai/sdk > /dev/null)

echo "== Rust: event decoding (writes the log)"
cargo bench --quiet --bench events -- --write-log "$work/log.sse" | tee "$work/rust-events.txt"
echo "== Rust: files and deadlines"
cargo bench --quiet --bench client | tee "$work/rust-client.txt"

cargo build --quiet --release --example emulator --example one_request
"$build_dir/release/examples/emulator" > "$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/emulator.log" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^emulator listening on //p' "$work/emulator.log")

echo "== Rust: cold start (10 runs)"
rust_total=0; rust_rss=0
for _ in $(seq 1 10); do
  start=$(date +%s%N)
  rss=$( { ANTHROPIC_API_KEY=k ANTHROPIC_BASE_URL="$url" /usr/bin/time -f "%M" "$build_dir/release/examples/one_request" > /dev/null; } 2>&1 | tail -n 1)
  end=$(date +%s%N)
  rust_total=$((rust_total + end - start))
  [ "$rss" -gt "$rust_rss" ] && rust_rss=$rss
done
rust_cold_ms=$(awk -v t="$rust_total" 'BEGIN { printf "%.1f", t / 10 / 1e6 }')
echo "cold start: mean ${rust_cold_ms} ms, peak RSS ${rust_rss} KiB"

echo "== Python: the same inputs"
"$work/venv/bin/python" "$root/benches/python/compare.py" --log "$work/log.sse" --emulator "$url" > "$work/python.json"

echo "== TypeScript: the same inputs"
# the same loopback replay server the Python side uses, serving the same log
python3 "$root/benches/python/replay.py" "$work/log.sse" > "$work/replay.url" &
replay_pid=$!
for _ in $(seq 1 100); do [ -s "$work/replay.url" ] && break; sleep 0.1; done
node "$root/benches/ts/compare.mjs" "$work/ts" "$work/log.sse" "$(cat "$work/replay.url")" > "$work/ts.json"

RUST_EVENTS="$work/rust-events.txt" RUST_CLIENT="$work/rust-client.txt" RUST_COLD_MS="$rust_cold_ms" RUST_COLD_RSS="$rust_rss" \
python3 - "$work/python.json" "$work/ts.json" <<'PY'
import json, os, re, sys
py = json.load(open(sys.argv[1]))
ts = json.load(open(sys.argv[2]))
ev = open(os.environ["RUST_EVENTS"]).read()
num = lambda pat: float(re.search(pat, ev).group(1))
rows = [
    ("SSE decoding, MB/s", num(r"sse::Decoder::decode: (\d+) MB/s"), py["sse"]["mb_s"], ts["sse"]["mb_s"]),
    ("typed events (from_json, as EventStream reads), events/s", num(r"typed decoding \(from_json\): \d+ MB/s, (\d+) k events/s") * 1000, py["typed"]["events_s"], ts["typed"]["events_s"]),
    ("typed events (serde_json::from_str), events/s", num(r"typed decoding \(serde_json::from_str\): \d+ MB/s, (\d+) k events/s") * 1000, py["typed"]["events_s"], ts["typed"]["events_s"]),
    ("stream over loopback, events/s (ours: whole events only, previews folded)", num(r"EventStream over loopback: (\d+) k events/s") * 1000, py["stream"]["events_s"], ts["stream"]["events_s"]),
    ("stream over loopback, MB/s of the same log", num(r"EventStream over loopback: \d+ k events/s, (\d+) MB/s"), py["stream"]["mb_s"], ts["stream"]["mb_s"]),
]
print(f"\n| what | Rust | Python SDK | TypeScript SDK {ts['version']} | vs Python | vs TypeScript |")
print("| --- | --- | --- | --- | --- | --- |")
for name, r, p, t in rows:
    print(f"| {name} | {r:,.0f} | {p:,.0f} | {t:,.0f} | {r / p:,.1f}x | {r / t:,.1f}x |")
cold_ms = float(os.environ["RUST_COLD_MS"]); cold_rss = int(os.environ["RUST_COLD_RSS"])
pc = py["cold"]
print(f"| cold start (start, client, one request, exit), ms | {cold_ms:.1f} | {pc['mean_s'] * 1000:.0f} | - | {pc['mean_s'] * 1000 / cold_ms:,.0f}x faster | |")
print(f"| cold start peak RSS, MiB | {cold_rss / 1024:.1f} | {pc['max_rss_kib'] / 1024:.1f} | - | {pc['max_rss_kib'] / cold_rss:.1f}x less | |")
over = py["deadline"]["overshoot_s"]
shown = ", ".join("killed at 10 s" if o is None else f"{o * 1000:.0f} ms" for o in over)
print(f"| 0.5 s timeout vs a trickled body (Python: overshoot per try) | see client bench | {shown} | - | | |")
# on the same bytes (MB/s: the stream delivers no previews, so its events/s count fewer events)
typed = num(r"typed decoding \(from_json\): (\d+) MB/s")
live = num(r"EventStream over loopback: \d+ k events/s, (\d+) MB/s")
body = num(r"part: typed decoding of the body over loopback: \d+ k events/s, (\d+) MB/s")
print(f"\nEventStream over loopback: {live / typed * 100:.0f} % of typed decoding from memory, "
      f"{live / body * 100:.0f} % of typed decoding of the same body over loopback (MB/s)")
PY
