#!/usr/bin/env python3
"""Prints what differs between two extracted specs: `python drift.py OLD.json NEW.json`.

Run by spec/drift.sh. Lists, each as `+` (only in NEW) or `-` (only in OLD): operations (and
their betas, query and path parameters), schemas, fields of a schema, values of an enum, event
kinds, webhook kinds, error codes, and the `anthropic-version` header. Exits 0 either way.
"""
from __future__ import annotations

import json
import sys


def load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def operations(doc: dict) -> dict[str, dict]:
    out = {}
    for path, verbs in doc["paths"].items():
        for verb, op in verbs.items():
            out[op["operationId"]] = {
                "route": f"{verb.upper()} {path}",
                "beta": op.get("x-anthropic-beta"),
                "accept": op.get("x-accept"),
                "params": sorted(p.get("name") or p.get("$ref", "").rsplit("/", 1)[-1] for p in op.get("parameters", [])),
            }
    return out


def mapping_keys(doc: dict, name: str) -> set[str]:
    s = doc["components"]["schemas"].get(name, {})
    return set(s.get("discriminator", {}).get("mapping", {}))


def side(title: str, old: set, new: set) -> list[str]:
    lines = [f"+ {title} {x}" for x in sorted(new - old)]
    lines += [f"- {title} {x}" for x in sorted(old - new)]
    return lines


def main() -> None:
    old, new = load(sys.argv[1]), load(sys.argv[2])
    out: list[str] = []
    ov, nv = old["info"].get("x-anthropic-version"), new["info"].get("x-anthropic-version")
    if ov != nv:
        out.append(f"~ anthropic-version {ov} -> {nv}")
    oo, no = operations(old), operations(new)
    out += side("operation", set(oo), set(no))
    for op in sorted(set(oo) & set(no)):
        for key in ("route", "beta", "accept", "params"):
            if oo[op][key] != no[op][key]:
                out.append(f"~ operation {op} {key}: {oo[op][key]} -> {no[op][key]}")
    os_, ns = old["components"]["schemas"], new["components"]["schemas"]
    out += side("schema", set(os_), set(ns))
    for name in sorted(set(os_) & set(ns)):
        a, b = os_[name], ns[name]
        out += side(f"field {name}.", set(a.get("properties", {})), set(b.get("properties", {})))
        if "enum" in a or "enum" in b:
            out += side(f"value {name}:", set(a.get("enum", [])), set(b.get("enum", [])))
        if a.get("description") != b.get("description"):
            out.append(f"~ description {name}")
    out += side("event kind", mapping_keys(old, "SessionEvent"), mapping_keys(new, "SessionEvent"))
    out += side("stream event kind", mapping_keys(old, "StreamSessionEvents"), mapping_keys(new, "StreamSessionEvents"))
    out += side("webhook kind", mapping_keys(old, "WebhookEventData"), mapping_keys(new, "WebhookEventData"))
    codes = lambda d: set(d["components"]["schemas"].get("ErrorCode", {}).get("enum", []))  # noqa: E731
    out += side("error code", codes(old), codes(new))
    print(f"spec drift: {old['info'].get('x-sdk-version')} (checked in) -> {new['info'].get('x-sdk-version')}")
    print("\n".join(out) if out else "no changes")


if __name__ == "__main__":
    main()
