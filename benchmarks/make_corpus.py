#!/usr/bin/env python3
"""Generate the reproducible benchmark corpus for modal-gpu-lint.

Two trees are written into OUT (default: benchmarks/.corpus, git-ignored):

``modal/``
    About 182 Modal programs (about 1.4 MB, about 8 kB each), built from templates in the shapes
    real Modal code takes (see shared/modal-facts.md): ``modal.App``, images with ``pip_install``
    chains, ``@app.function(gpu=..., timeout=...)``, ``@app.cls`` classes with ``@modal.enter`` /
    ``@modal.method``, GPU constants, f-strings over constants, fallback lists, ``with_options``,
    ``Sandbox.create``, plus ordinary helper code. About 15% of them hold one real mistake
    (a GPU typo, a count over the maximum, a missing timeout, a removed keyword, ``modal.gpu.X()``,
    ...); ``manifest.json`` lists each with its file, line and kind.

``mixed/``
    About 40 MB of ordinary Python in many packages (files of 2 to 30 kB: classes, dataclasses,
    enums, async code, generators, decorators, comprehensions, ``match``, docstrings, type hints,
    pytest files), of which 5% of the files are Modal programs as above, about 1% mention ``gpu``
    or ``modal`` without being Modal code (prefilter false positives), and about 8% import torch.

Everything comes from seeded ``random.Random`` instances, so the same seed and scale give
byte-identical trees. ``--scale`` shrinks both trees (``--scale 0.05`` for a quick run).
At the end every file is checked with ``ast.parse(feature_version=(3, 10))``, and every Modal file
and one mixed file in five (all with ``--full-check``) with ``compile`` too. Bump
GENERATOR_VERSION whenever the output changes: run.py regenerates a corpus of another version.

Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import itertools
import json
import keyword
import math
import os
import random
import re
import shutil
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GENERATOR_VERSION = 2
DEFAULT_SEED = 20261128
DEFAULT_OUT = Path(__file__).resolve().parent / ".corpus"
MANIFEST = "manifest.json"

MODAL_FILES = 182  # the speed issue measured 182 real Modal example files, 1.4 MB
MIXED_BYTES = 40_000_000
MIXED_MODAL_EVERY = 20  # 1 file in 20 (5%) of the mixed tree is a Modal program
MISTAKE_SHARE = 0.15
MAX_FILE_BYTES = 30_000
NOISE_SHARE = 0.01  # mixed-tree files that say "gpu"/"modal" without being Modal code
TORCH_SHARE = 0.10  # mixed-tree files that import torch (what torchfix's prefilter looks for)

# --------------------------------------------------------------------------------------------
# Vocabulary. No word may contain "modal" or "gpu": those mark the files the linter must read.
# --------------------------------------------------------------------------------------------

NOUNS = [
    "account",
    "address",
    "agent",
    "alert",
    "archive",
    "artifact",
    "asset",
    "attempt",
    "audit",
    "backlog",
    "balance",
    "batch",
    "bucket",
    "buffer",
    "bundle",
    "cache",
    "campaign",
    "candidate",
    "catalog",
    "channel",
    "chunk",
    "claim",
    "client",
    "cluster",
    "column",
    "comment",
    "commit",
    "config",
    "contract",
    "counter",
    "coupon",
    "credential",
    "cursor",
    "customer",
    "dataset",
    "deadline",
    "delta",
    "device",
    "digest",
    "document",
    "domain",
    "draft",
    "edge",
    "entry",
    "event",
    "export",
    "factor",
    "feature",
    "feed",
    "filter",
    "fixture",
    "flag",
    "folder",
    "forecast",
    "frame",
    "gateway",
    "grant",
    "graph",
    "group",
    "handle",
    "header",
    "history",
    "host",
    "image",
    "index",
    "invoice",
    "item",
    "job",
    "journal",
    "kernel",
    "key",
    "label",
    "layer",
    "ledger",
    "lease",
    "limit",
    "line",
    "listing",
    "locale",
    "lock",
    "manifest",
    "margin",
    "marker",
    "matrix",
    "member",
    "message",
    "metric",
    "mirror",
    "node",
    "note",
    "notice",
    "offset",
    "order",
    "origin",
    "owner",
    "packet",
    "page",
    "parcel",
    "partition",
    "payload",
    "peer",
    "permission",
    "pipeline",
    "plan",
    "policy",
    "pool",
    "portfolio",
    "position",
    "prefix",
    "price",
    "profile",
    "project",
    "prompt",
    "quota",
    "rank",
    "rate",
    "reader",
    "receipt",
    "record",
    "region",
    "release",
    "replica",
    "report",
    "request",
    "resource",
    "result",
    "revision",
    "role",
    "route",
    "rule",
    "sample",
    "schedule",
    "schema",
    "scope",
    "score",
    "segment",
    "sensor",
    "session",
    "shard",
    "shipment",
    "signal",
    "slot",
    "snapshot",
    "source",
    "span",
    "spec",
    "stage",
    "state",
    "status",
    "step",
    "store",
    "stream",
    "subject",
    "summary",
    "supplier",
    "table",
    "tag",
    "target",
    "task",
    "template",
    "tenant",
    "term",
    "thread",
    "ticket",
    "token",
    "topic",
    "total",
    "trace",
    "track",
    "transfer",
    "trigger",
    "unit",
    "upload",
    "usage",
    "user",
    "value",
    "vendor",
    "version",
    "vertex",
    "view",
    "volume",
    "voucher",
    "warehouse",
    "weight",
    "window",
    "worker",
]
VERBS = [
    "aggregate",
    "align",
    "allocate",
    "apply",
    "archive",
    "assign",
    "attach",
    "build",
    "bump",
    "cache",
    "calculate",
    "cancel",
    "check",
    "clean",
    "collect",
    "combine",
    "compact",
    "compare",
    "compute",
    "convert",
    "copy",
    "count",
    "create",
    "decode",
    "dedupe",
    "defer",
    "delete",
    "derive",
    "detect",
    "diff",
    "dispatch",
    "emit",
    "encode",
    "enqueue",
    "ensure",
    "estimate",
    "evaluate",
    "expand",
    "export",
    "extract",
    "fetch",
    "filter",
    "find",
    "flatten",
    "flush",
    "format",
    "gather",
    "group",
    "hash",
    "index",
    "infer",
    "insert",
    "inspect",
    "join",
    "load",
    "lookup",
    "map",
    "mark",
    "measure",
    "merge",
    "migrate",
    "normalize",
    "notify",
    "pack",
    "paginate",
    "parse",
    "partition",
    "patch",
    "poll",
    "prepare",
    "process",
    "project",
    "prune",
    "publish",
    "push",
    "rank",
    "read",
    "rebuild",
    "reconcile",
    "record",
    "reduce",
    "refresh",
    "register",
    "release",
    "render",
    "replay",
    "report",
    "reset",
    "resolve",
    "restore",
    "retry",
    "rotate",
    "route",
    "sample",
    "save",
    "scan",
    "schedule",
    "score",
    "select",
    "serialize",
    "shard",
    "skip",
    "slice",
    "sort",
    "split",
    "stage",
    "store",
    "stream",
    "submit",
    "summarize",
    "sync",
    "tag",
    "track",
    "transform",
    "trim",
    "truncate",
    "update",
    "upload",
    "validate",
    "verify",
    "walk",
    "warm",
    "wrap",
    "write",
]
ADJECTIVES = [
    "active",
    "base",
    "cached",
    "clean",
    "closed",
    "cold",
    "current",
    "default",
    "dirty",
    "draft",
    "empty",
    "expired",
    "external",
    "fast",
    "final",
    "hidden",
    "hot",
    "idle",
    "inner",
    "internal",
    "last",
    "latest",
    "legacy",
    "live",
    "local",
    "main",
    "max",
    "min",
    "new",
    "next",
    "open",
    "outer",
    "partial",
    "pending",
    "primary",
    "private",
    "public",
    "raw",
    "ready",
    "recent",
    "remote",
    "safe",
    "shared",
    "short",
    "slow",
    "small",
    "soft",
    "stale",
    "static",
    "strict",
    "temp",
    "total",
    "valid",
    "warm",
]
PACKAGE_WORDS = [
    "core",
    "common",
    "util",
    "utils",
    "api",
    "service",
    "services",
    "models",
    "schemas",
    "handlers",
    "adapters",
    "storage",
    "io",
    "net",
    "client",
    "server",
    "jobs",
    "tasks",
    "workers",
    "pipeline",
    "pipelines",
    "ingest",
    "export",
    "reports",
    "billing",
    "accounts",
    "auth",
    "events",
    "metrics",
    "tracing",
    "search",
    "index",
    "cache",
    "config",
    "cli",
    "web",
    "admin",
    "internal",
    "domain",
    "infra",
    "db",
    "migrations",
    "plugins",
    "contrib",
    "sdk",
    "tools",
    "scripts",
    "analytics",
    "features",
    "ranking",
]
TOP_PACKAGES = [
    "atlas",
    "beacon",
    "cobalt",
    "delta",
    "ember",
    "falcon",
    "garnet",
    "harbor",
    "iris",
    "juniper",
    "kestrel",
    "lumen",
    "meridian",
    "nimbus",
    "onyx",
    "pylon",
    "quartz",
    "raven",
    "sable",
    "tundra",
    "umber",
    "vesper",
    "willow",
    "xenon",
    "yarrow",
    "zephyr",
    "aurora",
    "basalt",
    "cinder",
    "drift",
]

assert not [w for w in NOUNS + VERBS + ADJECTIVES if "modal" in w or "gpu" in w or keyword.iskeyword(w)]

THIRD_PARTY_IMPORTS = (
    "import numpy as np",
    "import requests",
    "import yaml",
    "import click",
    "import httpx",
    "from pydantic import BaseModel, Field",
    "import sqlalchemy as sa",
    "import pandas as pd",
    "from rich.console import Console",
    "import attrs",
    "import boto3",
)
EXCEPTIONS = (
    "ValueError",
    "KeyError",
    "TypeError",
    "RuntimeError",
    "OSError",
    "LookupError",
    "IndexError",
    "TimeoutError",
    "ConnectionError",
    "PermissionError",
)
TYPES = ("int", "float", "str", "bool", "ilist", "slist", "map")
ANNOTATIONS: dict[str, tuple[str, ...]] = {
    "int": ("int",),
    "float": ("float",),
    "str": ("str",),
    "bool": ("bool",),
    "ilist": ("list[int]", "Sequence[int]", "list[int]"),
    "slist": ("list[str]", "Sequence[str]", "list[str]", "Iterable[str]"),
    "map": ("dict[str, int]", "Mapping[str, int]", "dict[str, int]"),
}
RETURN_ANN = {
    "int": "int",
    "float": "float",
    "str": "str",
    "bool": "bool",
    "ilist": "list[int]",
    "slist": "list[str]",
    "map": "dict[str, int]",
}
STDLIB_MODULES = (
    "asyncio",
    "contextlib",
    "dataclasses",
    "enum",
    "functools",
    "math",
    "os",
    "statistics",
    "threading",
    "time",
)
FROM_IMPORTS = (
    ("collections", ("Counter",)),
    ("dataclasses", ("dataclass", "field")),
    (
        "typing",
        ("Any", "Callable", "Final", "Iterable", "Iterator", "Mapping", "Optional", "Protocol", "Sequence", "TypeVar"),
    ),
)
WORD_RE = re.compile(r"\w+")
USAGE_RE = re.compile(
    r"\b(?:(?:asyncio|contextlib|dataclasses|enum|functools|math|os|statistics|threading|time)\.|"
    r"logger\.|(?:Counter|dataclass|field|Any|Callable|Final|Iterable|Iterator|Mapping|Optional|"
    r"Protocol|Sequence)\b|T(?=[\]:,)]))"
)


# --------------------------------------------------------------------------------------------
# Ordinary Python
# --------------------------------------------------------------------------------------------


@dataclass
class Scope:
    """Names visible at a point of generated code, by rough type."""

    names: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in TYPES})
    is_async: bool = False
    in_loop: bool = False
    # locals assigned but not read yet, shared by the blocks of one function (a dict: ordered)
    unused: dict[str, None] = field(default_factory=dict)

    def add(self, name: str, typ: str, *, local: bool = False) -> None:
        bucket = self.names[typ]
        if name not in bucket:
            bucket.append(name)
        if local:
            self.unused[name] = None

    def child(self, *, in_loop: bool | None = None, new_frame: bool = False) -> Scope:
        return Scope(
            {t: list(v) for t, v in self.names.items()},
            self.is_async,
            self.in_loop if in_loop is None else in_loop,
            {} if new_frame else self.unused,
        )

    def all_names(self) -> set[str]:
        return {n for v in self.names.values() for n in v}


@dataclass(frozen=True)
class Helper:
    name: str
    params: tuple[str, ...]  # types of required parameters
    ret: str
    is_async: bool


class PyGen:
    """Generates plausible, always-valid Python 3.10 source, one module at a time."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        self.helpers: list[Helper] = []
        self.decorators: list[str] = []
        self.used: set[str] = set()
        self.torch = False

    # ---- names and literals ---------------------------------------------------------------

    def noun(self) -> str:
        return self.r.choice(NOUNS)

    def snake(self, parts: int | None = None) -> str:
        n = parts if parts is not None else self.r.choice((1, 2, 2, 2, 3))
        words = [self.r.choice(ADJECTIVES if i == 0 and n > 1 and self.r.random() < 0.4 else NOUNS) for i in range(n)]
        name = "_".join(words)
        return name if not keyword.iskeyword(name) else name + "_"

    def fresh(self, scope_names: set[str], parts: int | None = None) -> str:
        for _ in range(6):
            name = self.snake(parts)
            if name not in scope_names and name not in self.used:
                return name
        name = f"{self.snake(parts)}_{self.r.randint(2, 999)}"
        return name

    def func_name(self) -> str:
        for _ in range(8):
            name = f"{self.r.choice(VERBS)}_{self.snake(self.r.choice((1, 1, 2)))}"
            if name not in self.used:
                self.used.add(name)
                return name
        name = f"{self.r.choice(VERBS)}_{self.noun()}_{self.r.randint(2, 9999)}"
        self.used.add(name)
        return name

    def class_name(self, suffix: str = "") -> str:
        for _ in range(8):
            words = [self.noun()] if self.r.random() < 0.3 else [self.r.choice(ADJECTIVES), self.noun()]
            if self.r.random() < 0.3:
                words.append(self.noun())
            name = "".join(w.capitalize() for w in words) + suffix
            if name not in self.used:
                self.used.add(name)
                return name
        name = f"{self.noun().capitalize()}{self.r.randint(2, 999)}{suffix}"
        self.used.add(name)
        return name

    def const_name(self) -> str:
        for _ in range(8):
            name = self.snake(self.r.choice((2, 2, 3))).upper()
            if name not in self.used:
                self.used.add(name)
                return name
        return f"{self.noun().upper()}_{self.r.randint(2, 9999)}"

    def int_lit(self) -> str:
        r = self.r.random()
        if r < 0.45:
            return str(self.r.randint(0, 12))
        if r < 0.75:
            return str(
                self.r.choice(
                    (16, 24, 30, 32, 50, 60, 64, 100, 128, 200, 256, 300, 500, 512, 1000, 1024, 3600, 4096, 8192, 86400)
                )
            )
        if r < 0.9:
            return str(self.r.randint(13, 9999))
        if r < 0.95:
            return f"{self.r.randint(1, 99)}_{self.r.randint(0, 999):03d}"
        return hex(self.r.randint(16, 65535))

    def float_lit(self) -> str:
        r = self.r.random()
        if r < 0.4:
            return f"{self.r.random():.2f}"
        if r < 0.7:
            return f"{self.r.uniform(0, 100):.{self.r.randint(1, 4)}f}"
        if r < 0.85:
            return f"{self.r.choice((1, 2, 5))}e-{self.r.randint(2, 9)}"
        return str(self.r.choice((0.5, 1.5, 0.25, 0.75, 0.9, 0.99, 0.001, 2.0, 10.0)))

    def words(self, lo: int = 1, hi: int = 4) -> str:
        pool = NOUNS if self.r.random() < 0.6 else VERBS
        return " ".join(self.r.choice(pool) for _ in range(self.r.randint(lo, hi)))

    def str_lit(self) -> str:
        r = self.r.random()
        if r < 0.35:
            text = self.snake(self.r.choice((1, 2)))
        elif r < 0.55:
            text = self.words(2, 6).capitalize()
        elif r < 0.7:
            text = "/".join(
                ["", self.r.choice(("var", "srv", "data", "tmp", "opt")), self.noun(), self.snake(1)]
            ) + self.r.choice(("", ".json", ".csv", ".log", ".txt"))
        elif r < 0.8:
            text = f"{self.noun()}-{self.r.randint(1, 999)}"
        elif r < 0.9:
            text = self.r.choice(
                (
                    "utf-8",
                    "%Y-%m-%d",
                    ", ",
                    ":",
                    "-",
                    "\\n",
                    "{}:{}",
                    "*.py",
                    "application/json",
                    "https://example.invalid/v1",
                )
            )
        else:
            text = f"{self.noun()}.{self.noun()}"
        quote = "'" if self.r.random() < 0.2 else '"'
        return f"{quote}{text}{quote}"

    def fstring(self, s: Scope) -> str:
        parts = [self.r.choice(("", self.words(1, 3).capitalize() + " "))]
        for _ in range(self.r.randint(1, 3)):
            typ = self.r.choice(("int", "str", "float", "slist", "int"))
            name = self.pick(s, typ)
            if name is None:
                name = self.pick(s, "str") or self.pick(s, "int")
            if name is None:
                parts.append(self.words(1, 2) + " ")
                continue
            label = self.r.choice(("", self.noun() + "=", self.noun() + ": ", "[", "(", ""))
            if typ == "float" and name in s.names["float"]:
                spec = self.r.choice((":.2f", ":.3f", ":.1%", ""))
            elif typ == "slist":
                spec = ""
                name = f"len({name})"
            else:
                spec = self.r.choice(("", "", "!r", ":>8", ":<12", ""))
            close = "]" if label == "[" else (")" if label == "(" else "")
            parts.append(f"{label}{{{name}{spec}}}{close} ")
        text = "".join(parts).rstrip()
        return f'f"{text}"' if "{" in text else f'"{text or self.noun()}"'

    def pick(self, s: Scope, typ: str) -> str | None:
        """A visible name of type ``typ`` (now counted as read), or None."""
        bucket = s.names[typ]
        if not bucket:
            return None
        # prefer recent names, as real code does
        roll = self.r.random()
        if roll < 0.5 and s.unused:
            fresh = [n for n in bucket if n in s.unused]  # values just computed are usually used
            if fresh:
                return self.r.choice(fresh)
        return bucket[-1] if len(bucket) > 1 and roll < 0.7 else self.r.choice(bucket)

    def consume(self, s: Scope, ind: str, out: list[str], start: int, tail: str = "") -> None:
        """Read the locals that nothing read, so there are no more unused variables than in real code.

        A local counts as read when its name occurs at least twice in the function's text (the
        assignment and one more), which is close enough for a corpus.
        """
        text = "\n".join(out[start:]) + "\n" + tail
        counts = Counter(WORD_RE.findall(text))
        names = [n for n in s.unused if counts[n] < 2]
        s.unused.clear()
        while names:
            chunk, names = names[:3], names[3:]
            if self.r.random() < 0.15 and len(chunk) == 1:
                continue  # leave the odd one unused
            out.append(f'{ind}logger.debug("{self.words(1, 3)}: {" ".join(["%s"] * len(chunk))}", {", ".join(chunk)})')

    # ---- expressions ----------------------------------------------------------------------

    def expr(self, s: Scope, typ: str, depth: int = 2) -> str:
        result: str = getattr(self, "e_" + typ)(s, depth)
        return result

    def call_helper(self, s: Scope, typ: str, depth: int, *, awaited: bool = False) -> str | None:
        """A call to an earlier function of this module returning ``typ`` (coroutines only if awaited)."""
        if depth <= 0:
            return None
        options = [h for h in self.helpers if h.ret == typ and h.is_async == awaited]
        if not options:
            return None
        h = self.r.choice(options)
        args = ", ".join(self.expr(s, p, depth - 1) for p in h.params)
        return f"{h.name}({args})"

    def e_int(self, s: Scope, d: int) -> str:
        r = self.r.random()
        v = self.pick(s, "int")
        if d <= 0 or r < 0.3:
            return v if v is not None and self.r.random() < 0.7 else self.int_lit()
        if r < 0.42:
            seq = self.pick(s, "ilist") or self.pick(s, "slist") or self.pick(s, "map")
            return f"len({seq})" if seq else self.int_lit()
        if r < 0.58:
            op = self.r.choice(("+", "-", "*", "//", "%", "+", "*"))
            rhs = self.int_lit() if op not in ("//", "%") else str(self.r.randint(2, 97))
            return f"{self.e_int(s, d - 1)} {op} {rhs}"
        if r < 0.66:
            seq = self.pick(s, "ilist")
            if seq:
                x = self.r.choice(("x", "n", "value", "size", "item"))
                return f"sum({x} for {x} in {seq} if {x} {self.r.choice(('>', '<', '>=', '!='))} {self.int_lit()})"
            return self.int_lit()
        if r < 0.74:
            return f"{self.r.choice(('max', 'min'))}({self.e_int(s, d - 1)}, {self.e_int(s, d - 1)})"
        if r < 0.82:
            m = self.pick(s, "map")
            return f"{m}.get({self.str_lit()}, {self.int_lit()})" if m else self.int_lit()
        if r < 0.87:
            f = self.pick(s, "float")
            return f"round({f})" if f else f"int({self.e_float(s, d - 1)})"
        if r < 0.9:
            return f"({self.e_int(s, d - 1)} if {self.e_bool(s, d - 1)} else {self.int_lit()})"
        return self.call_helper(s, "int", d) or (v or self.int_lit())

    def int_subject(self, s: Scope, d: int) -> str:
        """An int expression that is not a bare literal (for comparisons)."""
        v = self.pick(s, "int")
        if v is not None and (d <= 0 or self.r.random() < 0.6):
            return v
        seq = self.pick(s, "ilist") or self.pick(s, "slist") or self.pick(s, "map")
        if seq is not None:
            return f"len({seq})"
        if d > 0:
            helper = self.call_helper(s, "int", d)
            if helper:
                return helper
        return f"int(os.environ.get({self.str_lit()}, {str(self.r.randint(0, 99))!r}))"

    def e_float(self, s: Scope, d: int) -> str:
        r = self.r.random()
        v = self.pick(s, "float")
        if d <= 0 or r < 0.3:
            return v if v is not None and self.r.random() < 0.7 else self.float_lit()
        if r < 0.5:
            return f"{self.e_int(s, d - 1)} / max(1, {self.e_int(s, d - 1)})"
        if r < 0.62:
            return f"{self.e_float(s, d - 1)} * {self.float_lit()}"
        if r < 0.72:
            fn = self.r.choice(("math.sqrt", "math.log1p", "abs", "float", "math.exp"))
            return f"{fn}({self.e_float(s, d - 1) if fn != 'float' else self.e_int(s, d - 1)})"
        if r < 0.8:
            seq = self.pick(s, "ilist")
            return f"statistics.fmean({seq})" if seq else self.float_lit()
        if r < 0.88:
            return f"time.monotonic() - {v or self.float_lit()}"
        return self.call_helper(s, "float", d) or self.float_lit()

    def e_str(self, s: Scope, d: int) -> str:
        r = self.r.random()
        v = self.pick(s, "str")
        if d <= 0 or r < 0.3:
            return v if v is not None and self.r.random() < 0.6 else self.str_lit()
        if r < 0.5:
            return self.fstring(s)
        if r < 0.6:
            seq = self.pick(s, "slist")
            return f"{self.str_lit()}.join({seq})" if seq else self.str_lit()
        if r < 0.72 and v:
            m = self.r.choice(
                (
                    "strip()",
                    "lower()",
                    "upper()",
                    "strip().lower()",
                    "title()",
                    f"replace({self.str_lit()}, {self.str_lit()})",
                    f"removeprefix({self.str_lit()})",
                    f"zfill({self.r.randint(2, 12)})",
                )
            )
            return f"{v}.{m}"
        if r < 0.8:
            return f"os.path.join({self.e_str(s, d - 1)}, {self.str_lit()})"
        if r < 0.86:
            return f"str({self.e_int(s, d - 1)})"
        if r < 0.9:
            return f'"{self.words(1, 3)} {{}}".format({self.e_int(s, d - 1)})'
        return self.call_helper(s, "str", d) or (v or self.str_lit())

    def e_bool(self, s: Scope, d: int) -> str:
        r = self.r.random()
        if d <= 0 or r < 0.15:
            v = self.pick(s, "bool")
            if v is not None:
                return v
            if self.r.random() < 0.2:
                return self.r.choice(("True", "False"))
            return f"{self.int_subject(s, 0)} > {self.int_lit()}"
        if r < 0.4:
            op = self.r.choice((">", "<", ">=", "<=", "==", "!="))
            return f"{self.int_subject(s, d - 1)} {op} {self.int_lit()}"
        if r < 0.5:
            v = self.pick(s, "str")
            if v:
                return f"{v}.{self.r.choice(('startswith', 'endswith'))}({self.str_lit()})"
        if r < 0.6:
            m = self.pick(s, "map") or self.pick(s, "slist")
            if m:
                return f"{self.e_str(s, 0)} {self.r.choice(('in', 'not in'))} {m}"
        if r < 0.7:
            return f"{self.e_bool(s, d - 1)} {self.r.choice(('and', 'or'))} {self.e_bool(s, d - 1)}"
        if r < 0.78:
            return f"not {self.e_bool(s, 0)}"
        if r < 0.85:
            seq = self.pick(s, "ilist")
            if seq:
                return f"{self.r.choice(('any', 'all'))}(x > {self.int_lit()} for x in {seq})"
        if r < 0.9:
            v = self.pick(s, "str") or self.pick(s, "int")
            if v:
                return f"isinstance({v}, {self.r.choice(('str', 'int', 'float', 'bytes', 'dict'))})"
        return self.call_helper(s, "bool", d) or f"{self.int_subject(s, 0)} > {self.int_lit()}"

    def e_ilist(self, s: Scope, d: int) -> str:
        r = self.r.random()
        v = self.pick(s, "ilist")
        if d <= 0 or r < 0.25:
            if v is not None and self.r.random() < 0.6:
                return v
            return "[" + ", ".join(self.int_lit() for _ in range(self.r.randint(0, 6))) + "]"
        if r < 0.45 and v:
            x = self.r.choice(("x", "n", "value", "count", "item"))
            cond = ""
            if self.r.random() < 0.5:
                cond = f" if {x} {self.r.choice(('>', '<', '!=', '%'))} {self.r.randint(1, 9)}"
            return f"[{x} {self.r.choice(('*', '+', '//', '-'))} {self.int_lit()} for {x} in {v}{cond}]"
        if r < 0.55 and v:
            key = ", reverse=True" if self.r.random() < 0.3 else ""
            return f"sorted({v}{key})"
        if r < 0.65:
            m = self.pick(s, "map")
            if m:
                return f"list({m}.values())"
        if r < 0.72:
            seq = self.pick(s, "slist")
            if seq:
                return f"[len(part) for part in {seq}]"
        if r < 0.8:
            return f"list(range({self.e_int(s, 0)}))"
        if r < 0.85 and v:
            return f"[*{v}, {self.e_int(s, d - 1)}]"
        return (
            self.call_helper(s, "ilist", d)
            or "[" + ", ".join(self.int_lit() for _ in range(self.r.randint(1, 5))) + "]"
        )

    def e_slist(self, s: Scope, d: int) -> str:
        r = self.r.random()
        v = self.pick(s, "slist")
        if d <= 0 or r < 0.25:
            if v is not None and self.r.random() < 0.6:
                return v
            return "[" + ", ".join(self.str_lit() for _ in range(self.r.randint(0, 5))) + "]"
        if r < 0.45 and v:
            x = self.r.choice(("name", "part", "line", "key", "token", "word"))
            method = self.r.choice(("strip()", "lower()", "upper()", "rstrip('/')"))
            cond = f" if {x}" if self.r.random() < 0.5 else ""
            return f"[{x}.{method} for {x} in {v}{cond}]"
        if r < 0.55:
            m = self.pick(s, "map")
            if m:
                return self.r.choice((f"sorted({m})", f"list({m}.keys())", f"[k for k, v in {m}.items() if v]"))
        if r < 0.65:
            t = self.pick(s, "str")
            if t:
                return f"{t}.split({self.r.choice(('', repr(','), repr(':'), repr('/')))})"
        if r < 0.72:
            seq = self.pick(s, "ilist")
            if seq:
                return f"[str(n) for n in {seq}]"
        if r < 0.8 and v:
            return f"sorted(set({v}))"
        return (
            self.call_helper(s, "slist", d)
            or "[" + ", ".join(self.str_lit() for _ in range(self.r.randint(1, 4))) + "]"
        )

    def e_map(self, s: Scope, d: int) -> str:
        r = self.r.random()
        v = self.pick(s, "map")
        if d <= 0 or r < 0.25:
            if v is not None and self.r.random() < 0.6:
                return v
            items = ", ".join(f"{self.str_lit()}: {self.int_lit()}" for _ in range(self.r.randint(0, 4)))
            return "{" + items + "}"
        if r < 0.45:
            seq = self.pick(s, "slist")
            if seq:
                k = self.r.choice(("key", "name", "label", "word"))
                return f"{{{k}: len({k}) for {k} in {seq}}}"
        if r < 0.55:
            seq = self.pick(s, "slist")
            if seq:
                return f"dict(Counter({seq}))"
        if r < 0.65 and v:
            return f"{{**{v}, {self.str_lit()}: {self.e_int(s, d - 1)}}}"
        if r < 0.72 and v:
            return f"{{k: v for k, v in {v}.items() if v {self.r.choice(('>', '<', '!='))} {self.int_lit()}}}"
        if r < 0.8:
            a, b = self.pick(s, "slist"), self.pick(s, "ilist")
            if a and b:
                return f"dict(zip({a}, {b}))"
        return (
            self.call_helper(s, "map", d)
            or "{" + ", ".join(f"{self.str_lit()}: {self.e_int(s, 0)}" for _ in range(self.r.randint(1, 3))) + "}"
        )

    # ---- statements -----------------------------------------------------------------------

    def assign(self, s: Scope, ind: str, out: list[str], typ: str | None = None) -> None:
        typ = typ or self.r.choice(TYPES)
        existing = s.names[typ]
        if existing and self.r.random() < 0.25:
            name = self.r.choice(existing)
            if typ in ("int", "float") and self.r.random() < 0.6:
                out.append(f"{ind}{name} {self.r.choice(('+=', '-=', '*='))} {self.expr(s, typ, 1)}")
                return
        else:
            name = self.fresh(s.all_names())
        rhs = self.expr(s, typ, 2)
        if rhs == name:
            rhs = self.expr(Scope(), typ, 0)
        if s.is_async and self.r.random() < 0.3:
            awaited = self.call_helper(s, typ, 1, awaited=True)
            if awaited:
                rhs = f"await {awaited}"
        if self.r.random() < 0.2:
            out.append(f"{ind}{name}: {self.r.choice(ANNOTATIONS[typ])} = {rhs}")
        else:
            out.append(f"{ind}{name} = {rhs}")
        s.add(name, typ, local="." not in name)

    def stmt(self, s: Scope, ind: str, depth: int, out: list[str]) -> None:
        r = self.r.random()
        deeper = ind + "    "
        if depth <= 0 or r < 0.40:
            if self.r.random() < 0.1:
                out.append(f"{ind}# {self.words(3, 9)}")
            self.assign(s, ind, out)
            return
        if r < 0.52:
            out.append(f"{ind}if {self.e_bool(s, 2)}:")
            self.body(s.child(), deeper, depth - 1, out, self.r.randint(1, 3))
            if self.r.random() < 0.3:
                out.append(f"{ind}elif {self.e_bool(s, 1)}:")
                self.body(s.child(), deeper, depth - 1, out, self.r.randint(1, 2))
            if self.r.random() < 0.4:
                out.append(f"{ind}else:")
                self.body(s.child(), deeper, depth - 1, out, self.r.randint(1, 2))
            return
        if r < 0.64:
            c = s.child(in_loop=True)
            typ = self.r.choice(("ilist", "slist", "map", "range"))
            if typ == "ilist":
                var = self.r.choice(("value", "n", "size", "count", "offset", "idx"))
                out.append(f"{ind}for {var} in {self.e_ilist(s, 1)}:")
                c.add(var, "int")
            elif typ == "slist":
                var = self.r.choice(("name", "line", "key", "part", "token", "path"))
                if self.r.random() < 0.3:
                    out.append(f"{ind}for i, {var} in enumerate({self.e_slist(s, 1)}):")
                    c.add("i", "int")
                else:
                    out.append(f"{ind}for {var} in {self.e_slist(s, 1)}:")
                c.add(var, "str")
            elif typ == "map":
                out.append(f"{ind}for key, amount in {self.e_map(s, 1)}.items():")
                c.add("key", "str")
                c.add("amount", "int")
            else:
                out.append(f"{ind}for step in range({self.e_int(s, 1)}):")
                c.add("step", "int")
            self.body(c, deeper, depth - 1, out, self.r.randint(1, 3))
            if self.r.random() < 0.15:
                out.append(f"{deeper}if {self.e_bool(c, 1)}:")
                out.append(f"{deeper}    {self.r.choice(('break', 'continue'))}")
            return
        if r < 0.69:
            out.append(f"{ind}while {self.e_bool(s, 1)}:")
            c = s.child(in_loop=True)
            self.body(c, deeper, depth - 1, out, self.r.randint(1, 2))
            out.append(f"{deeper}if {self.e_bool(c, 1)}:")
            out.append(f"{deeper}    break")
            return
        if r < 0.76:
            out.append(f"{ind}try:")
            self.body(s.child(), deeper, depth - 1, out, self.r.randint(1, 3))
            excs = self.r.sample(EXCEPTIONS, self.r.randint(1, 2))
            exc = excs[0] if len(excs) == 1 else "(" + ", ".join(excs) + ")"
            action = self.r.random()
            out.append(f"{ind}except {exc}{' as exc' if action < 0.7 else ''}:")
            if action < 0.4:
                out.append(f'{deeper}logger.warning("{self.words(2, 5)}: %s", exc)')
            elif action < 0.7:
                out.append(f"{deeper}raise {self.r.choice(EXCEPTIONS)}({self.fstring(s)}) from exc")
            else:
                self.body(s.child(), deeper, 0, out, 1)
            if self.r.random() < 0.2:
                out.append(f"{ind}finally:")
                out.append(f"{deeper}logger.debug({self.str_lit()})")
            return
        if r < 0.8:
            mgr = self.r.random()
            c = s.child()
            if mgr < 0.4:
                out.append(f'{ind}with open({self.e_str(s, 1)}, encoding="utf-8") as handle:')
                out.append(f"{deeper}content = handle.read()")
                c.add("content", "str", local=True)
            elif mgr < 0.7:
                out.append(f"{ind}with contextlib.suppress({self.r.choice(EXCEPTIONS)}):")
            else:
                out.append(f"{ind}with contextlib.ExitStack() as stack:")
                out.append(f"{deeper}stack.callback(logger.debug, {self.str_lit()})")
            self.body(c, deeper, depth - 1, out, self.r.randint(1, 2))
            return
        if r < 0.84:
            x = self.r.choice(("command", "kind", "action", "mode"))
            out.append(f"{ind}{x} = {self.e_str(s, 1)}")
            s.add(x, "str")
            out.append(f"{ind}match {x}:")
            for _ in range(self.r.randint(1, 3)):
                out.append(f"{deeper}case {self.str_lit()}:")
                self.body(s.child(), deeper + "    ", 0, out, self.r.randint(1, 2))
            if self.r.random() < 0.6:
                out.append(f"{deeper}case _:")
                self.body(s.child(), deeper + "    ", 0, out, 1)
            return
        if r < 0.87:
            n = self.r.choice(("n", "size", "length"))
            out.append(f"{ind}if ({n} := {self.e_int(s, 1)}) > {self.int_lit()}:")
            c = s.child()
            c.add(n, "int", local=True)
            self.body(c, deeper, depth - 1, out, 1)
            return
        if r < 0.91:
            lst = self.pick(s, "slist") or self.pick(s, "ilist")
            if lst:
                typ = "slist" if lst in s.names["slist"] else "ilist"
                elem = self.e_str(s, 1) if typ == "slist" else self.e_int(s, 1)
                if lst.startswith("self.") or self.r.random() < 0.5:
                    out.append(f"{ind}{lst}.append({elem})")
                else:
                    out.append(f"{ind}{lst}.extend([{elem}])")
                return
        if r < 0.94:
            out.append(
                f"{ind}logger.{self.r.choice(('info', 'debug', 'warning'))}("
                f'"{self.words(2, 6)} %s", {self.e_str(s, 1)})'
            )
            return
        if r < 0.96:
            out.append(f"{ind}assert {self.e_bool(s, 1)}, {self.str_lit()}")
            return
        if r < 0.98:
            out.append(f"{ind}if {self.e_bool(s, 1)}:")
            out.append(f"{deeper}raise {self.r.choice(EXCEPTIONS)}({self.fstring(s)})")
            return
        # nested closure
        name = self.func_name()
        arg = self.r.choice(("value", "item", "entry"))
        out.append(f"{ind}def {name}({arg}: int) -> int:")
        c = s.child(in_loop=False, new_frame=True)
        c.is_async = False
        c.add(arg, "int")
        start = len(out)
        self.body(c, deeper, 0, out, self.r.randint(1, 2))
        result = self.e_int(c, 1)
        self.consume(c, deeper, out, start, result)
        out.append(f"{deeper}return {result}")
        res = self.fresh(s.all_names())
        out.append(f"{ind}{res} = [{name}(v) for v in {self.e_ilist(s, 1)}]")
        s.add(res, "ilist", local=True)

    def body(self, s: Scope, ind: str, depth: int, out: list[str], n: int) -> None:
        for _ in range(max(1, n)):
            self.stmt(s, ind, depth, out)

    # ---- definitions ----------------------------------------------------------------------

    def params(self, s: Scope, n: int) -> tuple[list[str], list[str]]:
        """Return (rendered params, types of required params)."""
        rendered: list[str] = []
        required: list[str] = []
        names = s.all_names()
        n_req = self.r.randint(0, n)
        for i in range(n):
            typ = self.r.choice(TYPES)
            name = self.fresh(names, self.r.choice((1, 1, 2)))
            names.add(name)
            ann = self.r.choice(ANNOTATIONS[typ])
            if i < n_req:
                rendered.append(f"{name}: {ann}")
                required.append(typ)
            else:
                default = {
                    "int": self.int_lit(),
                    "float": self.float_lit(),
                    "str": self.str_lit(),
                    "bool": self.r.choice(("True", "False")),
                }.get(typ, "None")
                if default == "None":
                    ann = f"{ann} | None" if self.r.random() < 0.5 else f"Optional[{ann}]"
                rendered.append(f"{name}: {ann} = {default}")
            s.add(name, typ)
        if n > 1 and n_req < n and self.r.random() < 0.2:
            rendered.insert(n_req, "*")
        return rendered, required

    def docstring(self, ind: str, out: list[str], params: Sequence[str], ret: str | None) -> None:
        summary = self.words(3, 9).capitalize() + "."
        if self.r.random() < 0.45 or not params:
            out.append(f'{ind}"""{summary}"""')
            return
        out.append(f'{ind}"""{summary}')
        out.append("")
        if self.r.random() < 0.4:
            out.append(f"{ind}{self.words(5, 14).capitalize()}.")
            out.append("")
        out.append(f"{ind}Args:")
        for p in params:
            if p == "*":
                continue
            out.append(f"{ind}    {p.split(':')[0]}: {self.words(2, 7).capitalize()}.")
        if ret:
            out.append("")
            out.append(f"{ind}Returns:")
            out.append(f"{ind}    {self.words(2, 8).capitalize()}.")
        out.append(f'{ind}"""')

    def function(
        self,
        out: list[str],
        ind: str = "",
        *,
        kind: str = "def",
        base: Scope | None = None,
        first: str | None = None,
        register: bool = True,
        name: str | None = None,
        decorators: Sequence[str] = (),
        n_params: int | None = None,
    ) -> str:
        s = base.child(in_loop=False, new_frame=True) if base is not None else Scope()
        is_async = kind == "async"
        is_gen = kind == "gen"
        s.is_async = is_async
        name = name or self.func_name()
        if not decorators and not first and self.decorators and self.r.random() < 0.25:
            decorators = (f"@{self.r.choice(self.decorators)}",)
        rendered, required = self.params(s, self.r.choice((0, 1, 1, 2, 2, 3, 4)) if n_params is None else n_params)
        if first:
            rendered.insert(0, first)
        ret_typ = self.r.choice(TYPES) if self.r.random() < 0.8 else None
        if is_gen:
            ret_ann = f"Iterator[{'str' if ret_typ in ('str', 'slist') else 'int'}]"
        else:
            ret_ann = RETURN_ANN[ret_typ] if ret_typ else "None"
        for dec in decorators:
            out.append(f"{ind}{dec}")
        head = "async def" if is_async else "def"
        sig = ", ".join(rendered)
        line = f"{ind}{head} {name}({sig}) -> {ret_ann}:"
        if len(line) > 96 and len(rendered) > 1:
            out.append(f"{ind}{head} {name}(")
            for p in rendered:
                out.append(f"{ind}    {p},")
            out.append(f"{ind}) -> {ret_ann}:")
        else:
            out.append(line)
        inner = ind + "    "
        if self.r.random() < 0.6:
            self.docstring(inner, out, rendered[1:] if first else rendered, ret_ann if ret_ann != "None" else None)
        if is_async and self.r.random() < 0.5:
            out.append(f"{inner}await asyncio.sleep({self.r.choice(('0', '0.01', '0.1', '0.5'))})")
        if self.torch and self.r.random() < 0.3:
            self.torch_lines(s, inner, out)
        start = len(out)
        self.body(s, inner, self.r.choice((1, 2, 2, 3)), out, self.r.randint(2, 7))
        if is_gen:
            yt = "str" if ret_typ in ("str", "slist") else "int"
            source = self.expr(s, "slist" if yt == "str" else "ilist", 1)
            self.consume(s, inner, out, start, source)
            out.append(f"{inner}for produced in {source}:")
            out.append(f"{inner}    yield produced")
        elif ret_typ:
            result = self.expr(s, ret_typ, 2)
            self.consume(s, inner, out, start, result)
            out.append(f"{inner}return {result}")
        else:
            self.consume(s, inner, out, start)
        if register and not is_gen and ret_typ and not first:
            self.helpers.append(Helper(name, tuple(required), ret_typ, is_async))
        out.append("")
        return name

    def decorator_def(self, out: list[str]) -> None:
        """A small decorator (timing, retrying or logging) that later functions may use."""
        name = self.r.choice(("timed", "logged", "traced", "retried", "guarded", "counted")) + "_" + self.noun()
        if name in self.used:
            return
        self.used.add(name)
        out.append(f"def {name}(func: Callable[..., T]) -> Callable[..., T]:")
        out.append(f'    """{self.words(3, 8).capitalize()}."""')
        out.append("")
        out.append("    @functools.wraps(func)")
        out.append("    def wrapper(*args: Any, **kwargs: Any) -> T:")
        kind = self.r.random()
        if kind < 0.4:
            out += [
                "        started = time.perf_counter()",
                "        try:",
                "            return func(*args, **kwargs)",
                "        finally:",
                (
                    f'            logger.{self.r.choice(("debug", "info"))}("%s took %.3fs", func.__name__, '
                    "time.perf_counter() - started)"
                ),
            ]
        elif kind < 0.75:
            out += [
                f"        for attempt in range({self.r.randint(2, 6)}):",
                "            try:",
                "                return func(*args, **kwargs)",
                f"            except ({', '.join(self.r.sample(EXCEPTIONS, 2))}) as exc:",
                '                logger.warning("attempt %d failed: %s", attempt, exc)',
                f"                time.sleep({self.float_lit()})",
                f'        raise RuntimeError("{self.words(2, 5)}")',
            ]
        else:
            out += [
                '        logger.debug("calling %s with %d args", func.__name__, len(args))',
                "        return func(*args, **kwargs)",
            ]
        out.append("")
        out.append("    return wrapper")
        out.append("")
        self.decorators.append(name)

    def torch_lines(self, s: Scope, ind: str, out: list[str]) -> None:
        t = self.fresh(s.all_names(), 1)
        choice = self.r.random()
        if choice < 0.35:
            out.append(f"{ind}{t} = torch.tensor({self.e_ilist(s, 1)}, dtype=torch.float32)")
            out.append(f"{ind}{t} = torch.nn.functional.normalize({t}, dim=0)")
        elif choice < 0.7:
            out.append(f'{ind}device = "cuda" if torch.cuda.is_available() else "cpu"')
            out.append(f"{ind}{t} = torch.zeros({self.r.randint(1, 64)}, {self.r.randint(1, 512)}, device=device)")
        else:
            out.append(f"{ind}with torch.no_grad():")
            out.append(f"{ind}    {t} = torch.randn({self.r.randint(2, 128)}).softmax(dim=-1)")

    def class_plain(self, out: list[str], ind: str = "") -> None:
        name = self.class_name(self.r.choice(("", "", "Manager", "Service", "Client", "Store", "Builder")))
        base = self.r.choice(("", "", "", "(object)"))
        out.append(f"{ind}class {name}{base}:")
        inner = ind + "    "
        out.append(f'{inner}"""{self.words(3, 10).capitalize()}."""')
        out.append("")
        s = Scope()
        attrs: list[tuple[str, str]] = []
        for _ in range(self.r.randint(1, 4)):
            attrs.append((self.fresh({a for a, _ in attrs}, self.r.choice((1, 2))), self.r.choice(TYPES)))
        params = ", ".join(f"{a}: {self.r.choice(ANNOTATIONS[t])}" for a, t in attrs)
        out.append(f"{inner}def __init__(self, {params}) -> None:")
        for a, t in attrs:
            out.append(
                f"{inner}    self.{a} = {a}"
                if t not in ("ilist", "slist", "map")
                else f"{inner}    self.{a} = {'dict' if t == 'map' else 'list'}({a})"
            )
            s.add(f"self.{a}", t)
        if self.r.random() < 0.5:
            out.append(f"{inner}    self._lock = threading.Lock()")
        out.append("")
        for _ in range(self.r.randint(1, 4)):
            kind = self.r.choice(("def", "def", "def", "async", "gen", "property", "static", "classmethod"))
            if kind == "property":
                self.function(out, inner, base=s, first="self", decorators=("@property",), register=False, n_params=0)
            elif kind == "static":
                self.function(out, inner, decorators=("@staticmethod",), register=False)
            elif kind == "classmethod":
                cname = self.func_name()
                out.append(f"{inner}@classmethod")
                out.append(f'{inner}def {cname}(cls, data: Mapping[str, Any]) -> "{name}":')
                out.append(f'{inner}    """Build from a mapping."""')
                args = ", ".join(f"data[{a!r}]" if self.r.random() < 0.5 else f"data.get({a!r})" for a, _ in attrs)
                out.append(f"{inner}    return cls({args})")
                out.append("")
            else:
                self.function(out, inner, kind=kind, base=s, first="self", register=False)
        if self.r.random() < 0.5:
            out.append(f"{inner}def __repr__(self) -> str:")
            fields = ", ".join(f"{a}={{self.{a}!r}}" for a, _ in attrs)
            out.append(f'{inner}    return f"{name}({fields})"')
            out.append("")

    def class_dataclass(self, out: list[str]) -> None:
        name = self.class_name(self.r.choice(("", "", "Config", "Record", "Options", "Spec", "Event")))
        dec = self.r.choice(
            (
                "@dataclass",
                "@dataclass(frozen=True)",
                "@dataclass(slots=True)",
                "@dataclasses.dataclass(order=True)",
                "@dataclass(kw_only=True)",
            )
        )
        out.append(dec)
        out.append(f"class {name}:")
        out.append(f'    """{self.words(3, 10).capitalize()}."""')
        out.append("")
        s = Scope()
        seen: set[str] = set()
        has_default = False
        for _ in range(self.r.randint(2, 7)):
            typ = self.r.choice(TYPES)
            fname = self.fresh(seen, self.r.choice((1, 2)))
            seen.add(fname)
            ann = RETURN_ANN[typ]
            if self.r.random() < 0.5 or has_default:
                has_default = True
                default = {
                    "int": self.int_lit(),
                    "float": self.float_lit(),
                    "str": self.str_lit(),
                    "bool": self.r.choice(("True", "False")),
                    "ilist": "field(default_factory=list)",
                    "slist": "field(default_factory=list)",
                    "map": "field(default_factory=dict)",
                }[typ]
                out.append(f"    {fname}: {ann} = {default}")
            else:
                out.append(f"    {fname}: {ann}")
            if self.r.random() < 0.15:
                out[-1] += f"  # {self.words(2, 5)}"
            s.add(f"self.{fname}", typ)
        out.append("")
        for _ in range(self.r.randint(0, 3)):
            prop = self.r.random() < 0.3
            self.function(
                out,
                "    ",
                base=s,
                first="self",
                decorators=("@property",) if prop else (),
                register=False,
                n_params=0 if prop else None,
            )

    def class_enum(self, out: list[str]) -> None:
        name = self.class_name(self.r.choice(("Kind", "State", "Mode", "Level", "Status")))
        base = self.r.choice(("enum.Enum", "str, enum.Enum", "enum.IntEnum"))
        out.append(f"class {name}({base}):")
        out.append(f'    """{self.words(2, 7).capitalize()}."""')
        out.append("")
        members = self.r.sample(NOUNS, self.r.randint(2, 7))
        for i, m in enumerate(members):
            value = str(i + 1) if "Int" in base else repr(m)
            out.append(f"    {m.upper()} = {value}")
        out.append("")
        if self.r.random() < 0.6:
            out.append("    @property")
            out.append(f"    def is_{self.r.choice(ADJECTIVES)}(self) -> bool:")
            chosen = members[: self.r.randint(1, len(members))]
            out.append(f"        return self in ({', '.join(f'{name}.{m.upper()}' for m in chosen)},)")
            out.append("")

    def class_error(self, out: list[str]) -> None:
        name = self.class_name("Error")
        out.append(f"class {name}({self.r.choice((*EXCEPTIONS, 'Exception'))}):")
        out.append(f'    """Raised when {self.words(3, 8)}."""')
        if self.r.random() < 0.5:
            out.append("")
            field_name = self.r.choice([n for n in NOUNS if n != "message"])
            out.append(f"    def __init__(self, message: str, {field_name}: str | None = None) -> None:")
            out.append("        super().__init__(message)")
            out.append(f"        self.{field_name} = {field_name}")
        out.append("")

    def class_protocol(self, out: list[str]) -> None:
        name = self.class_name(self.r.choice(("Like", "Reader", "Writer", "Sink", "Source", "")))
        out.append(f"class {name}(Protocol):")
        for _ in range(self.r.randint(1, 3)):
            typ = self.r.choice(TYPES)
            arg = f"{self.snake(1)}: {RETURN_ANN[self.r.choice(TYPES)]}"
            out.append(f"    def {self.func_name()}(self, {arg}) -> {RETURN_ANN[typ]}:")
            out.append("        ...")
            out.append("")

    def module_constants(self, out: list[str]) -> None:
        for _ in range(self.r.randint(1, 5)):
            typ = self.r.choice(("int", "int", "float", "str", "str", "slist", "map"))
            name = self.const_name()
            value = (
                self.expr(Scope(), typ, 0)
                if typ in ("slist", "map")
                else (self.int_lit() if typ == "int" else self.float_lit() if typ == "float" else self.str_lit())
            )
            out.append(f"{name}{': Final' if self.r.random() < 0.15 else ''} = {value}")
        out.append("")

    def insert_imports(self, out: list[str], at: int, extra: Sequence[str] = (), *, relative: bool = True) -> int:
        """Insert, at index ``at``, the imports that ``out[at:]`` uses; return how many lines went in."""
        used = set(USAGE_RE.findall("\n".join(out[at:])))
        block: list[str] = []
        plain = [f"import {m}" for m in STDLIB_MODULES if m + "." in used]
        if "logger." in used:
            plain.append("import logging")
        froms: list[str] = []
        for module, names in FROM_IMPORTS:
            wanted = [n for n in names if n in used or (n == "TypeVar" and "T" in used)]
            if wanted:
                froms.append(f"from {module} import {', '.join(wanted)}")
        if self.r.random() < 0.15:
            plain.append(self.r.choice(("import sys", "import json", "import re", "import uuid", "import hashlib")))
        block += sorted(set(plain), key=lambda x: x.split()[1]) + froms
        third = sorted(set(self.r.sample(THIRD_PARTY_IMPORTS, 1) if self.r.random() < 0.15 else []) | set(extra))
        if third:
            block += ["", *third]
        if relative and self.r.random() < 0.3:
            dots = self.r.choice((".", ".", ".."))
            imported = sorted({self.snake(1) for _ in range(self.r.randint(1, 3))})
            block += ["", f"from {dots}{self.r.choice(PACKAGE_WORDS)} import {', '.join(imported)}"]
        block.append("")
        if "logger." in used:
            block.append("logger = logging.getLogger(__name__)")
        if "T" in used:
            block.append('T = TypeVar("T")')
        block.append("")
        out[at:at] = block
        return len(block)

    def module(self, target: int, *, torch: bool = False, test: bool = False, noise: str | None = None) -> str:
        """An ordinary module of about ``target`` bytes."""
        self.helpers = []
        self.decorators = []
        self.used = set()
        self.torch = torch
        out: list[str] = []
        out.append(f'"""{self.words(3, 9).capitalize()}.')
        if self.r.random() < 0.6:
            out.append("")
            out.append(f"{self.words(6, 16).capitalize()}. {self.words(4, 12).capitalize()}.")
        out.append('"""')
        out.append("")
        if self.r.random() < 0.7:
            out.append("from __future__ import annotations")
            out.append("")
        imports_at = len(out)
        self.module_constants(out)
        if noise:
            out.extend(noise_snippet(self, noise))
        size = sum(len(x) + 1 for x in out)
        producers: list[tuple[float, Callable[[list[str]], Any]]] = [
            (0.34, lambda o: self.function(o)),
            (0.06, lambda o: self.function(o, kind="async")),
            (0.04, lambda o: self.function(o, kind="gen")),
            (
                0.04,
                lambda o: self.function(
                    o,
                    decorators=(
                        self.r.choice(
                            (
                                "@functools.lru_cache(maxsize=None)",
                                "@functools.cache",
                                "@functools.lru_cache(maxsize=128)",
                            )
                        ),
                    ),
                ),
            ),
            (0.02, lambda o: self.decorator_def(o)),
            (0.22, lambda o: self.class_plain(o)),
            (0.14, lambda o: self.class_dataclass(o)),
            (0.06, lambda o: self.class_enum(o)),
            (0.05, lambda o: self.class_error(o)),
            (0.04, lambda o: self.class_protocol(o)),
        ]
        weights = [w for w, _ in producers]
        fns = [f for _, f in producers]
        if test:
            size = self.test_functions(out, target)
        while size < target:
            start, n_helpers, n_decorators = len(out), len(self.helpers), len(self.decorators)
            self.r.choices(fns, weights)[0](out)
            out.append("")
            grown = sum(len(x) + 1 for x in out[start:])
            if size + grown > MAX_FILE_BYTES - 600 and start > imports_at + 8:
                # too big: drop this item (and what it defined), keeping files under 30 kB
                del out[start:], self.helpers[n_helpers:], self.decorators[n_decorators:]
                break
            size += grown
        self.insert_imports(out, imports_at, ["import torch"] if torch else (["import pytest"] if test else []))
        if not test and self.r.random() < 0.3 and self.helpers:
            h = self.r.choice(list(self.helpers) or self.helpers)
            out.append("")
            out.append('if __name__ == "__main__":')
            if h.is_async:
                out.append(f"    asyncio.run({h.name}({', '.join(self.expr(Scope(), p, 0) for p in h.params)}))")
            else:
                out.append(f"    print({h.name}({', '.join(self.expr(Scope(), p, 0) for p in h.params)}))")
        return tidy(out)

    def test_functions(self, out: list[str], target: int) -> int:
        size = sum(len(x) + 1 for x in out)
        fixture = self.snake(self.r.choice((1, 2)))
        out.append("@pytest.fixture")
        out.append(f"def {fixture}() -> dict[str, int]:")
        out.append(f"    return {self.e_map(Scope(), 0)}")
        out.append("")
        out.append("")
        while size < target:
            start = len(out)
            s = Scope()
            if self.r.random() < 0.3:
                cases = ", ".join(f"({self.int_lit()}, {self.int_lit()})" for _ in range(self.r.randint(2, 5)))
                out.append(f'@pytest.mark.parametrize(("given", "expected"), [{cases}])')
                out.append(f"def test_{self.func_name()}(given: int, expected: int) -> None:")
                s.add("given", "int")
                s.add("expected", "int")
            else:
                out.append(f"def test_{self.func_name()}({fixture}: dict[str, int]) -> None:")
                s.add(fixture, "map")
            body_start = len(out)
            self.body(s, "    ", 1, out, self.r.randint(2, 6))
            check = self.e_bool(s, 2)
            self.consume(s, "    ", out, body_start, check)
            out.append(f"    assert {check}")
            if self.r.random() < 0.3:
                out.append(f"    with pytest.raises({self.r.choice(EXCEPTIONS)}):")
                out.append(f"        {self.e_int(s, 1)}")
            out.append("")
            out.append("")
            size += sum(len(x) + 1 for x in out[start:])
        return size


def tidy(lines: list[str]) -> str:
    """Collapse runs of blank lines (at most two) and end with one newline."""
    return tidy_map(lines)[0]


def tidy_map(lines: list[str]) -> tuple[str, list[int]]:
    """Like tidy; also return, for each input line, its 1-based line number in the output."""
    result: list[str] = []
    line_of: list[int] = []
    blanks = 0
    for line in lines:
        if not line.strip():
            blanks += 1
            if blanks <= 2:
                result.append("")
        else:
            blanks = 0
            result.append(line)
        line_of.append(max(1, len(result)))
    while result and not result[-1]:
        result.pop()
    return "\n".join(result) + "\n", line_of


def noise_snippet(g: PyGen, kind: str) -> list[str]:
    """Code that mentions gpu/modal but is not Modal code: the prefilter lets it through."""
    r = g.r
    if kind == "gpu":
        return r.choice(
            (
                ['USE_GPU: bool = os.environ.get("USE_GPU", "0") == "1"', f"NUM_GPUS = {r.randint(0, 8)}", ""],
                [
                    "import ray",
                    "",
                    "",
                    f"@ray.remote(num_gpus={r.randint(1, 4)})",
                    f"def {g.func_name()}(batch: list[int]) -> int:",
                    '    """Runs on a ray worker with a gpu."""',
                    "    return sum(batch)",
                    "",
                ],
                [
                    "from beam import function",
                    "",
                    "",
                    f'@function(gpu="{r.choice(("T4", "A10G", "A100-40"))}", memory="{r.randint(1, 16)}Gi")',
                    f"def {g.func_name()}(text: str) -> str:",
                    "    return text.upper()",
                    "",
                ],
                [
                    "def add_arguments(parser: Any) -> None:",
                    '    parser.add_argument("--gpu", type=int, default=0, help="gpu index")',
                    f'    parser.add_argument("--{g.noun()}", type=str, default={g.str_lit()})',
                    "",
                ],
            )
        )
    return r.choice(
        (
            [
                "class ModalDialog:",
                '    """A modal dialog of the admin UI."""',
                "",
                "    def __init__(self, title: str, modal_id: str) -> None:",
                "        self.title = title",
                "        self.modal_id = modal_id",
                "",
                "    def render(self) -> str:",
                '        return f"<div class=\\"modal\\" id=\\"{self.modal_id}\\">{self.title}</div>"',
                "",
            ],
            [
                'def show_modal(request: Any, template: str = "modal.html") -> str:',
                '    """Render the confirmation modal."""',
                "    return template.format(request)",
                "",
            ],
            [f'MODALITIES = ({g.str_lit()}, "text", "image", "audio")  # multimodal inputs', ""],
        )
    )


# --------------------------------------------------------------------------------------------
# Modal programs
# --------------------------------------------------------------------------------------------

VALID_GPUS = (
    "T4",
    "L4",
    "A10",
    "A10G",
    "L40S",
    "A100",
    "A100-40GB",
    "A100-80GB",
    "H100",
    "H100!",
    "H200",
    "B200",
    "B200+",
    "B300",
    "RTX-PRO-6000",
)
COMMON_GPUS = ("H100", "A100-80GB", "L40S", "A10G", "L4", "T4", "A100", "H100!", "A100-40GB", "H200", "B200")
LOWER_GPUS = ("h100", "a10g", "l40s", "a100-80gb", "l4", "t4")
TYPO_GPUS = (
    "A100-80G",
    "A100_80GB",
    "H100-80GB",
    "A10-24GB",
    "L40",
    "RTX6000",
    "A100-20GB",
    "H200!",
    "A10G!",
    "H-100",
    "A100:80GB",
)
BAD_COUNTS = ("A10:8", "A10G:6", "T4:16", "H100:0", "H100:8!", "L4:x", "A100-80GB:12")

DOMAINS: tuple[dict[str, Any], ...] = (
    {
        "topic": "llm-serving",
        "names": ("vllm_inference", "llm_server", "openai_compatible", "chat_backend"),
        "pip": (
            "vllm==0.6.4.post1",
            "transformers==4.46.3",
            "huggingface_hub[hf_transfer]==0.26.2",
            "fastapi[standard]",
        ),
        "models": (
            "Qwen/Qwen2.5-7B-Instruct",
            "meta-llama/Llama-3.1-8B-Instruct",
            "mistralai/Mistral-7B-Instruct-v0.3",
        ),
        "cls": "Model",
        "method": "generate",
        "arg": ("prompt", "str"),
    },
    {
        "topic": "training",
        "names": ("finetune_lora", "train_classifier", "pretrain_small", "sft_trainer"),
        "pip": ("torch==2.5.1", "accelerate==1.1.1", "datasets==3.1.0", "peft==0.13.2", "wandb==0.18.7"),
        "models": ("bert-base-uncased", "EleutherAI/pythia-410m", "google/gemma-2-2b"),
        "cls": "Trainer",
        "method": "train_epoch",
        "arg": ("epoch", "int"),
    },
    {
        "topic": "image-generation",
        "names": ("stable_diffusion", "flux_generate", "sdxl_turbo", "image_to_image"),
        "pip": ("diffusers==0.31.0", "torch==2.5.1", "transformers==4.46.3", "accelerate==1.1.1", "Pillow"),
        "models": (
            "stabilityai/sdxl-turbo",
            "black-forest-labs/FLUX.1-schnell",
            "stabilityai/stable-diffusion-3.5-medium",
        ),
        "cls": "Inference",
        "method": "run",
        "arg": ("prompt", "str"),
    },
    {
        "topic": "audio",
        "names": ("whisper_transcribe", "batched_whisper", "speech_to_text", "podcast_index"),
        "pip": ("openai-whisper==20240930", "torch==2.5.1", "ffmpeg-python", "librosa==0.10.2"),
        "models": ("openai/whisper-large-v3", "openai/whisper-small", "distil-whisper/distil-large-v3"),
        "cls": "Transcriber",
        "method": "transcribe",
        "arg": ("audio_url", "str"),
    },
    {
        "topic": "embeddings",
        "names": ("embed_corpus", "text_embeddings", "vector_index", "rerank_batch"),
        "pip": ("sentence-transformers==3.3.1", "torch==2.5.1", "faiss-cpu==1.9.0", "numpy<2"),
        "models": ("BAAI/bge-small-en-v1.5", "intfloat/e5-large-v2", "nomic-ai/nomic-embed-text-v1.5"),
        "cls": "Embedder",
        "method": "embed",
        "arg": ("texts", "slist"),
    },
    {
        "topic": "batch-jobs",
        "names": ("batch_inference", "video_processing", "protein_folding", "ocr_pipeline"),
        "pip": ("torch==2.5.1", "numpy<2", "pandas==2.2.3", "pyarrow==18.0.0", "tqdm"),
        "models": ("facebook/esmfold_v1", "microsoft/trocr-base-printed", "facebook/detr-resnet-50"),
        "cls": "Worker",
        "method": "process",
        "arg": ("batch_id", "int"),
    },
)
TOPIC_DIRS = (
    "01_getting_started",
    "03_scaling_out",
    "05_scheduling",
    "06_gpu_and_ml",
    "07_web_endpoints",
    "08_advanced",
    "09_job_queues",
    "10_integrations",
    "11_notebooks",
    "13_sandboxes",
)


@dataclass
class ModalFile:
    text: str
    mistakes: list[dict[str, Any]]


DECORATOR_MISTAKES = ("gpu-typo", "gpu-count", "gpu-object", "missing-timeout", "removed-kwarg", "timeout-range")


class ModalGen:
    """Builds one Modal program: header, constants, image, app, functions, classes, entrypoint."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        self.py = PyGen(rng)

    def gpu_literal(self, *, allow_count: bool = True) -> str:
        r = self.r
        roll = r.random()
        base = r.choice(LOWER_GPUS) if roll < 0.12 else r.choice(COMMON_GPUS if roll < 0.8 else VALID_GPUS)
        if allow_count and r.random() < 0.35:
            count = 2 if base.upper() in ("A10", "A10G") else r.choice((1, 2, 2, 2, 4))
            return f"{base}:{count}"
        return base

    def make(self, target: int, mistake: str | None) -> ModalFile:
        """A Modal program of about ``target`` bytes, with ``mistake`` (a MISTAKE_KINDS entry) or none."""
        r = self.r
        py = self.py
        py.helpers = []
        py.decorators = []
        py.used = set()
        py.torch = False
        dom = r.choice(DOMAINS)
        out: list[str] = []
        marks: list[tuple[str, str, int]] = []  # (kind, detail, index into out)

        def note(kind: str, detail: str, index: int | None = None) -> None:
            marks.append((kind, detail, len(out) - 1 if index is None else index))

        script = r.choice(dom["names"])
        out += [
            f'"""{script.replace("_", " ").capitalize()} on Modal: {py.words(4, 10)}.',
            "",
            f"Run it with `modal run {script}.py`, or deploy it with `modal deploy {script}.py`.",
            f"{py.words(6, 18).capitalize()}.",
            '"""',
            "",
        ]
        if r.random() < 0.4:
            out += ["from __future__ import annotations", ""]
        imports_at = len(out)

        minutes_style = r.random() < 0.75
        if minutes_style:
            out += [r.choice(("MINUTES = 60  # seconds", "MINUTES = 60")), "HOURS = 60 * MINUTES", ""]

        def timeout_expr() -> str:
            if minutes_style:
                return r.choice(
                    (
                        f"{r.randint(5, 60)} * MINUTES",
                        f"{r.randint(1, 12)} * HOURS",
                        f"{r.choice((10, 15, 20, 30, 45))} * MINUTES",
                    )
                )
            return str(r.choice((600, 900, 1200, 1800, 3600, 7200, 14400)))

        # GPU constants, in the shapes real code uses (modal-facts.md: "How real code writes gpu=")
        style = r.random()
        gpu_ref = ""
        if style < 0.25:
            out.append(f'GPU_TYPE = "{self.gpu_literal(allow_count=False)}"')
            gpu_ref = "GPU_TYPE"
        elif style < 0.4:
            base = r.choice(COMMON_GPUS)
            out.append(f'GPU_TYPE, N_GPUS = "{base}", {1 if base in ("A10", "A10G") else r.choice((1, 2))}')
            out.append('GPU_CONFIG = f"{GPU_TYPE}:{N_GPUS}"')
            gpu_ref = "GPU_CONFIG"
        elif style < 0.5:
            out.append(f'gpu: str = "{self.gpu_literal()}"')
            gpu_ref = "gpu"
        elif style < 0.6:
            out.append(f"N_GPU = {r.choice((1, 2))}")
            out.append(f'GPU_CONFIG = f"{r.choice(("H100", "A100-80GB", "L40S", "H100!"))}:{{N_GPU}}"')
            gpu_ref = "GPU_CONFIG"
        elif style < 0.67:
            out.append(
                f'GPU_FALLBACKS = ["{r.choice(("H100", "H200", "B200"))}", '
                f'"{r.choice(("A100-80GB", "A100-80GB:2", "L40S"))}"]'
            )
            gpu_ref = "GPU_FALLBACKS"
        model = r.choice(dom["models"])
        out.append(f'MODEL_NAME = "{model}"')
        out.append(f'MODEL_REVISION = "{"".join(r.choice("0123456789abcdef") for _ in range(12))}"')
        out.append(f'CACHE_DIR = "/{r.choice(("root/.cache/huggingface", "models", "cache", "data"))}"')
        py.module_constants(out)

        app_var = "app"
        app_name = r.choice(dom["names"]).replace("_", "-")
        if mistake == "stub":
            out.append(f'stub = modal.Stub("{app_name}")')
            note("removed-api", "modal.Stub(...)")
            app_var = "stub"
        elif r.random() < 0.7:
            out.append(f'app = modal.App("example-{app_name}")')
        else:
            out.append(
                f'app = modal.App(name="{app_name}-{r.randint(1, 99)}", '
                f'secrets=[modal.Secret.from_name("{r.choice(("huggingface-secret", "wandb", "openai"))}")])'
            )
        out.append("")

        # the image: a builder chain
        pkgs = r.sample(dom["pip"], r.randint(2, len(dom["pip"])))
        out.append("image = (")
        if r.random() < 0.6:
            out.append(f'    modal.Image.debian_slim(python_version="{r.choice(("3.10", "3.11", "3.12"))}")')
        else:
            out.append(
                f'    modal.Image.from_registry("nvidia/cuda:{r.choice(("12.4.0", "12.1.1", "12.6.2"))}'
                f'-devel-ubuntu22.04", add_python="3.11")'
            )
        if r.random() < 0.5:
            apt = r.sample(("git", "ffmpeg", "wget", "libgl1", "build-essential", "curl"), r.randint(1, 3))
            out.append("    .apt_install(" + ", ".join(f'"{p}"' for p in apt) + ")")
        if r.random() < 0.3 and mistake != "image-gpu-list":
            out.append("    .pip_install(" + ", ".join(f'"{p}"' for p in pkgs) + ")")
        else:
            out.append("    .pip_install(")
            out += [f'        "{p}",' for p in pkgs]
            if mistake == "image-gpu-list":
                out.append('        gpu=["H100", "A100-80GB"],')
                note("list-not-allowed", 'pip_install(gpu=["H100", "A100-80GB"])')
            out.append("    )")
        out.append(f'    .env({{"HF_HUB_ENABLE_HF_TRANSFER": "1", "{py.const_name()}": "{r.randint(0, 9)}"}})')
        if r.random() < 0.3:
            out.append("    .run_commands(\"python -c 'import torch; print(torch.__version__)'\")")
        out.append(")")
        out.append("")
        volume = r.random() < 0.6
        if volume:
            out.append(f'volume = modal.Volume.from_name("{py.noun()}-cache", create_if_missing=True)')
            out.append("")
        if r.random() < 0.5:
            out += ["with image.imports():", "    import torch", ""]

        # a few ordinary helpers the Modal functions may call; more come later to reach the target size
        for _ in range(r.randint(0, 2)):
            if r.random() < 0.7:
                py.function(out)
            else:
                py.class_dataclass(out)
            out.append("")
        fill_at = len(out)

        # where the mistake goes
        n_funcs = r.randint(1, 3)
        has_cls = r.random() < 0.75 or mistake == "with-options-list"
        gpu_funcs = [i for i in range(n_funcs) if i == 0 or r.random() < 0.7]
        deco_targets = [f"f{i}" for i in gpu_funcs] + (["cls"] if has_cls else [])
        deco_mistake_at = r.choice(deco_targets) if mistake in DECORATOR_MISTAKES else ""

        def gpu_value(kind: str) -> str:
            if kind == "gpu-typo":
                return f'"{r.choice(TYPO_GPUS)}"'
            if kind == "gpu-count":
                return f'"{r.choice(BAD_COUNTS)}"'
            if kind == "gpu-object":
                return r.choice(
                    (
                        'modal.gpu.A100(size="80GB")',
                        "modal.gpu.H100(count=2)",
                        'modal.gpu.A100(size="40GB", count=2)',
                        "modal.gpu.A10G()",
                        "modal.gpu.L40S()",
                    )
                )
            roll = r.random()
            if gpu_ref and roll < 0.6:
                return gpu_ref
            if gpu_ref == "GPU_TYPE" and roll < 0.75:
                return f'f"{{GPU_TYPE}}:{r.choice((1, 2))}"'
            if roll < 0.82:
                return f'["{r.choice(("H100", "H200"))}", "{r.choice(("A100-80GB:2", "A100-80GB", "L40S"))}"]'
            return f'"{self.gpu_literal()}"'

        def decorator(target: str, *, gpu: bool, is_cls: bool) -> None:
            """Append an @app.function / @app.cls decorator, maybe with the file's mistake."""
            kind = mistake if target == deco_mistake_at and mistake else ""
            parts = ["image=image"]
            detail = ""
            if gpu:
                g = gpu_value(kind)
                parts.append(f"gpu={g}")
                if kind in ("gpu-typo", "gpu-count", "gpu-object"):
                    detail = f"gpu={g}"
            if kind == "timeout-range":
                t = r.choice(("48 * HOURS" if minutes_style else "172800", "0", "100_000"))
                parts.append(f"timeout={t}")
                detail = f"timeout={t}"
            elif kind == "missing-timeout":
                detail = "no timeout="
            elif gpu or r.random() < 0.5:
                parts.append(f"timeout={timeout_expr()}")
            if volume:
                parts.append("volumes={CACHE_DIR: volume}")
            if kind == "removed-kwarg":
                kw = r.choice(
                    (
                        "container_idle_timeout=300",
                        "keep_warm=1",
                        "concurrency_limit=10",
                        "allow_concurrent_inputs=20",
                        f"container_idle_timeout={r.choice((60, 120, 600))}",
                    )
                )
                parts.append(kw)
                detail = kw
            elif r.random() < 0.4:
                window = r.choice((60, 120, 300, 600, "15 * MINUTES" if minutes_style else 900))
                parts.append(f"scaledown_window={window}")
            if is_cls and r.random() < 0.3:
                parts.append(f"min_containers={r.choice((0, 1))}")
            if r.random() < 0.2:
                parts.append(f"max_containers={r.choice((1, 4, 10, 20))}")
            head = f"@{app_var}.{'cls' if is_cls else 'function'}("
            one_line = head + ", ".join(parts) + ")"
            if len(one_line) <= 100:
                out.append(one_line)
                if kind:
                    note(kind, detail)
                return
            out.append(head)
            first = len(out) - 1
            at = first
            for part in parts:
                out.append(f"    {part},")
                if detail and detail in part:
                    at = len(out) - 1
            out.append(")")
            if kind:
                note(kind, detail, at)

        fn_names: list[str] = []
        for i in range(n_funcs):
            decorator(f"f{i}", gpu=i in gpu_funcs, is_cls=False)
            if i not in gpu_funcs and r.random() < 0.3:
                out.append(f"@modal.concurrent(max_inputs={r.choice((4, 10, 50))})")
            name = py.func_name()
            fn_names.append(name)
            argname, argtyp = r.choice((("config", "map"), ("items", "slist"), ("seed", "int"), ("path", "str")))
            out.append(f"def {name}({argname}: {RETURN_ANN[argtyp]}) -> dict[str, Any]:")
            out.append(f'    """{py.words(3, 9).capitalize()} on the {"GPU" if i in gpu_funcs else "CPU"}."""')
            out.append("    start = time.monotonic()")
            if i in gpu_funcs:
                out += [
                    "    import torch",
                    "",
                    '    device = torch.device("cuda")',
                    '    logger.info("running on %s", torch.cuda.get_device_name(device))',
                ]
            s = Scope()
            s.add(argname, argtyp)
            s.add("start", "float")
            body_start = len(out)
            py.body(s, "    ", r.choice((1, 2)), out, r.randint(2, 5))
            result = py.e_int(s, 1)
            py.consume(s, "    ", out, body_start, result)
            out.append(f'    return {{"elapsed": time.monotonic() - start, "{py.noun()}": {result}}}')
            out += ["", ""]

        cls_name = ""
        if has_cls:
            decorator("cls", gpu=True, is_cls=True)
            if r.random() < 0.4:
                out.append(f"@modal.concurrent(max_inputs={r.choice((4, 8, 16, 32, 100))})")
            cls_name = dom["cls"] if r.random() < 0.6 else py.class_name()
            out.append(f"class {cls_name}:")
            out.append(f'    model_id: str = modal.parameter(default="{model}")')
            out.append("")
            out.append(f"    @modal.enter({'snap=True' if r.random() < 0.15 else ''})")
            out += [
                "    def load(self) -> None:",
                "        import torch",
                "",
                '        self.device = "cuda"',
                f"        self.{py.noun()}_count = {py.int_lit()}",
                f'        logger.info("loaded %s in %.1fs", self.model_id, {py.float_lit()})',
                "",
            ]
            argname, argtyp = dom["arg"]
            out.append("    @modal.method()")
            out.append(
                f"    def {dom['method']}(self, {argname}: {RETURN_ANN[argtyp]}, "
                f"max_tokens: int = {r.choice((128, 256, 512, 1024))}) -> str:"
            )
            s = Scope()
            s.add(argname, argtyp)
            s.add("max_tokens", "int")
            body_start = len(out)
            py.body(s, "        ", r.choice((1, 2)), out, r.randint(2, 5))
            result = py.e_str(s, 2)
            py.consume(s, "        ", out, body_start, result)
            out.append(f"        return {result}")
            out.append("")
            if r.random() < 0.4:
                out += [
                    "    @modal.exit()",
                    "    def shutdown(self) -> None:",
                    f'        logger.info("{py.words(2, 5)}")',
                    "",
                ]
            out.append("")

        # a few more Modal call sites
        if mistake == "sandbox-list" or r.random() < 0.2:
            g = '["H100", "A100-80GB"]' if mistake == "sandbox-list" else f'"{r.choice(("T4", "L4", "A10G"))}"'
            out.append(f"def {py.func_name()}(code: str) -> str:")
            out.append(
                f'    sb = modal.Sandbox.create("python", "-c", code, image=image, app={app_var}, '
                f"gpu={g}, timeout={r.choice((300, 600, 1200))})"
            )
            if mistake == "sandbox-list":
                note("list-not-allowed", f"Sandbox.create(gpu={g})")
            out += ["    sb.wait()", "    return sb.stdout.read()", "", ""]
        if mistake == "web-endpoint" or r.random() < 0.3:
            out.append(f'@{app_var}.function(image=image.pip_install("fastapi[standard]"), timeout={timeout_expr()})')
            if mistake == "web-endpoint":
                out.append('@modal.web_endpoint(method="POST")')
                note("removed-api", "modal.web_endpoint")
            else:
                out.append('@modal.fastapi_endpoint(method="POST")')
            out.append(f"def {py.func_name()}(request: dict[str, Any]) -> dict[str, Any]:")
            out.append(f'    """{py.words(3, 8).capitalize()}."""')
            out.append(f'    result = {fn_names[0]}.remote(request.get("{py.noun()}", {{}}))')
            out += ['    return {"ok": True, "result": result}', "", ""]

        # the local entrypoint
        out.append(f"@{app_var}.local_entrypoint()")
        out.append(f"def main({py.snake(1)}: int = {r.randint(1, 64)}) -> None:")
        for name in fn_names:
            call = r.choice(("remote", "remote", "spawn", "local"))
            arg = py.expr(Scope(), "map", 0)
            if call == "spawn":
                out.append(f"    call = {name}.spawn({arg})")
                out.append(f"    result = call.get(timeout={r.choice((60, 600, 3600))})")
            else:
                out.append(f"    result = {name}.{call}({arg})")
            out.append("    print(result)")
        if cls_name:
            if mistake == "with-options-list":
                out.append(f'    model = {cls_name}.with_options(gpu=["H100", "L40S"])()')
                note("list-not-allowed", 'with_options(gpu=["H100", "L40S"])')
            elif r.random() < 0.3:
                out.append(f'    model = {cls_name}.with_options(gpu="{self.gpu_literal()}")()')
            else:
                out.append(f"    model = {cls_name}()")
            argname, argtyp = dom["arg"]
            out.append(f"    print(model.{dom['method']}.remote({py.expr(Scope(), argtyp, 0)}))")
        if r.random() < 0.4:
            items = ", ".join(py.expr(Scope(), "map", 0) for _ in range(r.randint(1, 3)))
            out.append(f"    for output in {fn_names[-1]}.map([{items}]):")
            out.append("        print(output)")
        # ordinary code before the Modal functions, up to the target size
        fill: list[str] = []
        size = sum(len(x) + 1 for x in out)
        while size < target:
            start = len(fill)
            if r.random() < 0.7:
                py.function(fill, register=False)
            else:
                py.class_dataclass(fill)
            fill.append("")
            size += sum(len(x) + 1 for x in fill[start:])
        out[fill_at:fill_at] = fill
        marks = [(k, d, i + len(fill) if i >= fill_at else i) for k, d, i in marks]
        added = py.insert_imports(out, imports_at, ["import modal"], relative=False)
        marks = [(k, d, i + added if i >= imports_at else i) for k, d, i in marks]
        text, line_of = tidy_map(out)
        mistakes = [{"kind": k, "detail": d, "line": line_of[i]} for k, d, i in marks]
        return ModalFile(text, mistakes)


MISTAKE_KINDS = (
    "gpu-typo",
    "gpu-count",
    "missing-timeout",
    "removed-kwarg",
    "gpu-object",
    "gpu-typo",
    "removed-kwarg",
    "missing-timeout",
    "timeout-range",
    "stub",
    "web-endpoint",
    "sandbox-list",
    "with-options-list",
    "image-gpu-list",
    "gpu-count",
    "gpu-object",
)


# --------------------------------------------------------------------------------------------
# Trees
# --------------------------------------------------------------------------------------------
#
# A master random.Random plans every file (path, kind, size, its own seed); each file's text then
# comes from random.Random(its seed) alone, so files can be rendered in parallel processes and
# the trees stay byte-identical whatever the number of processes.


@dataclass(frozen=True)
class FileSpec:
    rel: str
    kind: str  # "module" | "test" | "init" | "modal"
    size: int
    seed: int
    torch: bool = False
    noise: str = ""
    mistake: str = ""


def render(spec: FileSpec) -> tuple[str, list[dict[str, Any]], float]:
    """The text of one planned file, its mistakes (Modal files only) and the CPU seconds it took."""
    t0 = time.process_time()
    text, mistakes = _render(spec)
    return text, mistakes, time.process_time() - t0


def _render(spec: FileSpec) -> tuple[str, list[dict[str, Any]]]:
    rng = random.Random(spec.seed)
    if spec.kind == "modal":
        mf = ModalGen(rng).make(spec.size, spec.mistake or None)
        return mf.text, mf.mistakes
    py = PyGen(rng)
    if spec.kind == "init":
        text = f'"""{py.words(2, 8).capitalize()}."""\n'
        if rng.random() < 0.5:
            names = sorted({py.snake(1) for _ in range(rng.randint(1, 5))})
            text += f"\nfrom .{rng.choice(PACKAGE_WORDS)} import {', '.join(names)}\n\n__all__ = {names!r}\n"
        return text, []
    return py.module(spec.size, torch=spec.torch, test=spec.kind == "test", noise=spec.noise or None), []


@dataclass
class TreeStats:
    files: int = 0
    bytes: int = 0
    modal_files: int = 0
    noise_files: int = 0
    torch_files: int = 0
    mistakes: list[dict[str, Any]] = field(default_factory=list)
    digest: Any = field(default_factory=hashlib.sha256)
    cpu: float = 0.0  # seconds spent rendering, summed over processes

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "bytes": self.bytes,
            "sha256": self.digest.hexdigest(),
            "modal_files": self.modal_files,
            "noise_files": self.noise_files,
            "torch_files": self.torch_files,
            "mistake_files": len({m["path"] for m in self.mistakes}),
            "mistakes": self.mistakes,
        }


def mistake_plan(rng: random.Random, n: int) -> dict[int, str]:
    """Which of n Modal files get a mistake (about 15%), and which kind."""
    count = max(1, round(n * MISTAKE_SHARE)) if n else 0
    chosen = sorted(rng.sample(range(n), count))
    offset = rng.randrange(len(MISTAKE_KINDS))
    return {idx: MISTAKE_KINDS[(offset + k) % len(MISTAKE_KINDS)] for k, idx in enumerate(chosen)}


def modal_file_size(rng: random.Random) -> int:
    # the Modal part alone is 2 to 14 kB; with ordinary code added, files average about 7.7 kB
    return int(rng.triangular(2000, 9500, 3500))


def mixed_file_size(rng: random.Random) -> int:
    return int(min(MAX_FILE_BYTES - 1_000, max(2_000, rng.lognormvariate(math.log(7_000), 0.6))))


def plan_modal_tree(scale: float, seed: int) -> Iterator[FileSpec]:
    rng = random.Random(f"{seed}:modal")
    n = max(1, round(MODAL_FILES * scale))
    mistakes = mistake_plan(rng, n)
    used: set[str] = set()
    for i in range(n):
        topic = rng.choice(TOPIC_DIRS)
        sub = rng.choice(("", "", rng.choice(DOMAINS)["topic"]))
        rel = ""
        for attempt in range(20):
            stem = rng.choice(rng.choice(DOMAINS)["names"])
            if rng.random() < 0.6 or attempt > 10:
                stem = f"{stem}_{rng.choice(NOUNS)}"
            rel = "/".join(p for p in (topic, sub, stem + ".py") if p)
            if rel not in used:
                break
        else:
            rel = f"{topic}/{stem}_{i}.py"
        used.add(rel)
        yield FileSpec(rel, "modal", modal_file_size(rng), rng.getrandbits(63), mistake=mistakes.get(i, ""))


def package_dirs(rng: random.Random) -> Iterator[str]:
    """An endless sequence of package folders: top-level packages with nested subpackages."""
    tops = list(TOP_PACKAGES)
    rng.shuffle(tops)
    round_no = 0
    while True:
        for top in tops:
            name = top if round_no == 0 else f"{top}{round_no + 1}"
            yield f"{name}/src/{name}" if rng.random() < 0.3 else name
            for sub in rng.sample(PACKAGE_WORDS, rng.randint(3, 9)):
                yield f"{name}/{sub}"
                if rng.random() < 0.5:
                    for deeper in rng.sample(PACKAGE_WORDS, rng.randint(1, 4)):
                        if deeper != sub:
                            yield f"{name}/{sub}/{deeper}"
            yield f"{name}/tests"
        round_no += 1


def plan_mixed_tree(scale: float, seed: int) -> Iterator[FileSpec]:
    """Endless: the caller stops once the tree is big enough."""
    rng = random.Random(f"{seed}:mixed")
    py = PyGen(rng)  # for names only
    dirs = package_dirs(random.Random(f"{seed}:dirs"))
    n_modal_expected = max(1, round(MIXED_BYTES * scale / 9_200 / MIXED_MODAL_EVERY))
    mistakes = mistake_plan(random.Random(f"{seed}:mixed-mistakes"), n_modal_expected)
    files = 0
    modal = 0
    while True:
        folder = next(dirs)
        is_tests = folder.endswith("/tests")
        yield FileSpec(f"{folder}/__init__.py", "init", 0, rng.getrandbits(63))
        files += 1
        seen: set[str] = {"__init__"}
        for _ in range(rng.randint(3, 14)):
            stem = ""
            for _ in range(10):
                stem = ("test_" if is_tests else "") + py.snake(rng.choice((1, 1, 2)))
                if stem not in seen:
                    break
            else:
                stem = f"{stem}_{files}"
            seen.add(stem)
            rel = f"{folder}/{stem}.py"
            files += 1
            if modal < files / MIXED_MODAL_EVERY - 0.5:
                yield FileSpec(rel, "modal", modal_file_size(rng), rng.getrandbits(63), mistake=mistakes.get(modal, ""))
                modal += 1
                continue
            roll = rng.random()
            noise = ("gpu" if roll < NOISE_SHARE / 2 else "modal") if roll < NOISE_SHARE else ""
            torch = not is_tests and rng.random() < TORCH_SHARE
            yield FileSpec(
                rel,
                "test" if is_tests else "module",
                mixed_file_size(rng),
                rng.getrandbits(63),
                torch=torch,
                noise=noise,
            )


def build_tree(
    root: Path, specs: Iterator[FileSpec], target_bytes: int, pool: ProcessPoolExecutor | None, batch: int = 64
) -> TreeStats:
    """Render planned files (in ``pool`` if given) and write them until ``target_bytes`` is reached.

    For a finite plan, pass target_bytes=0 to write every file. The stopping file depends only on
    the plan, never on the batch size or the number of processes.
    """
    stats = TreeStats()
    done = False
    while not done:
        chunk = list(itertools.islice(specs, batch))
        if not chunk:
            break
        results = pool.map(render, chunk, chunksize=4) if pool is not None else map(render, chunk)
        for spec, (text, mistakes, cpu) in zip(chunk, results, strict=False):
            stats.cpu += cpu
            path = root / spec.rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = text.encode("utf-8")
            path.write_bytes(data)
            stats.digest.update(spec.rel.encode() + b"\0" + data)
            stats.files += 1
            stats.bytes += len(data)
            stats.modal_files += spec.kind == "modal"
            stats.noise_files += bool(spec.noise)
            stats.torch_files += spec.torch
            stats.mistakes += [{"path": spec.rel, **m} for m in mistakes]
            if target_bytes and stats.bytes >= target_bytes:
                done = True
                break
    return stats


# --------------------------------------------------------------------------------------------
# Self-check and entry points
# --------------------------------------------------------------------------------------------


def check_files(job: tuple[list[str], int]) -> tuple[list[tuple[str, str]], int, int, float]:
    """Parse each file with the Python 3.10 grammar; also compile every ``compile_every``-th one.

    Compiling catches what the parser lets through (a duplicate argument, ``await`` outside an
    async function, ``break`` outside a loop). Return (failures as (path, error), total bytes,
    files containing "import modal", CPU seconds).
    """
    t0 = time.process_time()
    paths, compile_every = job
    bad: list[tuple[str, str]] = []
    size = 0
    modal = 0
    for i, p in enumerate(paths):
        src = Path(p).read_bytes()
        size += len(src)
        modal += b"import modal" in src
        try:
            tree = ast.parse(src, p, feature_version=(3, 10))
            if i % compile_every == 0:
                compile(tree, p, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            bad.append((p, f"{type(exc).__name__}: {exc}"))
    return bad, size, modal, time.process_time() - t0


def self_check(out: Path, pool: ProcessPoolExecutor | None, *, full: bool = False) -> dict[str, Any]:
    """Check every file of the corpus; count files, bytes, Modal files and compressibility.

    Every file is parsed with ``ast.parse(feature_version=(3, 10))``; every Modal-tree file and
    one mixed-tree file in 5 (all with ``full``) is also compiled.
    """
    t0 = time.perf_counter()
    result: dict[str, Any] = {}
    failures: list[tuple[str, str]] = []
    cpu = 0.0
    for tree in ("modal", "mixed"):
        paths = sorted(str(p) for p in (out / tree).rglob("*.py"))
        every = 1 if full or tree == "modal" else 5
        chunks = [(paths[i::16], every) for i in range(16)]
        size = modal = 0
        for bad, n_bytes, n_modal, seconds in pool.map(check_files, chunks) if pool else map(check_files, chunks):
            cpu += seconds
            failures += bad
            size += n_bytes
            modal += n_modal
        sample = b"".join(Path(p).read_bytes() for p in paths[:: max(1, len(paths) // 300)])[:3_000_000]
        ratio = len(sample) / max(1, len(zlib.compress(sample, 6)))
        result[tree] = {"files": len(paths), "bytes": size, "zlib_ratio": round(ratio, 2), "import_modal_files": modal}
    result["parse_failures"] = len(failures)
    result["check_seconds"] = round(time.perf_counter() - t0, 2)
    result["check_cpu_seconds"] = round(cpu, 2)
    for p, err in failures[:10]:
        print(f"  INVALID {p}: {err}", file=sys.stderr)
    return result


def load_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest.json of a generated corpus, or None."""
    try:
        data: dict[str, Any] = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        return data
    except (OSError, ValueError):
        return None


def generate(
    out: Path,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    *,
    check: bool = True,
    force: bool = False,
    quiet: bool = False,
    jobs: int | None = None,
    full_check: bool = False,
) -> dict[str, Any]:
    """Write both trees and manifest.json into ``out``; return the manifest."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    out.mkdir(parents=True, exist_ok=True)
    existing = [out / t for t in ("modal", "mixed") if (out / t).exists()]
    if existing and load_manifest(out) is None and not force:
        raise SystemExit(
            f"{out} holds modal/ or mixed/ but no {MANIFEST}: not a generated corpus; pass --force to overwrite"
        )
    for path in existing:
        shutil.rmtree(path)
    (out / MANIFEST).unlink(missing_ok=True)

    def say(msg: str) -> None:
        if not quiet:
            print(msg, flush=True)

    jobs = jobs or os.cpu_count() or 1
    say(f"generating corpus in {out} (scale {scale}, seed {seed}, {jobs} processes)")
    pool = ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else None
    try:
        t0 = time.perf_counter()
        modal_stats = build_tree(out / "modal", plan_modal_tree(scale, seed), 0, pool)
        t1 = time.perf_counter()
        say(
            f"  modal/: {modal_stats.files} files, {modal_stats.bytes / 1e6:.2f} MB, "
            f"{modal_stats.as_dict()['mistake_files']} with a mistake ({t1 - t0:.1f} s)"
        )
        mixed_stats = build_tree(out / "mixed", plan_mixed_tree(scale, seed), int(MIXED_BYTES * scale), pool)
        t2 = time.perf_counter()
        say(
            f"  mixed/: {mixed_stats.files} files, {mixed_stats.bytes / 1e6:.2f} MB, "
            f"{mixed_stats.modal_files} Modal files ({mixed_stats.as_dict()['mistake_files']} with a mistake), "
            f"{mixed_stats.noise_files} gpu/modal look-alikes, {mixed_stats.torch_files} import torch "
            f"({t2 - t1:.1f} s)"
        )
        manifest: dict[str, Any] = {
            "generator_version": GENERATOR_VERSION,
            "seed": seed,
            "scale": scale,
            "generated_seconds": round(t2 - t0, 2),
            "trees": {"modal": modal_stats.as_dict(), "mixed": mixed_stats.as_dict()},
        }
        cpu = modal_stats.cpu + mixed_stats.cpu
        manifest["generated_cpu_seconds"] = round(cpu, 2)
        load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
        say(
            f"generated {(modal_stats.bytes + mixed_stats.bytes) / 1e6:.1f} MB in "
            f"{modal_stats.files + mixed_stats.files} files in {t2 - t0:.1f} s "
            f"({cpu:.1f} s CPU in {jobs} process{'es' if jobs > 1 else ''}{load})"
        )
        if check:
            chk = self_check(out, pool, full=full_check)
            manifest["check"] = chk
            for tree in ("modal", "mixed"):
                c = chk[tree]
                say(
                    f"  check {tree}/: {c['files']} files, {c['bytes'] / 1e6:.2f} MB, "
                    f"{c['import_modal_files']} with `import modal`, zlib ratio {c['zlib_ratio']}"
                )
            how = "all compiled" if full_check else "1 in 5 mixed files compiled"
            verdict = (
                f"every file parses as Python 3.10 ({how})"
                if chk["parse_failures"] == 0
                else f"{chk['parse_failures']} INVALID files"
            )
            say(f"  check: {verdict} ({chk['check_seconds']} s, {chk['check_cpu_seconds']} s CPU)")
    finally:
        if pool is not None:
            pool.shutdown()
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    if check and manifest["check"]["parse_failures"]:
        raise SystemExit(1)
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    ap.add_argument("--scale", type=float, default=1.0, help="shrink or grow both trees (default 1.0)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    ap.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="processes to render files with (default: all cores; the output does not depend on it)",
    )
    ap.add_argument("--no-check", action="store_true", help="skip the ast.parse/compile self-check")
    ap.add_argument(
        "--full-check",
        action="store_true",
        help="compile every file in the self-check (default: every Modal file, 1 mixed file in 5)",
    )
    ap.add_argument("--force", action="store_true", help="overwrite modal/ and mixed/ even without a manifest")
    args = ap.parse_args(argv)
    generate(
        args.out,
        args.scale,
        args.seed,
        check=not args.no_check,
        force=args.force,
        jobs=args.jobs,
        full_check=args.full_check,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
