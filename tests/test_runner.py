"""The parallel runner, the prefilter and the rule table that keeps libcst off the cached path."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, run_cli

from modal_gpu_lint.rules import table as rule_table
from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.engine import lint_file, may_have_findings
from modal_gpu_lint.run.runner import PARALLEL_MIN_BYTES, Stats, lint_paths

LINT = sorted((FIXTURES / "lint").glob("*.py"))
FIX = FIXTURES / "fix"


def test_rule_table_is_current() -> None:
    """config.py and output.py read rule_table.py; regenerate it after changing a rule."""
    hint = "run `python -m modal_gpu_lint.rules.table` to regenerate modal_gpu_lint/rule_table.py"
    assert rule_table.live_table() == rule_table.TABLE, hint
    assert rule_table.rules_digest() == rule_table.DIGEST, hint
    assert rule_table.RULES is rule_table.TABLE


def test_a_stale_rule_table_falls_back_to_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rule_table, "DIGEST", "stale")
    assert rule_table._current() == rule_table.live_table()


@pytest.fixture(scope="module")
def settings_all(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return load_settings(start=tmp_path_factory.mktemp("root"), select=["ALL"])


def test_workers_give_the_same_results_as_one_process(settings_all) -> None:  # type: ignore[no-untyped-def]
    assert sum(p.stat().st_size for p in LINT) >= PARALLEL_MIN_BYTES
    paths = [str(p) for p in LINT]
    serial = [lint_file(p, settings_all, edits=True) for p in paths]
    stats = Stats()
    parallel = lint_paths(paths, settings_all, edits=True, use_cache=False, jobs=2, stats=stats)
    assert stats.workers == 2
    assert stats.parsed == len(paths)
    assert parallel == serial
    assert sum(len(r.diagnostics) for r in serial) > 50


def test_one_file_is_linted_in_process(settings_all) -> None:  # type: ignore[no-untyped-def]
    stats = Stats()
    results = lint_paths([str(LINT[0])], settings_all, use_cache=False, jobs=2, stats=stats)
    assert stats.workers == 0
    assert stats.parsed == 1
    assert results == [lint_file(str(LINT[0]), settings_all)]


def test_cli_on_a_folder_matches_file_by_file(tmp_path: Path, settings_all) -> None:  # type: ignore[no-untyped-def]
    """The CLI (workers when the machine has several CPUs) reports what linting each file alone does."""
    folder = tmp_path / "lint"
    shutil.copytree(FIXTURES / "lint", folder)
    result = run_cli("--select", "ALL", "--format", "json", "--no-cache", ".", cwd=folder)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("["), result.stderr
    found = sorted(
        (Path(d["filename"]).name, d["location"]["row"], d["location"]["column"], d["code"])
        for d in json.loads(result.stdout)
    )
    expected = sorted(
        (Path(d.path).name, d.row, d.column, d.code)
        for p in sorted(folder.glob("*.py"))
        for d in lint_file(str(p), settings_all).diagnostics
    )
    assert found == expected


def test_fix_in_parallel_gives_each_expected_file(tmp_path: Path) -> None:
    """Many files fixed in one run (so in workers): each result is the fixture's `.out.py`."""
    inputs = [p for p in sorted(FIX.glob("*.in.py")) if not p.read_bytes().startswith(b"# fix-args:")]
    assert inputs
    copies = PARALLEL_MIN_BYTES // sum(p.stat().st_size for p in inputs) + 1
    for copy in range(copies):
        for path in inputs:
            target = tmp_path / f"copy{copy}" / (path.name[: -len(".in.py")] + ".py")
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(path, target)
    assert sum(p.stat().st_size for p in tmp_path.rglob("*.py")) >= PARALLEL_MIN_BYTES
    result = run_cli("--fix", "--no-cache", ".", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    for copy in range(copies):
        for path in inputs:
            fixed = tmp_path / f"copy{copy}" / (path.name[: -len(".in.py")] + ".py")
            assert fixed.read_bytes() == path.with_name(path.name.replace(".in.py", ".out.py")).read_bytes(), fixed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b'import modal\n@app.function(gpu="T4")\n', True),
        (b'from .common import app\n\n@app.function(gpu="T4")\ndef f(): ...\n', True),  # no "modal" at all
        (b"from .common import app\n\n@app.cls(gpu=GPU)\nclass C: ...\n", True),
        (b"import modal\nfrom modal import Stub\n", True),
        (b"import modal\nx = 1\n", False),  # Modal, but nothing any rule looks at
        (b"def f(timeout=3):\n    return self.functions(timeout)\n", False),  # `.functions`, not `.function`
        (b"gpu = detect_gpu()\n", False),
        (b"", False),
    ],
)
def test_prefilter(text: bytes, expected: bool) -> None:
    assert may_have_findings(text) is expected


def test_python_m_in_a_spawned_worker_does_not_run_the_cli() -> None:
    """`__main__.py` is imported by 'spawn' workers (macOS, Windows): it must not run the CLI there."""
    import runpy

    namespace = runpy.run_module("modal_gpu_lint.__main__", run_name="__mp_main__")
    assert "main" in namespace
    assert sys.argv  # and nothing exited


def test_lookalikes_start_no_worker(tmp_path: Path, settings_all) -> None:  # type: ignore[no-untyped-def]
    """Files the text prefilter lets through but the gate rules out (a multimodal model, `modal`
    imported without a call site) are settled in the parent: no worker starts for them, however
    many; a Modal file among them is parsed, in this process (too little work for workers)."""
    lookalike = "import torch\n\n\ndef multimodal(x, gpu=True, timeout=3):\n    return x.cuda()\n" * 50
    paths = []
    for n in range(60):
        path = tmp_path / f"lookalike{n}.py"
        path.write_text(lookalike)
        paths.append(str(path))
    assert sum(Path(p).stat().st_size for p in paths) >= 2 * PARALLEL_MIN_BYTES
    modal_file = tmp_path / "app.py"
    modal_file.write_text('import modal\n\napp = modal.App()\n\n\n@app.function(gpu="H100:9")\ndef f(): ...\n')
    stats = Stats()
    results = lint_paths([*paths, str(modal_file)], settings_all, use_cache=False, jobs=2, stats=stats)
    assert (stats.workers, stats.parsed) == (0, 1)
    assert [[d.code for d in r.diagnostics] for r in results] == [[]] * 60 + [["MGL101", "MGL003"]]
