"""The gate on Python's tree (analysis/gate.py) never drops a file the call finder has a site in.

- unit cases: every way a site or a removed name can be written passes; ordinary files that
  mention "modal" (multimodal, a modal dialog, a generated protobuf module) are dropped;
- the invariant, on every lint and fix fixture, on ../shared/corpus and on generated programs
  with identifiers swapped at random: where the gate says no, libcst's call finder finds no site
  and no event;
- gated and ungated runs give the same diagnostics and errors on the same files.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT
from hypothesis import given, note, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled
from modal_programs import Program, programs

from modal_gpu_lint.analysis import gate
from modal_gpu_lint.analysis.cst_parse import parse_module
from modal_gpu_lint.analysis.gate import may_have_sites
from modal_gpu_lint.analysis.sites import find_sites
from modal_gpu_lint.rules.table import RULES
from modal_gpu_lint.run.config import Settings
from modal_gpu_lint.run.engine import FileResult, lint_bytes

SETTINGS = Settings(selected=frozenset(RULES))  # every rule, also those off by default
CORPUS = ROOT.parent / "shared" / "corpus"


def gated(text: str) -> bool:
    return may_have_sites(ast.parse(text), text)


def has_sites(text: str) -> bool:
    facts = find_sites(parse_module(text))
    return bool(facts.sites or facts.events)


# ---- what passes, what is dropped -----------------------------------------------------------------
PASS = {
    "app function": 'import modal\napp = modal.App()\n@app.function(gpu="H100")\ndef f(): ...\n',
    "bare decorator": "import modal\napp = modal.App()\n@app.function\ndef f(): ...\n",
    "App from modal": 'from modal import App as A\napp = A("x")\n@app.cls(gpu="T4")\nclass C: ...\n',
    "annotated app": 'import modal\napp: modal.App = modal.App("x")\napp.server(gpu="A10")\n',
    "app in a function": "def make():\n    import modal\n    a = modal.App()\n    return a.function(gpu='T4')\n",
    "App.lookup": "import modal\nmodal.App.lookup('x').function(gpu='T4')\n",
    "sibling app": "from .common import app\n@app.function(gpu='H100')\ndef f(): ...\n",
    "sibling app renamed": "from common import stub_app as s\ns.function(gpu='H100')(print)\n",
    "module app": "import common\n@common.app.cls(gpu='L4')\nclass C: ...\n",
    "sandbox": "import modal\nmodal.Sandbox.create(gpu='T4')\n",
    "sandbox aio": "from modal import Sandbox\nSandbox.create.aio(gpu='T4')\n",
    "image chain": "import modal\nimage = modal.Image.debian_slim()\nimage = image.pip_install('x', gpu='T4')\n",
    "image from modal.image": "from modal.image import Image\nImage.debian_slim().run_function(f, gpu='A10')\n",
    "remote lookup with_options": "import modal\nmodal.Cls.from_name('a', 'B').with_options(gpu='T4')\n",
    "gpu object": "import modal\nmodal.gpu.A100(size='80GB')\n",
    "gpu import": "from modal.gpu import A100\n",
    "gpu module import": "import modal.gpu as g\n",
    "gpu name import": "from modal import gpu\n",
    "stub import": "from modal import Stub\n",
    "stub call": "import modal\nstub = modal.Stub('x')\n",
    "web endpoint": "import modal\n@modal.web_endpoint()\ndef f(): ...\n",
    "web endpoint import": "from modal import web_endpoint\n",
    "image through names": (
        "import modal\nbase = modal.Image.debian_slim()\nimage = base.pip_install('x')\n"
        "image.run_function(f, gpu='T4')\n"
    ),
    "create imported": "from modal.Sandbox import create\ncreate.aio(gpu='T4')\n",
    "remote lookup through a name": (
        "from modal import Function as F\nf = F.from_name('a', 'b')\nf.with_options(gpu='T4')\n"
    ),
    "gpu module attribute": "import modal\nmodal.gpu.function()\n",
    "import_module": "import importlib\nm = importlib.import_module('modal')\nm.App().function(gpu='T4')\n",
    "split attribute": "from .common import app\n(app.  # the App\n    function)(gpu='T4')\n",
    "continued attribute": "from .common import app\napp.\\\nfunction(gpu='T4')\n",
    "import in try": "try:\n    import modal\nexcept ImportError:\n    modal = None\nmodal.gpu.T4()\n",
    "import in match": "match x:\n    case 1:\n        from modal import Stub\n",
}
DROP = {
    "multimodal": "import torch\n\ndef multimodal(x, gpu=True, timeout=3):\n    return x.cuda()\n",
    "dialog": "class ModalDialog:\n    def show(self, timeout=1):\n        self.gpu = None\n",
    "protobuf": "from modal_proto import api_pb2\nDESCRIPTOR = api_pb2.GPUConfig(gpu_type='H100', timeout=3)\n",
    "modal without a site": "import modal\n\ndef run(app):\n    return app.run(timeout=3)\n",
    "not an app": "from flask import app\napp.function(gpu='T4')\n",
    "method of a parameter": "def f(x):\n    return x.function(gpu='T4')\n",
    "function word": "from .common import app\n# app.run() and a function(gpu) call\nfunction(gpu='T4')\n",
    "modal's own image class": (
        "import modal\nclass _Image:\n    def f(self):\n        return self.pip_install(gpu='T4')\n"
    ),
    "modal's own sandbox": "import modal\ndef make(cls):\n    return cls.create(gpu='T4').with_options(gpu='T4')\n",
    "import_module elsewhere": "import importlib\nm = importlib.import_module('json')\nm.App().function(gpu='T4')\n",
    "star import": "from modal import *\nApp().function(gpu='T4')\n",  # the call finder ignores `*` too
    "image without modal.Image": "import modal\nimage = builder.pip_install('x', gpu='T4')\n",
}


@pytest.mark.parametrize("name", sorted(PASS))
def test_passes(name: str) -> None:
    text = PASS[name]
    assert gated(text), name
    assert has_sites(text), f"{name}: the case must really hold a site"


@pytest.mark.parametrize("name", sorted(DROP))
def test_drops(name: str) -> None:
    text = DROP[name]
    assert not has_sites(text), f"{name}: the case must hold no site"
    assert not gated(text), name


def test_a_dropped_file_is_not_parsed_by_libcst(monkeypatch: pytest.MonkeyPatch) -> None:
    import modal_gpu_lint.run.engine as engine

    calls: list[str] = []
    monkeypatch.setattr(engine, "parse_cst", lambda path, text: calls.append(path))
    result = lint_bytes("multimodal.py", DROP["multimodal"].encode(), Settings())
    assert result == FileResult("multimodal.py")
    assert calls == []


# ---- the invariant on real and generated files ----------------------------------------------------
def _python_files(*folders: Path) -> list[Path]:
    return sorted(p for folder in folders if folder.is_dir() for p in folder.rglob("*.py"))


def _check_invariant(text: str, label: str) -> bool:
    """Where the gate says no, the call finder finds nothing; returns the gate's answer."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return True  # the engine hands such a file to libcst as it is
    if may_have_sites(tree, text):
        return True
    try:
        module = parse_module(text)
    except Exception:
        return False
    facts = find_sites(module)
    assert not facts.sites, label
    assert not facts.events, label
    return False


def _same_results(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[FileResult, FileResult]:
    data = path.read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(gate, "may_have_sites", lambda tree, text: True)
        ungated = lint_bytes(str(path), data, SETTINGS)
    return lint_bytes(str(path), data, SETTINGS), ungated


def test_fixtures_gated_and_ungated_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    files = _python_files(FIXTURES / "lint", FIXTURES / "fix")
    assert len(files) > 100
    dropped = 0
    for path in files:
        text = path.read_bytes().decode("utf-8-sig", "replace")
        dropped += not _check_invariant(text, str(path))
        with_gate, without = _same_results(path, monkeypatch)
        assert with_gate == without, path
    assert dropped > 0  # the fixtures hold files the gate rules out (the *_ok ones without Modal)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not here")
def test_corpus_gated_and_ungated_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    files = _python_files(CORPUS)
    assert len(files) > 200
    findings = 0
    for path in files:
        _check_invariant(path.read_text("utf-8", "replace"), str(path))
        with_gate, without = _same_results(path, monkeypatch)
        assert with_gate == without, path
        findings += len(with_gate.diagnostics)
    assert findings > 100


# Identifiers a mutation swaps in: every name the gate or the call finder looks at, and others.
NAMES = [
    "modal",
    "md",
    "modal_proto",
    "App",
    "Stub",
    "lookup",
    "from_name",
    "Cls",
    "Function",
    "Image",
    "Sandbox",
    "create",
    "aio",
    "gpu",
    "web_endpoint",
    "function",
    "cls",
    "server",
    "with_options",
    "pip_install",
    "run_function",
    "app",
    "stub_app",
    "common",
    "flask",
    "x",
    "image",
    "registry",
]
SNIPPETS = [
    "from .common import app\n@app.function(gpu='T4')\ndef f():\n    pass\n",
    "import common\n@common.app.cls(gpu='L4')\nclass C:\n    pass\n",
    "from common import stub_app as s\nf = s.function(gpu='H100')(print)\nf.with_options(gpu='T4')\n",
    "import modal\nx = modal.Cls.from_name('a', 'B')\nx.with_options(gpu='T4')\n",
    "from modal import Sandbox, Image\nSandbox.create.aio(gpu='T4')\nImage.debian_slim().pip_install(gpu='T4')\n",
    "import modal.gpu as g\nfrom modal import Stub, web_endpoint\nStub().function(gpu=g.A100())\n",
    "import modal.gpu\nfrom modal.gpu import A100 as X\n",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A generated Modal program or a snippet, with some identifiers replaced by others."""
    if draw(st.booleans()):
        program: Program = draw(programs())
        text = program.text
    else:
        text = "".join(draw(st.lists(st.sampled_from(SNIPPETS), min_size=1, max_size=3)))
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    names = [i for i, t in enumerate(tokens) if t.type == tokenize.NAME and t.string in NAMES]
    chosen = draw(st.lists(st.sampled_from(names), max_size=8, unique=True)) if names else []
    lines = text.splitlines(keepends=True)
    for index in sorted(chosen, key=lambda i: tokens[i].start, reverse=True):
        token = tokens[index]
        row, start = token.start
        line = lines[row - 1]
        lines[row - 1] = line[:start] + draw(st.sampled_from(NAMES)) + line[start + len(token.string) :]
    return "".join(lines)


@settings(max_examples=scaled(3))  # cheap examples; a rare shape is what finds a hole
@given(mutated())
def test_generated_programs_keep_the_invariant(text: str) -> None:
    note(text)
    _check_invariant(text, "generated")
