#!/usr/bin/env python3
"""Remake spec/openapi.json from the official Python SDK.

The SDK ships no OpenAPI document, but everything one needs is in it: every resource
method names its verb, path, query and body in the call it makes, and the pydantic models
and TypedDicts it imports describe every schema. This tool reads both and writes one
OpenAPI 3.0.3 document. It is deterministic: the same SDK gives the same bytes.

Usage: spec/regenerate.sh (which installs the pinned SDK into a throwaway virtual
environment and runs this file), or `python spec/extract.py OUT.json` where the pinned
`anthropic` is importable.
"""
from __future__ import annotations

import ast
import datetime
import functools
import importlib
import inspect
import json
import os
import pkgutil
import re
import sys
import textwrap
import types as pytypes
import typing
from collections.abc import Iterable as AbcIterable, Mapping as AbcMapping, Sequence as AbcSequence

import anthropic
import pydantic
import typing_extensions
from anthropic._constants import ANTHROPIC_API_VERSION
from anthropic._models import UnionDiscriminator
from anthropic._types import FileTypes, Omit
from pydantic._internal._docs_extraction import extract_docstrings_from_cls

PIN = "2.17.0"

# The resource groups of the managed-agents surface, as the Python SDK nests them.
GROUPS = [
    "agents",
    "agents.versions",
    "environments",
    "environments.work",
    "sessions",
    "sessions.events",
    "sessions.resources",
    "sessions.threads",
    "sessions.threads.events",
    "deployments",
    "deployment_runs",
    "vaults",
    "vaults.credentials",
    "memory_stores",
    "memory_stores.memories",
    "memory_stores.memory_versions",
    "files",
    "skills",
    "skills.versions",
]

# Operations for which the SDK adds no beta header of its own (the user passes `betas`):
# the value the published API documentation asks for. Files also carry the managed-agents
# beta, which listing a session's outputs (`scope_id`) needs.
DEFAULT_BETAS = {
    "files": "files-api-2025-04-14,managed-agents-2026-04-01",
    "skills": "skills-2025-10-02",
    "skills.versions": "skills-2025-10-02",
}

# Types the API sends rather than answers with: the webhook payload, which
# `client.beta.webhooks.unwrap` verifies and parses. No operation returns it, so it is a root
# of its own; its schema is marked `x-webhook`.
WEBHOOK_PAYLOADS = ["anthropic.types.beta.beta_webhook_event.BetaWebhookEvent"]

# Operations the API answers with `204 No Content` although the Python SDK casts the answer
# to a model (with an empty body it then hands back the empty text). The Go SDK documents
# these as returning nothing.
NO_CONTENT = {"environments.work.stop"}

class PropertyInfo:  # the SDK of this pin names JSON keys as they are; kept for newer pins
    alias = format = discriminator = None


HEADER_PARAMS = {"betas", "workspace_id"}
PREFIXES = ("BetaManagedAgents", "Beta")


def camel(snake: str) -> str:
    out = "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\-.\[\] ]+", snake) if p)
    return out


def strip_prefix(name: str) -> str:
    for p in PREFIXES:
        if name.startswith(p) and len(name) > len(p) and name[len(p)].isupper():
            return name[len(p):]
    return name


def module_stem(module_name: str) -> str:
    """`anthropic.types.beta.session_create_params` -> `SessionCreateParams`."""
    return strip_prefix(camel(module_name.rsplit(".", 1)[-1]))


def clean_doc(doc: str | None) -> str | None:
    """A docstring as `inspect.cleandoc` leaves it: the first line as is, the rest dedented."""
    if not doc:
        return None
    doc = inspect.cleandoc(doc).strip()
    return doc or None


@functools.lru_cache(maxsize=None)
def alias_docstrings(module_name: str) -> dict[str, str]:
    """The docstrings of a module's type aliases: the string that follows `X: TypeAlias = ...`."""
    mod = importlib.import_module(module_name)
    try:
        tree = ast.parse(inspect.getsource(mod))
    except (OSError, TypeError):
        return {}
    out: dict[str, str] = {}
    body = tree.body
    for node, after in zip(body, body[1:]):
        target = None
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target = node.target.id
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
        if target and isinstance(after, ast.Expr) and const_str(after.value):
            out[target] = const_str(after.value)
    return out


class Extractor:
    def __init__(self) -> None:
        self.components: dict[str, dict] = {}
        self.owner: dict[str, object] = {}  # component name -> the python object it came from
        self.alias_names: dict[int, str] = {}
        self.class_names: dict[type, str] = {}
        self._index_aliases()

    # ---- naming -------------------------------------------------------------------------

    def _index_aliases(self) -> None:
        """Find every module-level type alias (a union or literal with a name) in the SDK's beta types."""
        import anthropic.types.beta as beta

        mods = [importlib.import_module("anthropic.types.anthropic_beta_param")]
        for info in pkgutil.walk_packages(beta.__path__, beta.__name__ + "."):
            mods.append(importlib.import_module(info.name))
        found: list[tuple[str, str, object]] = []
        self.alias_docs: dict[int, str] = {}
        # names that official (Beta-prefixed) classes and aliases take: a module-local alias gives way
        self.reserved = {strip_prefix(a) for mod in mods for a in vars(mod) if a.startswith("Beta")}
        for mod in mods:
            for attr, value in vars(mod).items():
                if attr.startswith("_"):
                    continue
                origin = typing.get_origin(value)
                if origin in (typing.Union, typing.Literal, typing_extensions.Literal, typing.Annotated) or isinstance(
                    value, pytypes.UnionType
                ):
                    # an alias is named where it is defined: its module's name matches it, or it is a
                    # module-local alias (`session_create_params.Resource`)
                    found.append((mod.__name__, attr, value))
        # Prefer the defining module: one whose stem is the alias name itself.
        found.sort(key=lambda t: (0 if camel(t[0].rsplit(".", 1)[-1]) == t[1] else 1, t[0], t[1]))
        for mod_name, attr, value in found:
            if id(value) in self.alias_names:
                continue
            if camel(mod_name.rsplit(".", 1)[-1]) == attr:
                name = strip_prefix(attr)
            elif attr.startswith("Beta"):
                continue  # re-exported elsewhere; named by its own module
            else:
                name = module_stem(mod_name) + attr
                if name in self.reserved:
                    name += "Union" if typing.get_origin(value) is not typing.Literal else "Kind"
            self.alias_names[id(value)] = name
            doc = alias_docstrings(mod_name).get(attr)
            if doc:
                self.alias_docs[id(value)] = doc
            self._keep = getattr(self, "_keep", [])
            self._keep.append(value)

    def class_name(self, cls: type) -> str:
        if cls in self.class_names:
            return self.class_names[cls]
        if cls.__name__.startswith("Beta"):
            name = strip_prefix(cls.__name__)
        else:
            stem = module_stem(cls.__module__)
            name = cls.__name__ if stem == cls.__name__ else stem + cls.__name__
        self.class_names[cls] = name
        return name

    def claim(self, name: str, obj: object) -> bool:
        """True when `name` is new (the caller must fill it); raises on a clash of two objects."""
        if name in self.owner:
            if self.owner[name] is not obj and self.owner[name] != obj:
                raise SystemExit(f"name clash: {name} for {self.owner[name]!r} and {obj!r}")
            return False
        self.owner[name] = obj
        return True

    # ---- schemas ------------------------------------------------------------------------

    def ref(self, name: str) -> dict:
        return {"$ref": f"#/components/schemas/{name}"}

    def schema(self, tp, hint: str) -> dict:
        """The schema of a python type; `hint` names inline unions and enums found inside it."""
        alias = self.alias_names.get(id(tp))
        if alias is not None:
            if self.claim(alias, tp):
                self.components[alias] = {}
                s = self.unaliased(tp, alias, named=True)
                doc = clean_doc(self.alias_docs.get(id(tp)))
                if doc and "$ref" not in s and "description" not in s:
                    s = {**s, "description": doc}
                self.components[alias] = s
            return self.ref(alias)
        return self.unaliased(tp, hint, named=False)

    def unaliased(self, tp, hint: str, named: bool) -> dict:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Annotated:
            base, *meta = args
            disc = next((m.field_name for m in meta if isinstance(m, UnionDiscriminator)), None)
            disc = disc or next((m.discriminator for m in meta if isinstance(m, PropertyInfo) and m.discriminator), None)
            s = self.schema_union(base, hint, named, discriminator=disc) if self.is_union(base) else self.schema(base, hint)
            for m in meta:
                if isinstance(m, PropertyInfo) and m.format == "iso8601" and s.get("type") == "string":
                    s = {**s, "format": "date-time"}
            return s
        if tp is typing.Any or tp is object:
            return {}
        if tp is str:
            return {"type": "string"}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer", "format": "int64"}
        if tp is float:
            return {"type": "number", "format": "double"}
        if tp is datetime.datetime:
            return {"type": "string", "format": "date-time"}
        if tp is datetime.date:
            return {"type": "string", "format": "date"}
        if tp is type(None):
            return {"nullable": True}
        if tp is FileTypes or (origin is typing.Union and bytes in args):
            return {"type": "string", "format": "binary"}
        if origin in (typing.Literal, typing_extensions.Literal):
            values = list(args)
            if len(values) == 1:
                return {"type": "string", "enum": values}
            s = {"type": "string", "enum": values, "x-open-enum": True}
            return self.named_inline(s, hint, tp) if not named else s
        if self.is_union(tp):
            return self.schema_union(tp, hint, named, discriminator=None)
        if origin in (list, AbcIterable, AbcSequence, typing.List) or getattr(origin, "__name__", "") == "SequenceNotStr":
            return {"type": "array", "items": self.schema(args[0], hint + "Item")}
        if origin in (dict, AbcMapping, typing.Dict):
            return {"type": "object", "additionalProperties": self.schema(args[1], hint + "Value")}
        if isinstance(tp, type) and issubclass(tp, pydantic.BaseModel):
            return self.model(tp)
        if typing_extensions.is_typeddict(tp):
            return self.typed_dict(tp)
        raise SystemExit(f"unhandled type {tp!r} at {hint}")

    def named_inline(self, s: dict, hint: str, obj: object) -> dict:
        if self.claim(hint, obj):
            self.components[hint] = s
        return self.ref(hint)

    @staticmethod
    def is_union(tp) -> bool:
        return typing.get_origin(tp) is typing.Union or isinstance(tp, pytypes.UnionType)

    def schema_union(self, tp, hint: str, named: bool, discriminator: str | None) -> dict:
        members = [a for a in typing.get_args(tp) if a is not Omit]
        nullable = type(None) in members
        members = [a for a in members if a is not type(None)]
        if len(members) == 1:
            s = self.schema(members[0], hint)
            return self.nullable(s) if nullable else s
        lits = [m for m in members if typing.get_origin(m) in (typing.Literal, typing_extensions.Literal)]
        if str in members and lits:
            # known names or any string: one open enum
            values = [v for m in lits for v in typing.get_args(m)]
            rest = [m for m in members if m is not str and m not in lits]
            if not rest:
                s = {"type": "string", "enum": values, "x-open-enum": True}
                s = s if named else self.named_inline(s, hint, tp)
                return self.nullable(s) if nullable else s
            members = [typing.Literal[tuple(values)], *rest]
        if set(members) == {str, datetime.datetime}:
            s = {"type": "string", "format": "date-time"}
            return self.nullable(s) if nullable else s
        subs = [self.schema(m, f"{hint}{i}") for i, m in enumerate(members)]
        u = {"anyOf": subs}
        for prop in ("type", "name"):
            tags = {}
            for m, sub in zip(members, subs):
                tag = self.tag_of(m, prop)
                if tag is not None and "$ref" in sub:
                    tags[tag] = sub["$ref"]
            if len(tags) == len(members):
                u = {"oneOf": subs, "discriminator": {"propertyName": prop, "mapping": dict(sorted(tags.items()))}}
                break
        if not named:
            # give every union of objects a name of its own: it becomes one Rust enum
            obj = tp
            if self.claim(hint, obj):
                self.components[hint] = u
            u = self.ref(hint)
        return self.nullable(u) if nullable else u

    def tag_of(self, m, prop: str = "type") -> str | None:
        if typing.get_origin(m) is typing.Annotated:
            m = typing.get_args(m)[0]
        if isinstance(m, type) and (issubclass(m, pydantic.BaseModel) or typing_extensions.is_typeddict(m)):
            hints = model_hints(m) if issubclass(m, pydantic.BaseModel) else typing.get_type_hints(m, include_extras=True)
            t = hints.get(prop)
            if t is None:
                return None
            while typing.get_origin(t) in (typing.Annotated, typing_extensions.Required, typing_extensions.NotRequired):
                t = typing.get_args(t)[0]
            if typing.get_origin(t) in (typing.Literal, typing_extensions.Literal) and len(typing.get_args(t)) == 1:
                if typing_extensions.is_typeddict(m) and prop not in td_required(m):
                    return None
                if issubclass(m, pydantic.BaseModel) and not m.model_fields[prop].is_required():
                    return None
                return typing.get_args(t)[0]
        return None

    @staticmethod
    def nullable(s: dict) -> dict:
        if "$ref" in s:
            return {"allOf": [s], "nullable": True}
        return {**s, "nullable": True}

    def field_docs(self, cls) -> dict[str, str]:
        try:
            return extract_docstrings_from_cls(cls, use_inspect=True)
        except Exception:
            return {}

    def model(self, cls) -> dict:
        name = self.class_name(cls)
        if self.claim(name, cls):
            self.components[name] = {}
            hints = model_hints(cls)
            docs = self.field_docs(cls)
            props, required = {}, []
            for fname, field in cls.model_fields.items():
                wire = field.alias or fname
                s = self.schema(hints[fname], name + camel(fname))
                if docs.get(fname):
                    s = self.describe(s, docs[fname])
                props[wire] = s
                if field.is_required():
                    required.append(wire)
            out = {"type": "object"}
            if clean_doc(cls.__doc__) and cls.__doc__ != pydantic.BaseModel.__doc__:
                out["description"] = clean_doc(cls.__doc__)
            out["properties"] = props
            if required:
                out["required"] = required
            self.components[name] = out
        return self.ref(name)

    def typed_dict_fields(self, cls, skip=HEADER_PARAMS):
        hints = typing.get_type_hints(cls, include_extras=True)
        docs = self.field_docs(cls)
        for fname, tp in hints.items():
            if fname in skip:
                continue
            wire, fmt = fname, None
            while True:
                o = typing.get_origin(tp)
                if o is typing.Annotated:
                    base, *meta = typing.get_args(tp)
                    for m in meta:
                        if isinstance(m, PropertyInfo):
                            wire = m.alias or wire
                            fmt = m.format or fmt
                    if any(isinstance(m, (UnionDiscriminator,)) or (isinstance(m, PropertyInfo) and m.discriminator) for m in meta):
                        break
                    tp = base
                elif o in (typing_extensions.Required, typing_extensions.NotRequired):
                    tp = typing.get_args(tp)[0]
                else:
                    break
            yield fname, wire, tp, fname in td_required(cls), docs.get(fname), fmt

    def typed_dict(self, cls, skip: frozenset = frozenset()) -> dict:
        name = self.class_name(cls)
        if self.claim(name, cls):
            self.components[name] = {}
            props, required = {}, []
            for fname, wire, tp, req, doc, fmt in self.typed_dict_fields(cls, HEADER_PARAMS | skip):
                s = self.schema(tp, name + camel(fname))
                if fmt == "iso8601" and s.get("type") == "string":
                    s = {**s, "format": "date-time"}
                if doc:
                    s = self.describe(s, doc)
                props[wire] = s
                if req:
                    required.append(wire)
            out = {"type": "object"}
            if clean_doc(cls.__doc__):
                out["description"] = clean_doc(cls.__doc__)
            out["properties"] = props
            if required:
                out["required"] = required
            # a request-side shape: a `null` there is something the caller says ("clear this")
            out["x-request"] = True
            self.components[name] = out
        return self.ref(name)

    @staticmethod
    def describe(s: dict, doc: str) -> dict:
        doc = clean_doc(doc)
        if "$ref" in s:
            return {"allOf": [s], "description": doc}
        return {**s, "description": doc}


def td_required(cls) -> set[str]:
    """The required keys of a TypedDict, read off `Required[...]` and `total` (with postponed
    annotations, `__required_keys__` does not see `Required`)."""
    out = set()
    for klass in reversed(cls.__mro__):
        ann = klass.__dict__.get("__annotations__", {})
        total = klass.__dict__.get("__total__", True)
        for k, v in ann.items():
            text = v if isinstance(v, str) else getattr(v, "__forward_arg__", None) or repr(v)
            if text.startswith(("Required[", "typing.Required[", "typing_extensions.Required[")):
                out.add(k)
            elif text.startswith(("NotRequired[", "typing.NotRequired[", "typing_extensions.NotRequired[")):
                out.discard(k)
            elif total:
                out.add(k)
    return out


def model_hints(cls) -> dict:
    """The evaluated annotations of a model's own fields (pydantic's base class has some that do not evaluate)."""
    from anthropic._models import BaseModel as SdkModel

    out: dict = {}
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, SdkModel)) or klass is SdkModel:
            continue
        g = vars(sys.modules[klass.__module__])
        for k, v in klass.__dict__.get("__annotations__", {}).items():
            out[k] = eval(v, g) if isinstance(v, str) else v
    return out


# ---- operations -----------------------------------------------------------------------


def resource(client, group: str):
    obj = client.beta
    for part in group.split("."):
        obj = getattr(obj, part)
    return obj


def const_str(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def dict_pairs(node) -> list[tuple[str, str]]:
    """`{"created_at[gt]": created_at_gt, ...}` or `maybe_transform({...}, X)` -> [(wire, python name)]."""
    if isinstance(node, ast.Call) and node.args:
        node = node.args[0]
    if isinstance(node, ast.Dict):
        return [(const_str(k), v.id) for k, v in zip(node.keys, node.values) if isinstance(v, ast.Name)]
    return []


def analyse(method) -> dict | None:
    src = textwrap.dedent(inspect.getsource(method))
    fn = ast.parse(src).body[0]
    call = None
    beta = None
    accept = None
    assigned: dict[str, ast.AST] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned[node.targets[0].id] = node.value
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if const_str(k) == "anthropic-beta" and const_str(v):
                    beta = const_str(v)
                if const_str(k) == "Accept" and const_str(v):
                    accept = const_str(v)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "self"
            and node.func.attr in ("_get", "_post", "_delete", "_put", "_patch", "_get_api_list")
        ):
            call = node
    if call is None:
        return None
    verb = {"_get_api_list": "get"}.get(call.func.attr, call.func.attr[1:])
    p = call.args[0]
    path = const_str(p) if const_str(p) else const_str(p.args[0])
    kw = {k.arg: k.value for k in call.keywords}
    body = kw.get("body")
    if isinstance(body, ast.Name):
        body = assigned.get(body.id)
    body_keys = dict_pairs(body) if body is not None else []
    query_keys = []
    opts = kw.get("options")
    if isinstance(opts, ast.Call):
        for k in opts.keywords:
            if k.arg == "query":
                query_keys = dict_pairs(k.value)
    result = {"verb": verb, "path": path, "beta": beta, "accept": accept, "body": body_keys, "query": query_keys}
    result["multipart"] = "files" in kw
    result["stream"] = isinstance(kw.get("stream"), ast.Constant) and kw["stream"].value is True
    result["paged"] = "page" in kw
    return result


def params_typeddict(method, group: str, kind_keys: list[str]):
    """The SDK's `*_params.XParams` TypedDict that holds these keys, if there is one.

    `agents.versions.list` -> `anthropic.types.beta.agents.version_list_params.VersionListParams`.
    """
    parts = group.split(".")
    package = ".".join(["anthropic.types.beta", *parts[:-1]])
    last = parts[-1]
    pkg = importlib.import_module(package)
    best = None
    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.endswith(f"_{method.__name__}_params"):
            continue
        mod = importlib.import_module(f"{package}.{info.name}")
        cls = getattr(mod, camel(info.name), None)
        if not typing_extensions.is_typeddict(cls) or not set(kind_keys) <= set(typing.get_type_hints(cls)):
            continue
        stem = info.name[: -len(f"_{method.__name__}_params")]
        score = len(os.path.commonprefix([stem, last]))
        if best is None or score > best[0]:
            best = (score, cls)
    return best[1] if best and best[0] >= 3 else None


def build() -> dict:
    ex = Extractor()
    client = anthropic.Anthropic(api_key="unused", base_url="http://localhost")
    paths: dict[str, dict] = {}
    for group in GROUPS:
        res = resource(client, group)
        cls = type(res)
        for mname, method in sorted(vars(cls).items()):
            if mname.startswith("_") or not inspect.isfunction(method):
                continue
            info = analyse(method)
            if info is None:
                continue
            hints = typing.get_type_hints(method, include_extras=True)
            sig = inspect.signature(method)
            op_id = f"{group}.{mname}"
            op: dict = {"operationId": op_id, "x-group": group, "x-method": mname}
            doc = clean_doc(method.__doc__)
            if doc:
                summary = doc.split("\n", 1)[0].strip()
                op["summary"] = summary
                desc = doc.split("Args:", 1)[0].strip()
                if desc != summary:
                    op["description"] = desc
            beta = info["beta"] or DEFAULT_BETAS.get(group)
            op["x-anthropic-beta"] = beta
            if info["accept"]:
                op["x-accept"] = info["accept"]
            params = []
            for pname in re.findall(r"\{(\w+)\}", info["path"]):
                params.append({"name": pname, "in": "path", "required": True, "schema": {"type": "string"}})
            td = params_typeddict(method, group, [k for _, k in info["query"] + info["body"]])
            td_fields = {f[0]: f for f in ex.typed_dict_fields(td)} if td else {}
            arg_docs = arg_descriptions(doc or "")
            for wire, py in info["query"]:
                tp = td_fields[py][2] if py in td_fields else hints[py]
                tp = strip_omit(tp)
                s = ex.schema(tp, camel(group.split(".")[-1]) + camel(mname) + camel(py))
                q = {"name": wire, "in": "query", "required": False, "schema": s, "x-rust-name": py}
                if s.get("type") == "array":
                    q["name"] = wire + "[]"
                    q["style"] = "form"
                    q["explode"] = True
                if py in td_fields and td_fields[py][5] == "iso8601" and s.get("type") == "string":
                    q["schema"] = {**s, "format": "date-time"}
                if arg_docs.get(py):
                    q["description"] = arg_docs[py]
                params.append(q)
            if "workspace_id" in sig.parameters:
                params.append({"$ref": "#/components/parameters/WorkspaceId"})
            if info["query"]:
                qname = ex.class_name(td) if td else strip_prefix(camel(group.split(".")[-1])) + camel(mname) + "Params"
                if info["body"]:
                    # one TypedDict holds both: the body keeps the name, the query is `...Query`
                    qname = qname.removesuffix("Params") + "Query"
                op["x-query-name"] = qname
            op["parameters"] = params
            path_names = set(re.findall(r"\{(\w+)\}", info["path"]))
            if info["body"]:
                if info["multipart"]:
                    props, required = {}, []
                    for wire, py in info["body"]:
                        tp = strip_omit(hints[py])
                        s = ex.schema(tp, "FileUpload" + camel(py))
                        if arg_docs.get(py):
                            s = ex.describe(s, arg_docs[py])
                        props[wire] = s
                        if sig.parameters[py].default is inspect.Parameter.empty:
                            required.append(wire)
                    op["requestBody"] = {
                        "required": True,
                        "content": {"multipart/form-data": {"schema": {"type": "object", "properties": props, "required": required}}},
                    }
                else:
                    if td is None:
                        raise SystemExit(f"no params TypedDict for {op_id}")
                    # the SDK's TypedDict also holds the path parameters (keyword arguments of
                    # the method), but they go into the path, never into the body
                    ref = ex.typed_dict(td, frozenset(py for _, py in info["query"]) | path_names)
                    op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref}}}
            ret = hints["return"]
            if op_id in NO_CONTENT:
                op["responses"] = {"204": {"description": "No content."}}
            else:
                op["responses"] = {"200": response_for(ex, ret, info, op_id)}
            paths.setdefault(info["path"], {})[info["verb"]] = op
    # Query structs of the same name in two sub-packages (`sessions.events.list` and
    # `sessions.threads.events.list`) take their parent resource as a prefix.
    by_name: dict[str, list[dict]] = {}
    for verbs in paths.values():
        for op in verbs.values():
            if "x-query-name" in op:
                by_name.setdefault(op["x-query-name"], []).append(op)
    for name, ops in by_name.items():
        if len(ops) > 1:
            for op in ops:
                op["x-query-name"] = camel(op["x-group"].split(".")[-2]) + name
    for path in WEBHOOK_PAYLOADS:
        mod, cls = path.rsplit(".", 1)
        ref = ex.schema(getattr(importlib.import_module(mod), cls), "WebhookPayload")
        ex.components[ref["$ref"].rsplit("/", 1)[1]]["x-webhook"] = True
    ex.components["ErrorResponse"] = error_schema()
    ex.components["ErrorType"] = error_types()
    ex.components["ErrorCode"], error_table = error_classes()
    doc = {
        "openapi": "3.0.3",
        "info": {
            "title": "Claude Managed Agents API",
            "version": "managed-agents-2026-04-01",
            "description": f"Extracted by spec/extract.py from the official Python SDK, anthropic=={anthropic.__version__}.",
            "x-sdk-version": anthropic.__version__,
            "x-anthropic-version": ANTHROPIC_API_VERSION,
        },
        "servers": [{"url": "https://api.anthropic.com"}],
        "paths": {p: dict(sorted(v.items())) for p, v in sorted(paths.items())},
        "components": {
            "parameters": {
                "WorkspaceId": {
                    "name": "anthropic-workspace-id",
                    "in": "header",
                    "required": False,
                    "description": "Selects the Workspace for this request; only needed for credentials that can act on more than one Workspace.",
                    "schema": {"type": "string"},
                }
            },
            "schemas": dict(sorted(ex.components.items())),
        },
        "x-error-classes": error_table,
    }
    return doc


def strip_omit(tp):
    if Extractor.is_union(tp):
        args = [a for a in typing.get_args(tp) if a is not Omit]
        return args[0] if len(args) == 1 else typing.Union[tuple(args)]
    return tp


def arg_descriptions(doc: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if "Args:" not in doc:
        return out
    body = doc.split("Args:", 1)[1].split("Raises:", 1)[0]
    current = None
    for line in body.split("\n"):
        m = re.match(r"^  (\w+): (.*)$", line)
        if m:
            current = m.group(1)
            out[current] = m.group(2).strip()
        elif current and line.strip():
            out[current] += "\n" + line.strip()
        elif current:
            out[current] += "\n"
    return {k: re.sub(r"\n{2,}", "\n\n", v).strip() for k, v in out.items()}


def response_for(ex: Extractor, ret, info: dict, op_id: str) -> dict:
    name = getattr(ret, "__name__", "") or ""
    if info["stream"]:
        item = typing.get_args(ret)[0]
        return {
            "description": "A stream of Server-Sent Events; each `data` is one JSON event.",
            "x-stream": "sse",
            "content": {"text/event-stream": {"schema": ex.schema(item, "StreamEvent")}},
        }
    if info["paged"]:
        item = ret.__pydantic_generic_metadata__["args"][0]
        s = ex.schema(item, "PageItem")
        return {
            "description": "One page of a cursor-paginated list.",
            "x-pagination": "cursor",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["data"],
                        "properties": {
                            "data": {"type": "array", "items": s},
                            "next_page": {"type": "string", "nullable": True, "description": "Cursor of the next page; absent or null on the last page."},
                        },
                    }
                }
            },
        }
    if "BinaryAPIResponse" in name or "BinaryAPIResponse" in repr(ret):
        return {"description": "The raw bytes.", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    if ret is type(None) or ret is None:
        return {"description": "No content."}
    return {"description": "Success.", "content": {"application/json": {"schema": ex.schema(ret, "Response")}}}


def error_schema() -> dict:
    return {
        "type": "object",
        "description": "The body of every non-2xx answer.",
        "required": ["type", "error"],
        "properties": {
            "type": {"type": "string", "enum": ["error"]},
            "error": {
                "type": "object",
                "required": ["type", "message"],
                "properties": {
                    "type": {"$ref": "#/components/schemas/ErrorType"},
                    "message": {"type": "string"},
                    "details": {
                        "type": "object",
                        "nullable": True,
                        "description": "Machine-readable detail about the cause; `error_code` names it.",
                        "properties": {"error_code": {"$ref": "#/components/schemas/ErrorCode"}},
                    },
                },
            },
            "request_id": {"type": "string", "nullable": True},
        },
    }


def error_types() -> dict:
    """`ErrorType`: the broad category of an error, `error.type` (the SDK's `ErrorType` literal)."""
    from anthropic.types.shared.error_type import ErrorType

    return {
        "type": "string",
        "enum": list(typing.get_args(ErrorType)),
        "x-open-enum": True,
        "description": "The broad category of an error: `error.type` of an error answer.",
    }


def error_classes() -> tuple[dict, list[dict]]:
    """`ErrorCode` and the SDK's error table: which class (status, `error.details.error_code`) raises.

    The table (`x-error-classes` at the top of the document) lists every entry of the SDK's
    `ERROR_CLASSES`: a status alone names the class for any code it does not list.
    """
    from anthropic._error_classes import ERROR_CLASSES

    table = []
    for (status, code), cls in sorted(ERROR_CLASSES.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        entry = {"status": status, "code": code, "class": cls.__name__, "base": cls.__mro__[1].__name__}
        doc = clean_doc(cls.__doc__)
        if doc:
            entry["description"] = doc
        table.append(entry)
    codes = sorted({e["code"] for e in table if e["code"]})
    docs = {e["code"]: e["description"] for e in table if e["code"] and e.get("description")}
    schema = {
        "type": "string",
        "enum": codes,
        "x-open-enum": True,
        "description": "A stable code that names the cause of an error: `error.details.error_code` of an error answer. Branch on it rather than on the message; treat a code this version does not know as its bare `ErrorType`.",
        "x-enum-descriptions": dict(sorted(docs.items())),
    }
    return schema, table


def main() -> None:
    args = sys.argv[1:]
    # spec/drift.sh extracts from another SDK version to compare it with the checked-in spec
    unpinned = "--unpinned" in args
    args = [a for a in args if a != "--unpinned"]
    if anthropic.__version__ != PIN and not unpinned:
        raise SystemExit(f"spec/extract.py is pinned to anthropic=={PIN}, found {anthropic.__version__}")
    out = args[0] if args else "spec/openapi.json"
    doc = build()
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    n = sum(len(v) for v in doc["paths"].values())
    print(f"wrote {out}: {n} operations, {len(doc['components']['schemas'])} schemas", file=sys.stderr)


if __name__ == "__main__":
    main()
