#!/usr/bin/env bash
# What an official Python SDK version would change in the spec: extracts spec/openapi.json from
# `anthropic==VERSION` in a throwaway virtual environment and prints how it differs from the
# checked-in one (operations, schemas, fields, enum values, event and webhook kinds, error
# codes, the version header). The first step of a bump; CI never runs it (it must not depend on
# the newest release). Usage: bash spec/drift.sh 2.18.0
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: bash spec/drift.sh VERSION" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "anthropic==$1"
"$venv/bin/python" "$here/extract.py" --unpinned "$venv/openapi.json"
python3 "$here/drift.py" "$here/openapi.json" "$venv/openapi.json"
