"""Bad input through the real CLI: one clear line per unreadable file, naming it and the position;
the other files are still reported; exit 2; never a traceback, never a hang.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.engine import lint_bytes

GOOD = b'import modal\n\napp = modal.App("good")\n\n\n@app.function(gpu="A10:8", timeout=60)\ndef f() -> None: ...\n'
GOOD_FINDING = ("good.py", 6, 15, "MGL003")


def findings(stdout: str) -> list[tuple[str, int, int, str]]:
    """The findings of the JSON report, without its MGL000 items (files not checked: see `unchecked`)."""
    return [
        (Path(d["filename"]).name, d["location"]["row"], d["location"]["column"], d["code"])
        for d in json.loads(stdout)
        if d["code"] != "MGL000"
    ]


def unchecked(stdout: str) -> list[tuple[str, int, int, str]]:
    """The MGL000 items of the JSON report: (file name, row, column, message)."""
    return [
        (Path(d["filename"]).name, d["location"]["row"], d["location"]["column"], d["message"])
        for d in json.loads(stdout)
        if d["code"] == "MGL000"
    ]


def lint(folder: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    result = run_cli("--format", "json", "--no-cache", *(paths or (".",)), cwd=folder)
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout
    return result


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# ---- files that cannot be read: reported, the rest still linted, exit 2 -------------------------
def test_undecodable_bytes_name_file_row_column(tmp_path: Path) -> None:
    write(tmp_path, "good.py", GOOD)
    write(
        tmp_path,
        "bad.py",
        b'import modal\napp = modal.App()\nX = "\xc3\xa9\xc3\xa9\xff"\n@app.function(gpu="T4")\ndef f(): ...\n',
    )
    result = lint(tmp_path)
    assert result.returncode == 2
    assert findings(result.stdout) == [GOOD_FINDING]
    (line,) = error_lines(result)
    # row 3, column 8: `X = "` is 5 characters, then two characters (4 bytes) of UTF-8
    assert re.fullmatch(r"\./bad\.py:3:8: cannot decode as utf-8: invalid start byte \(byte 0xff\)", line), line


def test_syntax_error_names_file_row_column(tmp_path: Path) -> None:
    write(tmp_path, "good.py", GOOD)
    write(
        tmp_path, "broken.py", b"import modal\napp = modal.App()\n\n@app.function(gpu='T4', timeout=60\ndef f(): ...\n"
    )
    result = lint(tmp_path)
    assert result.returncode == 2
    assert findings(result.stdout) == [GOOD_FINDING]
    (line,) = error_lines(result)
    assert re.fullmatch(r"\./broken\.py:4:14: cannot parse: '\(' was never closed", line), line


def test_unterminated_string(tmp_path: Path) -> None:
    write(tmp_path, "broken.py", b'import modal\napp = modal.App()\n@app.function(gpu="T4)\ndef f(): ...\n')
    result = lint(tmp_path, "broken.py")
    assert result.returncode == 2
    (line,) = error_lines(result)
    assert line.startswith("broken.py:3:19: cannot parse: unterminated string literal"), line


def test_nul_byte(tmp_path: Path) -> None:
    write(tmp_path, "good.py", GOOD)
    write(
        tmp_path,
        "nul.py",
        b'import modal\napp = modal.App()\n@app.function(gpu="A10:8", timeout=60)\ndef f(): ...\nx = "ab\x00"\n',
    )
    result = lint(tmp_path, "nul.py", "good.py")
    assert result.returncode == 2
    assert findings(result.stdout) == [GOOD_FINDING]
    assert error_lines(result) == ["nul.py:5:8: cannot parse: source code contains a NUL byte"]
    assert unchecked(result.stdout) == [("nul.py", 5, 8, "cannot parse: source code contains a NUL byte")]


def test_unknown_encoding_cookie(tmp_path: Path) -> None:
    write(
        tmp_path,
        "cookie.py",
        b'#!/usr/bin/env python\n# -*- coding: klingon -*-\nimport modal\napp = modal.App()\napp.function(gpu="T4")\n',
    )
    result = lint(tmp_path, "cookie.py")
    assert result.returncode == 2
    (line,) = error_lines(result)
    assert line.startswith("cookie.py:2:1: cannot decode: "), line
    assert "klingon" in line, line


def test_bom_with_a_conflicting_cookie(tmp_path: Path) -> None:
    write(
        tmp_path, "bom.py", b'\xef\xbb\xbf# coding: latin-1\nimport modal\napp = modal.App()\napp.function(gpu="T4")\n'
    )
    result = lint(tmp_path, "bom.py")
    assert result.returncode == 2
    (line,) = error_lines(result)
    assert line.startswith("bom.py:1:1: cannot decode: "), line


def test_explicit_missing_file_and_broken_symlink(tmp_path: Path) -> None:
    write(tmp_path, "good.py", GOOD)
    (tmp_path / "dangling.py").symlink_to(tmp_path / "gone.py")
    result = lint(tmp_path, "dangling.py", "missing.py", "good.py")
    assert result.returncode == 2
    assert findings(result.stdout) == [GOOD_FINDING]
    assert error_lines(result) == ["dangling.py: no such file or folder", "missing.py: no such file or folder"]
    assert unchecked(result.stdout) == [
        ("dangling.py", 1, 1, "no such file or folder"),
        ("missing.py", 1, 1, "no such file or folder"),
    ]


def test_fifo_given_explicitly_is_an_error_not_a_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    write(tmp_path, "good.py", GOOD)
    result = lint(tmp_path, "pipe.py", "good.py")
    assert result.returncode == 2
    assert findings(result.stdout) == [GOOD_FINDING]
    assert error_lines(result) == ["pipe.py: cannot read: not a regular file"]
    assert unchecked(result.stdout) == [("pipe.py", 1, 1, "cannot read: not a regular file")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    locked = write(tmp_path, "locked.py", GOOD)
    locked.chmod(0)
    try:
        result = lint(tmp_path, "locked.py")
    finally:
        locked.chmod(0o644)
    assert result.returncode == 2
    assert error_lines(result) == ["locked.py: cannot read: Permission denied"]


# ---- files read correctly: encodings, BOMs, line endings -----------------------------------------
def test_empty_file(tmp_path: Path) -> None:
    write(tmp_path, "empty.py", b"")
    result = lint(tmp_path)
    assert result.returncode == 0
    assert json.loads(result.stdout) == []
    assert result.stderr == ""


def test_bom_and_utf8_cookie(tmp_path: Path) -> None:
    write(tmp_path, "bom.py", b"\xef\xbb\xbf# -*- coding: utf-8 -*-\n" + GOOD)
    result = lint(tmp_path)
    assert result.returncode == 1, result.stderr
    assert findings(result.stdout) == [("bom.py", 7, 15, "MGL003")]  # the BOM is not a column


def test_latin1_cookie_columns_count_characters(tmp_path: Path) -> None:
    source = (
        '# -*- coding: latin-1 -*-\nimport modal\napp = modal.App("caf\xe9")\n'
        'X = "\xe9\xe9\xe9"; app.function(gpu="A10:8", timeout=60)(print)\n'
    )
    write(tmp_path, "latin.py", source.encode("latin-1"))
    result = lint(tmp_path)
    assert result.returncode == 1, result.stderr
    column = source.splitlines()[3].index("gpu=") + 1
    assert findings(result.stdout) == [("latin.py", 4, column, "MGL003")]
    assert column == 25


def test_utf8_multibyte_columns_count_characters(tmp_path: Path) -> None:
    source = 'import modal\napp = modal.App()\nLABEL = "日本語"; app.function(gpu="A10:8", timeout=60)(print)\n'
    write(tmp_path, "wide.py", source.encode())
    result = lint(tmp_path)
    assert findings(result.stdout) == [("wide.py", 3, source.splitlines()[2].index("gpu=") + 1, "MGL003")]


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"], ids=["crlf", "cr"])
def test_windows_and_old_mac_line_endings(tmp_path: Path, newline: bytes) -> None:
    source = GOOD.replace(b"\n", newline) + b"x = 1; app.function(timeout=60, gpu='T4:9')(print)" + newline
    write(tmp_path, "crlf.py", source)
    result = lint(tmp_path)
    assert result.returncode == 1, result.stderr
    assert findings(result.stdout) == [("crlf.py", 6, 15, "MGL003"), ("crlf.py", 8, 33, "MGL003")]


def test_form_feed_does_not_shift_rows_or_noqa(tmp_path: Path) -> None:
    source = (
        b"import modal\n\x0c\napp = modal.App()\n# a \xe2\x80\xa8 line separator inside a comment\n"
        b'@app.function(gpu="A10:8", timeout=60)  # noqa: MGL003\ndef f(): ...\n'
        b'@app.function(gpu="A10:8", timeout=60)\ndef g(): ...\n'
    )
    write(tmp_path, "ff.py", source)
    result = lint(tmp_path)
    assert findings(result.stdout) == [("ff.py", 7, 15, "MGL003")]
    text = run_cli("--no-cache", "ff.py", cwd=tmp_path).stdout
    assert '   7 | @app.function(gpu="A10:8", timeout=60)' in text


def test_python_312_syntax_parses(tmp_path: Path) -> None:
    source = (
        b"import modal\n\napp = modal.App()\n\ntype Pair[T] = tuple[T, T]\n\n\n"
        b"def first[T](pair: Pair[T]) -> T:\n    return pair[0]\n\n\n"
        b'@app.function(gpu="A10:8", timeout=60)\ndef f() -> None: ...\n'
    )
    write(tmp_path, "pep695.py", source)
    result = lint(tmp_path)
    assert result.returncode == 1, result.stderr
    assert findings(result.stdout) == [("pep695.py", 12, 15, "MGL003")]


def test_file_without_modal_is_not_parsed(tmp_path: Path) -> None:
    """The prefilter: a broken file that cannot hold a Modal call is not an error of this tool."""
    write(tmp_path, "notes.py", b"def f(:\n")
    assert lint(tmp_path).returncode == 0


# ---- walking folders ----------------------------------------------------------------------------
def test_symlink_loop_folder_named_py_and_special_files(tmp_path: Path) -> None:
    write(tmp_path, "good.py", GOOD)
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "again").symlink_to(tmp_path / "loop")
    (tmp_path / "loop" / "up").symlink_to(tmp_path)
    write(tmp_path, "package.py/inner.py", GOOD)  # a folder named like a module: walked, not read
    (tmp_path / "dangling.py").symlink_to(tmp_path / "gone.py")
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "link.py").symlink_to(tmp_path / "good.py")  # a link to a file is linted
    result = lint(tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    assert sorted(findings(result.stdout)) == [
        GOOD_FINDING,
        ("inner.py", 6, 15, "MGL003"),
        ("link.py", 6, 15, "MGL003"),
    ]


def test_vcs_and_virtualenv_folders_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "good.py", GOOD)
    for folder in (".git", ".venv", "venv", ".tox", "site-packages"):
        write(tmp_path, f"{folder}/lib/bad.py", GOOD)
    write(tmp_path, "my-env/pyvenv.cfg", b"home = /usr/bin\n")  # a virtualenv under any name
    write(tmp_path, "my-env/lib/python3.12/site/bad.py", GOOD)
    result = lint(tmp_path)
    assert findings(result.stdout) == [GOOD_FINDING]


def test_explicit_file_inside_an_excluded_folder_is_linted(tmp_path: Path) -> None:
    write(tmp_path, "venv/tool.py", GOOD)
    result = lint(tmp_path, "venv/tool.py")
    assert findings(result.stdout) == [("tool.py", 6, 15, "MGL003")]


# ---- any bytes at all: never an exception ----------------------------------------------------------
SETTINGS = load_settings(select=["ALL"])
PREFIX = b'import modal\napp = modal.App()\n@app.function(gpu="'


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200) | st.text(max_size=120).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_bytes_give_findings_or_an_error(tail: bytes) -> None:
    for data in (PREFIX + tail, tail, b"# coding: latin-1\n" + PREFIX + tail):
        result = lint_bytes("fuzz.py", data, SETTINGS)
        if result.error is not None:
            assert result.error.path == "fuzz.py"
            assert result.error.message
            assert not result.diagnostics
        for d in result.diagnostics:
            assert d.row >= 1
            assert d.column >= 1


def test_a_crashing_rule_is_one_error_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import modal_gpu_lint.rules.registry as rules

    def crash(ctx: object) -> Iterator[object]:
        raise RuntimeError("boom")
        yield

    monkeypatch.setattr(rules, "CHECKERS", (crash,))
    result = lint_bytes("crash.py", GOOD, SETTINGS)
    assert result.error is not None
    assert not result.diagnostics
    assert str(result.error) == "crash.py: internal error: RuntimeError: boom (please report this)"
