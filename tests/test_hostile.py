"""Hostile input through the real CLI, as pre-commit would run it on every file of every commit.

Every run here has a time limit and is checked for the same things: no `Traceback` anywhere, no
death by signal (libcst's native parser segfaults on some input if it ever sees it), exit code
0/1/2 as documented, one stderr line naming the bad file (with `row:column` when known), and
the good file beside it still reported. Basic bad input (undecodable bytes, NUL, cookies, BOM,
CRLF, FIFOs, missing files, folder walks) is in tests/test_bad_input.py; this file covers what
tries to break the parser or the machine: deep nesting of every kind, long operator chains,
syntax errors of every kind, binary and foreign files named `.py`, huge files and lines, link
loops, unreadable files, hostile configuration files, and `--fix` on all of it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT

GOOD = b'import modal\n\napp = modal.App("good")\n\n\n@app.function(gpu="A10:8", timeout=60)\ndef f() -> None: ...\n'
GOOD_FINDING = ["good.py", 6, 15, "MGL003"]
HEAD = "import modal\n\napp = modal.App()\n"
TAIL = '\n@app.function(gpu="A10:8", timeout=60)\ndef planted() -> None: ...\n'  # MGL003 at column 15


def run(folder: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`python -m modal_gpu_lint ARGS` in `folder`, with the checks every hostile run must pass."""
    result = subprocess.run(
        [sys.executable, "-m", "modal_gpu_lint", "--no-cache", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,  # a hang fails the test instead of stalling the suite
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode in (0, 1, 2), f"exit {result.returncode} (a signal?)\n{result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    assert "Traceback" not in result.stdout, result.stderr[-4000:]
    return result


def findings(result: subprocess.CompletedProcess[str]) -> list[list[object]]:
    """The findings of the JSON report; its MGL000 items (files not checked) must be the files that
    stderr names, one each, at the row stderr gives."""
    items = json.loads(result.stdout)
    unchecked = sorted((Path(d["filename"]).name, d["location"]["row"]) for d in items if d["code"] == "MGL000")
    named = []
    for line in errors(result):
        where = re.match(r"^(.+?)(?::(\d+):\d+)?: ", line)
        assert where, line
        named.append((Path(where[1]).name, int(where[2] or 1)))
    assert unchecked == sorted(named), (unchecked, result.stderr)
    return sorted(
        [Path(d["filename"]).name, d["location"]["row"], d["location"]["column"], d["code"]]
        for d in items
        if d["code"] != "MGL000"
    )


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def lint_with_good(
    folder: Path, name: str, data: bytes, *extra: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Lint `name` (holding `data`) and a good file in one run; return the result and its error lines."""
    (folder / "good.py").write_bytes(GOOD)
    (folder / name).write_bytes(data)
    result = run(folder, "--format", "json", *extra, name, "good.py")
    assert GOOD_FINDING in findings(result), "the good file must still be reported"
    return result, errors(result)


def assert_one_error(lines: list[str], name: str, row: int | None, what: str = "cannot parse: ") -> str:
    """Exactly one error line, naming the file, at `row` (None: no position is known)."""
    assert len(lines) == 1, lines
    (line,) = lines
    if row is None:
        assert line.startswith(f"{name}: {what}"), line
    else:
        assert re.match(rf"{re.escape(name)}:{row}:\d+: {re.escape(what)}\S", line), line
    assert len(line) < 300, "one short line, not a dump"
    return line


# ---- nesting: brackets, blocks, chains -------------------------------------------------------
def nested(kind: str, depth: int) -> str:
    builders = {
        "parentheses": lambda: "x = " + "(" * depth + "1" + ")" * depth,
        "lists": lambda: "x = " + "[" * depth + "]" * depth,
        "dicts": lambda: "x = " + "{1: " * depth + "1" + "}" * depth,
        "calls": lambda: "x = " + "f(" * depth + ")" * depth,
        "subscripts": lambda: "x = a" + "[0]" * depth,
        "attributes": lambda: "x = a" + ".b" * depth,
        "additions": lambda: "x = 1" + " + 1" * depth,
        "ands": lambda: "x = a" + " and a" * depth,
        "negations": lambda: "x = " + "-" * depth + "1",
        "lambdas": lambda: "x = " + "lambda: " * depth + "1",
        "conditionals": lambda: "x = 1" + " if a else 1" * depth,
        "fstrings": lambda: "x = " + 'f"{' * depth + "1" + '}"' * depth,
        "ifs": lambda: "".join(" " * i + "if x:\n" for i in range(depth)) + " " * depth + "pass",
        "defs": lambda: "".join(" " * i + f"def f{i}():\n" for i in range(depth)) + " " * depth + "pass",
        "elifs": lambda: "if x == 0:\n    pass\n" + "".join(f"elif x == {i}:\n    pass\n" for i in range(1, depth)),
    }
    return builders[kind]()


# What Python itself accepts is linted (planted finding reported at its row); what it refuses, or
# what would crash or stall libcst, is one clear error at the right row. Before these fixes, 140
# nested lists or 1000 `elif`s (valid Python) ended in a RecursionError, and 1500 nested lists or
# 10000 `and`s killed the process with a segmentation fault.
ACCEPTED = [("lists", 150), ("dicts", 150), ("calls", 150), ("parentheses", 199), ("subscripts", 300),
            ("additions", 800), ("ands", 900), ("negations", 900), ("lambdas", 500), ("conditionals", 300),
            ("ifs", 99), ("elifs", 900)]  # fmt: skip
REFUSED = [("parentheses", 300, 2), ("lists", 5000, 2), ("dicts", 300, 2), ("calls", 300, 2),
           ("fstrings", 2000, 2), ("ifs", 300, 102), ("defs", 300, 102), ("subscripts", 5000, 2),
           ("additions", 5000, 2), ("ands", 20000, 2), ("negations", 100000, None), ("lambdas", 20000, None),
           ("attributes", 20000, 2), ("elifs", 1500, None)]  # fmt: skip


@dataclass
class Batch:
    """One CLI run over a folder of hostile files and a good one, then `--fix` on the same folder."""

    folder: Path
    data: dict[str, bytes]
    lint: subprocess.CompletedProcess[str]
    fix: subprocess.CompletedProcess[str]

    def error_of(self, name: str, result: subprocess.CompletedProcess[str] | None = None) -> list[str]:
        return [line for line in errors(result or self.lint) if line.startswith(name + ":")]

    def findings_of(self, name: str) -> list[list[object]]:
        return [f for f in findings(self.lint) if f[0] == name]


def batch(folder: Path, files: dict[str, bytes]) -> Batch:
    """Lint `files` and good.py in one run (the good file must be reported), then `--fix` them all."""
    (folder / "good.py").write_bytes(GOOD)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    lint = run(folder, "--format", "json", ".", timeout=600)
    assert GOOD_FINDING in findings(lint), "the good file must still be reported"
    fix = run(folder, "--fix", ".", timeout=600)
    return Batch(folder, files, lint, fix)


def deep_file(kind: str, depth: int) -> bytes:
    return ("import modal\n" + nested(kind, depth) + "\napp = modal.App()\n" + TAIL).encode()


@pytest.fixture(scope="module")
def accepted(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    return batch(tmp_path_factory.mktemp("accepted"), {f"{k}_{d}.py": deep_file(k, d) for k, d in ACCEPTED})


@pytest.fixture(scope="module")
def refused(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    return batch(tmp_path_factory.mktemp("refused"), {f"{k}_{d}.py": deep_file(k, d) for k, d, _ in REFUSED})


@pytest.mark.parametrize(("kind", "depth"), ACCEPTED, ids=[f"{k}-{d}" for k, d in ACCEPTED])
def test_deep_but_valid_python_is_linted(accepted: Batch, kind: str, depth: int) -> None:
    name = f"{kind}_{depth}.py"
    source = accepted.data[name].decode()
    row = source.count("\n", 0, source.index('@app.function(gpu="A10:8"')) + 1
    assert accepted.error_of(name) == []
    assert [name, row, 15, "MGL003"] in accepted.findings_of(name)


@pytest.mark.parametrize(("kind", "depth", "row"), REFUSED, ids=[f"{k}-{d}" for k, d, _ in REFUSED])
def test_too_deep_is_one_clear_error(refused: Batch, kind: str, depth: int, row: int | None) -> None:
    name = f"{kind}_{depth}.py"
    assert refused.lint.returncode == 2
    lines = refused.error_of(f"./{name}")
    if row is None:  # Python gives no position for some of these
        assert len(lines) == 1, lines
        assert "cannot parse: " in lines[0], lines
    else:
        assert_one_error(lines, f"./{name}", row)
    assert refused.findings_of(name) == []
    # --fix: the same error, the file untouched
    assert refused.fix.returncode == 2
    assert refused.error_of(f"./{name}", refused.fix) == lines
    assert (refused.folder / name).read_bytes() == refused.data[name]


# ---- syntax errors of every kind: the row where Python says it is -----------------------------
SYNTAX_ERRORS = {
    "unterminated-string": ('x = "abc\n', 2),
    "unterminated-triple-quote": ('x = 1\ns = """abc\n\nmore\n', 3),
    "unexpected-indent": ("x = 1\n    y = 2\n", 3),
    "unindent-mismatch": ("if x:\n    y = 1\n  z = 2\n", 4),
    "tabs-and-spaces": ("if True:\n\tx = 1\n        y = 2\n", 4),
    "missing-block": ("if x:\ny = 1\n", 3),
    "unmatched-close": ("x = (1))\n", 2),
    "mismatched-brackets": ("x = (1]\n", 2),
    "never-closed": ("x = [1,\ny = 2\n", 2),
    "dollar": ("x = $y\n", 2),
    "backtick": ("x = `y`\n", 2),
    "unicode-arrow": ("x = a \u2192 b\n", 2),
    "bad-number": ("x = 1abc\n", 2),
    "leading-zeros": ("x = 0777\n", 2),
    "python2-print": ('print "gpu"\n', 2),
    "python2-exec": ('exec "x = 1"\n', 2),
    "python2-print-chevron": ("print >>f, x\n", None),  # valid Python 3 (a comparison): linted
    "bad-def": ("def f(:\n    pass\n", 2),
    "double-equals": ("x = = 1\n", 2),
    "bare-walrus": ("x := 1\n", 2),
    "keyword-as-name": ("class = 1\n", 2),
    "bad-conversion": ('x = f"{a!z}"\n', 2),
    "dangling-backslash": ("x = 1 + \\\n", 2),
    "return-outside-function": ("return 1\n", None),  # a compile-time error, not a syntax error: linted
}


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    files = {f"{name}.py": ("import modal  # gpu\n" + body).encode() for name, (body, _) in SYNTAX_ERRORS.items()}
    return batch(tmp_path_factory.mktemp("syntax"), files)


@pytest.mark.parametrize("name", list(SYNTAX_ERRORS))
def test_syntax_errors(broken: Batch, name: str) -> None:
    _, row = SYNTAX_ERRORS[name]
    path = f"./{name}.py"
    lines = broken.error_of(path)
    if row is None:  # Python 3 accepts it: linted like any file
        assert lines == []
    else:
        assert_one_error(lines, path, row)
        assert broken.fix.returncode == 2
        assert broken.error_of(path, broken.fix) == lines
    assert (broken.folder / f"{name}.py").read_bytes() == broken.data[f"{name}.py"]  # never touched


# ---- files that are not Python at all --------------------------------------------------------
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
FOREIGN = {
    "png": (PNG + b"modal gpu", "cannot decode"),
    "elf": (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) + b"modal gpu", "cannot "),
    "gzip": (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03modal gpu\xff\xfe", "cannot decode"),
    "utf16": ("import modal\napp.function(gpu='T4')\n".encode("utf-16"), None),  # no "modal" in its bytes: skipped
    "shell": (b"#!/bin/sh\n# modal gpu\nset -e\necho $(ls) | grep gpu\n", "cannot parse: "),
    "batch": (b"@echo off\r\nREM modal gpu\r\nset X=1\r\n", "cannot parse: "),
    "yaml": (b"modal:\n  gpu: A100-80G\n  timeout: [1, 2\n", "cannot parse: "),
    "markdown": (b'# Using modal\n\nSet `gpu="H100"` in `@app.function`.\n', "cannot parse: "),
    "json-with-null": (b'{"modal": {"gpu": ["A100-80G", null], "ok": true}}\n', None),  # valid Python: no finding
    "latin1-no-cookie": ("# modal gpu caf\xe9\n".encode("latin-1"), "cannot decode"),
}


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    return batch(tmp_path_factory.mktemp("foreign"), {f"{kind}.py": data for kind, (data, _) in FOREIGN.items()})


@pytest.mark.parametrize("kind", list(FOREIGN))
def test_files_that_are_not_python(foreign: Batch, kind: str) -> None:
    _, what = FOREIGN[kind]
    path = f"./{kind}.py"
    lines = foreign.error_of(path)
    if what is None:
        assert lines == []
        assert foreign.findings_of(f"{kind}.py") == []
    else:
        assert len(lines) == 1, lines
        assert what in lines[0], lines
        assert foreign.error_of(path, foreign.fix) == lines
    assert (foreign.folder / f"{kind}.py").read_bytes() == foreign.data[f"{kind}.py"]


@pytest.mark.parametrize("name", ["json.py", "typing.py", "enum.py", "re.py", "dataclasses.py"])
def test_a_file_named_like_a_stdlib_module(tmp_path: Path, name: str) -> None:
    """`python -m` puts the current folder on sys.path: these must not shadow the stdlib."""
    (tmp_path / name).write_bytes(b"raise SystemExit('imported by mistake')  # modal gpu\n")
    (tmp_path / "good.py").write_bytes(GOOD)
    result = run(tmp_path, "--format", "json", ".")
    assert findings(result) == [GOOD_FINDING]
    assert result.returncode == 1


# ---- size: huge files, huge lines --------------------------------------------------------------
def peak_memory_of(folder: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the CLI under a small parent that reports its peak RSS in kB (Linux, macOS: bytes)."""
    probe = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr)\n"
        "sys.stderr.write('PEAK %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.exit(r.returncode)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "modal_gpu_lint", "--no-cache", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    *rest, peak = result.stderr.rstrip("\n").split("\n")
    assert peak.startswith("PEAK "), result.stderr[-2000:]
    kilobytes = int(peak.split()[1]) // (1024 if sys.platform == "darwin" else 1)
    result.stderr = "\n".join(rest)
    assert "Traceback" not in result.stderr
    return result, kilobytes


def test_a_5_mb_file_finishes_in_bounded_memory(tmp_path: Path) -> None:
    blob = base64.b64encode(os.urandom(3_700_000)).decode()
    lines = [blob[i : i + 76] for i in range(0, len(blob), 76)]
    source = HEAD + 'WEIGHTS = """\n' + "\n".join(lines) + '\n"""\n' + "TABLE = {\n"
    source += "".join(f'    "k{i}": ("v{i}", {i}),\n' for i in range(2000)) + "}\n" + TAIL
    (tmp_path / "big.py").write_text(source)
    (tmp_path / "good.py").write_bytes(GOOD)
    assert len(source) > 5_000_000
    result, kilobytes = peak_memory_of(tmp_path, "--format", "json", "big.py", "good.py")
    assert result.returncode == 1, result.stderr
    row = source.count("\n", 0, source.index('@app.function(gpu="A10:8"')) + 1
    assert findings(result) == sorted([GOOD_FINDING, ["big.py", row, 15, "MGL003"]])
    assert kilobytes < 1_000_000, f"peak memory {kilobytes // 1024} MB for a 5 MB file"


def test_a_5_mb_file_without_modal_is_not_parsed(tmp_path: Path) -> None:
    (tmp_path / "data.py").write_text("X = [\n" + "    1,\n" * 800_000 + "]\n")
    (tmp_path / "good.py").write_bytes(GOOD)
    result, kilobytes = peak_memory_of(tmp_path, "--format", "json", ".")
    assert findings(result) == [GOOD_FINDING]
    assert kilobytes < 300_000


@pytest.mark.parametrize("kind", ["string", "comment", "bytes", "flat-list"])
def test_a_very_long_line(tmp_path: Path, kind: str) -> None:
    size = 100_000 if kind == "flat-list" else 1_000_000  # libcst parses list items at ~100 kB/s
    line = {
        "string": 'NOTE = "' + "a" * size + '"',
        "comment": "# " + "gpu " * (size // 4),
        "bytes": "DATA = b'" + "\\x00" * (size // 4) + "'",
        "flat-list": "XS = [" + "1, " * (size // 3) + "]",
    }[kind]
    # a finding on the long line itself (after the data: its column counts every character before)
    call = 'app.function(gpu="A10:8", timeout=60)(print)'
    whole = f"{call}  {line}" if kind == "comment" else f"{line}; {call}"
    source = HEAD + whole + "\n" + TAIL
    result, lines = lint_with_good(tmp_path, "long.py", source.encode())
    assert lines == []
    assert result.returncode == 1
    column = whole.index("gpu=") + 1
    assert ["long.py", 4, column, "MGL003"] in findings(result)
    assert ["long.py", 6, 15, "MGL003"] in findings(result)
    text = run(tmp_path, "long.py")  # the text format prints the source line: it must not choke
    assert text.returncode == 1
    assert "long.py:4:" in text.stdout


# ---- links, folders, unreadable files ----------------------------------------------------------
def test_symlink_loop_named_explicitly(tmp_path: Path) -> None:
    (tmp_path / "a.py").symlink_to(tmp_path / "b.py")
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")
    (tmp_path / "good.py").write_bytes(GOOD)
    result = run(tmp_path, "--format", "json", "a.py", "good.py")
    assert result.returncode == 2
    assert findings(result) == [GOOD_FINDING]
    (line,) = errors(result)
    assert "a.py" in line
    walked = run(tmp_path, "--format", "json", ".")  # met while walking: skipped like a dangling link
    assert findings(walked) == [GOOD_FINDING]
    assert walked.returncode == 1


def test_folder_named_like_a_python_file_given_explicitly(tmp_path: Path) -> None:
    (tmp_path / "x.py").mkdir()
    (tmp_path / "x.py" / "inner.py").write_bytes(GOOD)
    (tmp_path / "x.py" / "notes.txt").write_text("modal gpu")
    result = run(tmp_path, "--format", "json", "x.py")
    assert findings(result) == [["inner.py", 6, 15, "MGL003"]]
    assert result.returncode == 1


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux's /proc")
def test_a_file_that_cannot_be_read_even_by_root(tmp_path: Path) -> None:
    """Tests run as root, where mode 000 does not stop reading; /proc/self/mem refuses a plain read
    (EIO) to everyone, so a link to it is an unreadable `.py` file."""
    (tmp_path / "mem.py").symlink_to("/proc/self/mem")
    (tmp_path / "good.py").write_bytes(GOOD)
    result = run(tmp_path, "--format", "json", "mem.py", "good.py")
    assert result.returncode == 2
    assert findings(result) == [GOOD_FINDING]
    (line,) = errors(result)
    assert line.startswith("mem.py: cannot read: "), line
    fixed = run(tmp_path, "--fix", "mem.py", "good.py")
    assert fixed.returncode == 2
    assert errors(fixed)[0].startswith("mem.py: cannot read: ")


# ---- hostile configuration -------------------------------------------------------------------
HOSTILE_CONFIGS: dict[str, object] = {
    "table-is-a-number": (b"[tool]\nmodal-gpu-lint = 5\n", "must be a table"),
    "gpus-array-of-tables": (b"[[tool.modal-gpu-lint.gpus.X]]\nmemory-gb = 80\n", "gpus.X"),
    "memory-nan": pytest.param(
        b"[tool.modal-gpu-lint.gpus.X]\nmemory-gb = nan\n",
        "gpus.X.memory-gb",
    ),
    "memory-inf": pytest.param(
        b"[tool.modal-gpu-lint.gpus.X]\nmemory-gb = inf\n",
        "gpus.X.memory-gb",
    ),
    "max-count-huge": (b"[tool.modal-gpu-lint.gpus.X]\nmemory-gb = 8\nmax-count = 99999999999999999999\n", None),
    "select-nested-list": (b'[tool.modal-gpu-lint]\nselect = [["MGL001"]]\n', "select must be a list of strings"),
    "per-file-ignores-nested": (b'[tool.modal-gpu-lint.per-file-ignores]\n"x.py" = { a = 1 }\n', "per-file-ignores"),
    "duplicate-key": (b"[tool.modal-gpu-lint]\nselect = []\nselect = []\n", "invalid TOML"),
    "not-utf8": (b'[tool.modal-gpu-lint]\nselect = ["MGL0"] # caf\xe9\n', "cannot read: not UTF-8"),
    "bom": (b'\xef\xbb\xbf[tool.modal-gpu-lint]\nselect = ["MGL0"]\n', "invalid TOML"),  # as pip's tomllib says
    "tool-is-a-number": (b"tool = 3\n", None),  # no [tool.modal-gpu-lint] table here: the defaults
    "tool-is-a-string": (b'tool = "modal-gpu-lint"\n', None),
    "nul": (b"[tool.modal-gpu-lint]\x00\n", "pyproject.toml"),
    "unicode-key": ('[tool.modal-gpu-lint]\n"s\u00e9lect" = []\n'.encode(), "unknown key"),
}


@pytest.mark.parametrize(
    ("config", "message"),
    [case if isinstance(case, type(pytest.param())) else pytest.param(*case) for case in HOSTILE_CONFIGS.values()],
    ids=list(HOSTILE_CONFIGS),
)
def test_hostile_config(tmp_path: Path, config: bytes, message: str | None) -> None:
    (tmp_path / "pyproject.toml").write_bytes(config)
    (tmp_path / "good.py").write_bytes(GOOD)
    result = run(tmp_path, "--format", "json", ".")
    if message is None:  # accepted: linted as usual
        assert result.returncode == 1, result.stderr
        assert findings(result) == [GOOD_FINDING], result.stderr
        return
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = errors(result)
    assert line.startswith("modal-gpu-lint: error: "), line
    assert "pyproject.toml" in line, line
    assert message in line, line


@pytest.mark.parametrize("kind", ["folder", "binary", "loop"])
def test_config_option_pointing_at_something_odd(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "conf.toml"
    if kind == "folder":
        target.mkdir()
    elif kind == "binary":
        target.write_bytes(PNG)
    else:
        (tmp_path / "other.toml").symlink_to(target)
        target.symlink_to(tmp_path / "other.toml")
    (tmp_path / "good.py").write_bytes(GOOD)
    result = run(tmp_path, "--config", "conf.toml", "good.py")
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = errors(result)
    assert line.startswith("modal-gpu-lint: error: "), line
    assert "conf.toml" in line, line


# ---- the same input through the flake8 plugin ---------------------------------------------------
def test_flake8_survives_deep_files(tmp_path: Path) -> None:
    """flake8 parses these fine with Python's parser; the plugin must not crash flake8 with them."""
    (tmp_path / "ands.py").write_bytes(deep_file("ands", 20000))  # libcst would segfault: skipped
    (tmp_path / "elifs.py").write_bytes(deep_file("elifs", 900))  # deep but fine: linted
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "MGL", "ands.py", "elifs.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    source = (tmp_path / "elifs.py").read_text()
    row = source.count("\n", 0, source.index('@app.function(gpu="A10:8"')) + 1
    assert result.stdout.splitlines() == [
        f"elifs.py:{row}:15: MGL003 'A10:8' asks for 8 x A10: a container can have 1 to 4"
    ]
