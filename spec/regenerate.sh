#!/usr/bin/env bash
# Remakes spec/openapi.json from the pinned official Python SDK, in a throwaway virtual
# environment. Run from anywhere: `bash spec/regenerate.sh`. The build never runs this.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pin=$(sed -n 's/^PIN = "\(.*\)"$/\1/p' "$here/extract.py")
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "anthropic==$pin"
"$venv/bin/python" "$here/extract.py" "$here/openapi.json"
