"""`modal-gpu-lint [--stdin-filename NAME] -`: standard input checked as the file NAME, as ruff does."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import run_cli

APP = """\
import modal

app = modal.App("stdin")


@app.function(gpu="A100-80G", timeout=60, keep_warm=1)
def f() -> None: ...
"""
FIXED = APP.replace("keep_warm=1", "min_containers=1")
CONCISE = [
    "app.py:6:15: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?",
    "app.py:6:43: MGL201 [*] keep_warm= was renamed min_containers= (it raises since client 1.4.0)",
]


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_stdin_is_linted_under_the_given_name(tmp_path: Path) -> None:
    result = run_cli("--format", "concise", "--stdin-filename", "app.py", "-", cwd=tmp_path, input=APP.encode())
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[:2] == CONCISE
    assert result.stdout.splitlines()[2] == "Found 2 errors."
    assert result.stderr == ""


def test_stdin_without_a_name_is_called_dash(tmp_path: Path) -> None:
    result = run_cli("--format", "concise", "-", cwd=tmp_path, input=APP.encode())
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[0] == CONCISE[0].replace("app.py:", "-:", 1)
    assert "no such file" not in result.stderr


def test_stdin_text_format_shows_the_stdin_line_not_a_file_on_disk(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("# a different file on disk\n", encoding="utf-8")
    result = run_cli("--stdin-filename", "app.py", "-", cwd=tmp_path, input=APP.encode())
    assert '   6 | @app.function(gpu="A100-80G", timeout=60, keep_warm=1)' in result.stdout.splitlines()


def test_stdin_json_names_the_file(tmp_path: Path) -> None:
    result = run_cli("--format", "json", "--stdin-filename", "sub/app.py", "-", cwd=tmp_path, input=APP.encode())
    items = json.loads(result.stdout)
    assert [(i["code"], i["location"]["row"], i["filename"]) for i in items] == [
        ("MGL001", 6, os.path.join(str(tmp_path.resolve()), "sub", "app.py")),
        ("MGL201", 6, os.path.join(str(tmp_path.resolve()), "sub", "app.py")),
    ]
    assert items[1]["fix"]["edits"][0]["content"] == "min_containers"


def test_per_file_ignores_apply_by_the_stdin_name(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.modal-gpu-lint]\nper-file-ignores = { "scripts/*" = ["MGL001"] }\n', encoding="utf-8"
    )
    ignored = run_cli("--format", "concise", "--stdin-filename", "scripts/a.py", "-", cwd=tmp_path, input=APP.encode())
    kept = run_cli("--format", "concise", "--stdin-filename", "app.py", "-", cwd=tmp_path, input=APP.encode())
    assert [line.split()[1] for line in ignored.stdout.splitlines()[:1]] == ["MGL201"]
    assert [line.split()[1] for line in kept.stdout.splitlines()[:2]] == ["MGL001", "MGL201"]


def test_excluded_stdin_name_is_not_linted_and_fix_echoes_it(tmp_path: Path) -> None:
    config = '[tool.modal-gpu-lint]\nextend-exclude = ["generated"]\n'
    (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    lint = run_cli("--stdin-filename", "generated/app.py", "-", cwd=tmp_path, input=APP.encode())
    assert (lint.returncode, lint.stdout.strip()) == (0, "All checks passed!")
    fix = run_cli("--fix", "--stdin-filename", "generated/app.py", "-", cwd=tmp_path, input=APP.encode())
    assert (fix.returncode, fix.stdout) == (0, APP)


def test_config_is_found_from_the_stdin_names_folder(tmp_path: Path) -> None:
    sub = tmp_path / "project"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[tool.modal-gpu-lint]\nselect = ["MGL2"]\n', encoding="utf-8")
    result = run_cli("--format", "concise", "--stdin-filename", "project/app.py", "-", cwd=tmp_path, input=APP.encode())
    assert [line.split()[1] for line in result.stdout.splitlines() if line.startswith("project/")] == ["MGL201"]


def test_fix_prints_the_fixed_source_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    before = tree(tmp_path)
    result = run_cli("--fix", "--no-cache", "--stdin-filename", "app.py", "-", cwd=tmp_path, input=APP.encode())
    assert result.stdout == FIXED
    assert tree(tmp_path) == before  # app.py on disk untouched, no cache or other file written
    assert result.returncode == 1  # MGL001 remains (its fix is unsafe)
    assert "app.py:6:15: MGL001" in result.stderr
    assert "Found 2 errors (1 fixed, 1 remaining)." in result.stderr


def test_fix_with_unsafe_fixes_leaves_nothing(tmp_path: Path) -> None:
    result = run_cli("--fix", "--unsafe-fixes", "--stdin-filename", "app.py", "-", cwd=tmp_path, input=APP.encode())
    assert result.stdout == FIXED.replace('"A100-80G"', '"A100-80GB"')
    assert result.returncode == 0, result.stderr


def test_fix_of_unparsable_input_prints_it_unchanged_and_exits_2(tmp_path: Path) -> None:
    broken = "import modal\napp = modal.App()\n@app.function(gpu='T4'\ndef f(: ...\n"
    result = run_cli("--fix", "--stdin-filename", "app.py", "-", cwd=tmp_path, input=broken.encode())
    assert result.stdout == broken
    assert result.returncode == 2
    assert result.stderr == "app.py:4:1: cannot parse: invalid syntax\n"
    assert "Traceback" not in result.stderr


def test_diff_prints_a_diff_and_writes_nothing(tmp_path: Path) -> None:
    result = run_cli("--diff", "--stdin-filename", "app.py", "-", cwd=tmp_path, input=APP.encode())
    assert result.stdout.splitlines()[:2] == ["--- app.py", "+++ app.py"]
    assert '+@app.function(gpu="A100-80G", timeout=60, min_containers=1)' in result.stdout.splitlines()
    assert result.returncode == 1
    assert list(tmp_path.iterdir()) == []


def test_dash_beside_other_paths_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("-", "app.py", cwd=tmp_path, input=APP.encode())
    assert result.returncode == 2
    assert "'-' (standard input) must be the only path" in result.stderr


def test_stdin_filename_alone_reads_stdin_and_beside_a_path_is_a_usage_error(tmp_path: Path) -> None:
    alone = run_cli("--format", "concise", "--stdin-filename", "app.py", cwd=tmp_path, input=APP.encode())
    assert alone.stdout.splitlines()[:2] == CONCISE
    beside = run_cli("--stdin-filename", "app.py", "src", cwd=tmp_path, input=APP.encode())
    assert beside.returncode == 2
    assert "--stdin-filename names standard input: give the path '-' (or no path)" in beside.stderr
