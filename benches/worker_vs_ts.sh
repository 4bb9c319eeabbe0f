#!/usr/bin/env bash
# The self-hosted worker side by side with the official TypeScript SDK's EnvironmentWorker:
# items/s, peak RSS and threads at concurrency 1, 4 and 16, on the same emulator, queue and
# tool (`write` of a one-byte file), in one run. Installs @anthropic-ai/sdk into a throwaway
# folder (or uses SDK_DIR, a folder where it is installed). Usage: bash benches/worker_vs_ts.sh [quick]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ -z "${SDK_DIR:-}" ]; then
  SDK_DIR=$(mktemp -d)
  trap 'rm -rf "$SDK_DIR"' EXIT
  (cd "$SDK_DIR" && npm install --silent --no-audit --no-fund @anthropic-ai/sdk > /dev/null)
fi
cargo bench --quiet --bench worker -- ts "$SDK_DIR" "$@"
