"""The result cache, through the real CLI in throw-away projects.

A run served from the cache must print exactly what a run without it prints, and anything that can
change a verdict (the file, the configuration, the catalog, the linter's version) must invalidate it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import modal_gpu_lint
from modal_gpu_lint.facts.catalog import catalog_text
from modal_gpu_lint.findings import Diagnostic
from modal_gpu_lint.run import cache
from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.engine import FileResult

PYPROJECT = """\
[project]
name = "demo"

[tool.modal-gpu-lint]
extend-select = ["MGL009"]
"""

BAD = """\
import modal

app = modal.App("demo")


@app.function(gpu="A10:8", timeout=60)
def too_many() -> None: ...


@app.function(gpu="a100-80gb", timeout=60)
def spelling() -> None: ...


@app.function(gpu="ACME-X1", timeout=60)
def custom() -> None: ...


@modal.web_endpoint()
def hook() -> None: ...
"""

CLEAN = """\
import modal

app = modal.App("clean")


@app.function(gpu="H100", timeout=600)
def train() -> None: ...
"""

BROKEN = 'import modal\n\n@app.function(gpu="T4"\ndef f(:\n'

PLAIN = "def add(a: int, b: int) -> int:\n    return a + b\n"


def mgl(*args: str, cwd: Path, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    """`python -m modal_gpu_lint ARGS` in `cwd`, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if k != cache.ENV_FOLDER}
    command = [sys.executable, *(("-X", "importtime") if importtime else ()), "-m", "modal_gpu_lint", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def same(a: subprocess.CompletedProcess[str], b: subprocess.CompletedProcess[str]) -> None:
    assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {"pyproject.toml": PYPROJECT, "src/bad.py": BAD, "src/clean.py": CLEAN, "src/broken.py": BROKEN}
    files["src/plain.py"] = PLAIN
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def cache_folder(root: Path) -> Path:
    return root / cache.FOLDER


def index_files(root: Path) -> list[Path]:
    return sorted(cache_folder(root).glob("*.json"))


# ---- a warm run is the cold run ------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["text", "json", "concise", "github", "sarif"])
def test_warm_run_prints_what_the_cold_run_printed(project: Path, fmt: str) -> None:
    cold = mgl("--format", fmt, ".", cwd=project)
    assert cold.returncode == 2, cold.stderr  # findings and a file that cannot be parsed
    assert "src/broken.py" in cold.stderr
    assert index_files(project), "the cold run wrote no cache"
    warm = mgl("--format", fmt, ".", cwd=project)
    same(warm, cold)
    same(warm, mgl("--format", fmt, "--no-cache", ".", cwd=project))


def test_warm_run_parses_nothing(project: Path) -> None:
    """Every file comes from the cache, so libcst (needed for any parse) is never even imported."""
    cold = mgl(".", cwd=project, importtime=True)
    assert "libcst" in cold.stderr
    warm = mgl(".", cwd=project, importtime=True)
    imported = [line.split("|")[-1].strip() for line in warm.stderr.splitlines() if line.startswith("import time:")]
    assert imported, (
        "a warm run imported libcst: a file was parsed, or modal_gpu_lint/rule_table.py is out of date "
        "(run `python -m modal_gpu_lint.rules.table`)"
    )
    assert not [m for m in imported if m.startswith("libcst")], (
        "a warm run imported libcst: a file was parsed, or modal_gpu_lint/rule_table.py is out of date "
        "(run `python -m modal_gpu_lint.rules.table`)"
    )
    assert "modal_gpu_lint.rules.registry" not in imported
    assert warm.stdout == cold.stdout


def test_json_after_text_has_the_fix_edits(project: Path) -> None:
    """Entries made for text output lack the edits JSON shows: JSON must not take them."""
    mgl(".", cwd=project)
    warm = json.loads(mgl("--format", "json", ".", cwd=project).stdout)
    fresh = json.loads(mgl("--format", "json", "--no-cache", ".", cwd=project).stdout)
    assert warm == fresh
    assert any(d["fix"] and d["fix"]["edits"] for d in warm)


# ---- what invalidates an entry ---------------------------------------------------------------------
def test_an_edited_file_is_linted_again_even_with_the_same_size_and_mtime(project: Path) -> None:
    mgl(".", cwd=project)
    bad = project / "src" / "bad.py"
    before = os.stat(bad)
    edited = BAD.replace('gpu="A10:8"', 'gpu="A10:4"')
    assert len(edited) == len(BAD)
    bad.write_text(edited, encoding="utf-8")
    os.utime(bad, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(bad).st_size == before.st_size
    assert os.stat(bad).st_mtime_ns == before.st_mtime_ns
    warm = mgl("--format", "concise", ".", cwd=project)
    assert "MGL003" not in warm.stdout
    same(warm, mgl("--format", "concise", "--no-cache", ".", cwd=project))


def test_an_edited_file_of_another_size_is_linted_again(project: Path) -> None:
    mgl(".", cwd=project)
    (project / "src" / "clean.py").write_text(CLEAN.replace('"H100"', '"H100:9"'), encoding="utf-8")
    warm = mgl("--format", "concise", ".", cwd=project)
    assert "src/clean.py:6:15: MGL003" in warm.stdout
    same(warm, mgl("--format", "concise", "--no-cache", ".", cwd=project))


CONFIG_CHANGES = {
    "select": 'select = ["MGL003"]\n',
    "ignore": 'extend-select = ["MGL009"]\nignore = ["MGL003"]\n',
    "per-file-ignores": 'extend-select = ["MGL009"]\n[tool.modal-gpu-lint.per-file-ignores]\n"src/bad.py" = ["MGL0"]\n',
    "gpus": 'extend-select = ["MGL009"]\n[tool.modal-gpu-lint.gpus.ACME-X1]\nmemory-gb = 80\n',
    "gpus-change": 'extend-select = ["MGL009"]\n[tool.modal-gpu-lint.gpus.A10]\nmax-count = 8\n',
}


@pytest.mark.parametrize("change", sorted(CONFIG_CHANGES))
def test_a_changed_config_invalidates(project: Path, change: str) -> None:
    base = mgl("--format", "concise", ".", cwd=project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(PYPROJECT.replace('extend-select = ["MGL009"]\n', CONFIG_CHANGES[change]), encoding="utf-8")
    warm = mgl("--format", "concise", ".", cwd=project)
    assert warm.stdout != base.stdout, "the change should change the findings"
    same(warm, mgl("--format", "concise", "--no-cache", ".", cwd=project))


def test_command_line_selection_invalidates(project: Path) -> None:
    base = mgl("--format", "concise", ".", cwd=project)
    assert "MGL003" in base.stdout
    narrowed = mgl("--format", "concise", "--ignore", "MGL003", ".", cwd=project)
    assert "MGL003" not in narrowed.stdout
    same(narrowed, mgl("--format", "concise", "--ignore", "MGL003", "--no-cache", ".", cwd=project))
    same(mgl("--format", "concise", ".", cwd=project), base)


def test_a_gpu_added_in_pyproject_takes_effect(project: Path) -> None:
    assert "ACME-X1" in mgl("--format", "concise", ".", cwd=project).stdout
    with (project / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n[tool.modal-gpu-lint.gpus.ACME-X1]\nmemory-gb = 80\n")
    assert "ACME-X1" not in mgl("--format", "concise", ".", cwd=project).stdout


def test_the_key_covers_version_catalog_and_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = load_settings(start=tmp_path)
    key = cache.run_key(settings)
    assert cache.run_key(settings) == key
    assert cache.run_key(settings, catalog=catalog_text() + "\n# a new row\n") != key
    assert cache.run_key(settings, version="99.0.0") != key
    monkeypatch.setattr(modal_gpu_lint, "__version__", "99.0.0")
    assert cache.run_key(settings) != key
    monkeypatch.undo()
    assert cache.run_key(load_settings(start=tmp_path, ignore=["MGL003"])) != key
    assert cache.run_key(load_settings(start=tmp_path, extend_select=["MGL009"])) != key


def test_the_package_digest_covers_the_rules_and_facts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An edited rule or fact must not be served from a cache made before the edit."""
    package = tmp_path / "modal_gpu_lint"
    for sub in ("run", "rules", "facts"):
        (package / sub).mkdir(parents=True)
        (package / sub / "x.py").write_text("A = 1\n")
    monkeypatch.setattr(cache, "_PACKAGE", package)
    digest = cache.package_digest.__wrapped__  # the function, not its once-per-process cache
    before = digest()
    for sub in ("rules", "facts"):
        (package / sub / "x.py").write_text("A = 2\n")
        assert digest() != before
        before = digest()
    assert Path(cache.__file__).resolve().parent.parent == Path(modal_gpu_lint.__file__).resolve().parent
    monkeypatch.undo()
    assert Path(modal_gpu_lint.__file__).resolve().parent == cache._PACKAGE


def test_the_key_is_the_same_in_every_process(project: Path) -> None:
    """Sets are hashed differently in each process: a key built on their order would never hit."""
    config = project / "pyproject.toml"
    config.write_text(
        PYPROJECT + '[tool.modal-gpu-lint.per-file-ignores]\n"src/*" = ["MGL001", "MGL002", "MGL003", "MGL1"]\n',
        encoding="utf-8",
    )
    code = "from modal_gpu_lint.run import cache, config; print(cache.run_key(config.load_settings()))"
    keys = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=project,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(keys) == 1
    assert keys.pop().strip()


# ---- paths ------------------------------------------------------------------------------------------
def test_per_file_ignores_follow_the_path_not_the_content(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        PYPROJECT + '[tool.modal-gpu-lint.per-file-ignores]\n"tests/*" = ["MGL003"]\n', encoding="utf-8"
    )
    (project / "tests").mkdir()
    (project / "tests" / "bad.py").write_text(BAD, encoding="utf-8")
    cold = mgl("--format", "concise", ".", cwd=project)
    assert "src/bad.py:6:15: MGL003" in cold.stdout
    assert "tests/bad.py:6:15: MGL003" not in cold.stdout
    same(mgl("--format", "concise", ".", cwd=project), cold)


def test_the_path_printed_is_the_one_given(project: Path) -> None:
    mgl(".", cwd=project)
    for args in (["src/bad.py"], [str(project / "src" / "bad.py")], ["./src"]):
        warm = mgl("--format", "concise", *args, cwd=project)
        same(warm, mgl("--format", "concise", "--no-cache", *args, cwd=project))


def test_the_cache_lives_at_the_project_root(project: Path) -> None:
    mgl(".", cwd=project / "src")
    assert index_files(project)
    assert not (project / "src" / cache.FOLDER).exists()


def test_cache_folder_from_the_environment(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("ci-cache")
    env = {**os.environ, cache.ENV_FOLDER: str(elsewhere)}
    command = [sys.executable, "-m", "modal_gpu_lint", "."]
    subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=300, env=env)
    assert list(elsewhere.glob("*.json"))
    assert not cache_folder(project).exists()


# ---- --no-cache, damage, git -----------------------------------------------------------------------
def test_no_cache_writes_no_cache_folder(project: Path) -> None:
    mgl("--no-cache", ".", cwd=project)
    mgl("--no-cache", "--format", "json", ".", cwd=project)
    mgl("--no-cache", "--diff", ".", cwd=project)
    assert not cache_folder(project).exists()


@pytest.mark.parametrize(
    "damage",
    [
        b"\x00\xff not json",
        b'{"format": 1, "key": "',  # cut short
        b"[]",
    ],
)
def test_a_corrupt_index_is_ignored(project: Path, damage: bytes) -> None:
    cold = mgl(".", cwd=project)
    for path in index_files(project):
        path.write_bytes(damage)
    same(mgl(".", cwd=project), cold)
    same(mgl(".", cwd=project), cold)  # ... and was rewritten


def test_corrupt_entries_are_ignored(project: Path) -> None:
    cold = mgl("--format", "json", ".", cwd=project)
    for path in index_files(project):
        data = json.loads(path.read_bytes())
        for number, entry in enumerate(data["files"].values()):
            # a diagnostic of the wrong shape, a row that is not a number, an error of the wrong shape
            entry[6] = [["MGL001", "x", "three"]] if number % 3 == 0 else entry[6]
            if entry[6]:
                entry[6][0][2] = "1" if number % 3 == 1 else entry[6][0][2]
            entry[5] = ["only one"] if number % 3 == 2 else entry[5]
        path.write_text(json.dumps(data), encoding="utf-8")
    same(mgl("--format", "json", ".", cwd=project), cold)


def test_the_cache_folder_ignores_itself_in_git(project: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    mgl(".", cwd=project)
    assert (cache_folder(project) / ".gitignore").read_text().splitlines()[-1] == "*"
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "src/bad.py" in status
    assert cache.FOLDER not in status


# ---- --fix -------------------------------------------------------------------------------------------
def test_fix_rewrites_a_cached_file_and_the_next_run_sees_the_new_text(project: Path) -> None:
    before = mgl("--format", "concise", ".", cwd=project)
    assert "MGL204" in before.stdout
    assert "MGL009" in before.stdout
    fixed = mgl("--fix", ".", cwd=project)
    text = (project / "src" / "bad.py").read_text(encoding="utf-8")
    assert "@modal.fastapi_endpoint()" in text, fixed.stdout
    assert 'gpu="A100-80GB"' in text, fixed.stdout
    after = mgl("--format", "concise", ".", cwd=project)
    assert "MGL204" not in after.stdout
    assert "MGL009" not in after.stdout
    same(after, mgl("--format", "concise", "--no-cache", ".", cwd=project))
    assert (project / "src" / "clean.py").read_text(encoding="utf-8") == CLEAN


def test_fix_output_is_the_same_with_a_warm_cache(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = tmp_path_factory.mktemp("copy")
    for path in project.rglob("*.py"):
        (other / path.relative_to(project)).parent.mkdir(parents=True, exist_ok=True)
        (other / path.relative_to(project)).write_bytes(path.read_bytes())
    (other / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    mgl(".", cwd=project)  # warm
    same(mgl("--fix", ".", cwd=project), mgl("--fix", "--no-cache", ".", cwd=other))
    for path in project.rglob("*.py"):
        assert path.read_bytes() == (other / path.relative_to(project)).read_bytes()


# ---- the index itself ----------------------------------------------------------------------------------
def test_stat_matches_are_not_trusted_for_racily_recent_files(tmp_path: Path) -> None:
    """A file changed shortly before it was read may change again within the same timestamp tick."""
    store = cache.Cache(tmp_path / "c", "k")
    result = FileResult("a.py", [Diagnostic("a.py", "MGL003", "m", 1, 2, 1, 5)])
    now = 10_000_000_000_000
    recent = SimpleNamespace(st_size=10, st_mtime_ns=now - 1_000, st_ctime_ns=now - 1_000, st_ino=7)
    old = SimpleNamespace(st_size=10, st_mtime_ns=now - 5 * 10**9, st_ctime_ns=now - 5 * 10**9, st_ino=7)
    store.put("/p/a.py", recent, "d1", now, result, False)  # type: ignore[arg-type]
    assert store.get_by_stat("/p/a.py", recent, False) is None  # type: ignore[arg-type]
    assert store.get_by_digest("/p/a.py", "d1", recent, False, now) is not None  # type: ignore[arg-type]
    assert store.get_by_digest("/p/a.py", "d2", recent, False, now) is None  # type: ignore[arg-type]
    store.put("/p/a.py", old, "d1", now, result, False)  # type: ignore[arg-type]
    hit = store.get_by_stat("/p/a.py", old, False)  # type: ignore[arg-type]
    assert hit is not None
    assert hit.result("x/a.py").diagnostics[0].path == "x/a.py"
    changed = SimpleNamespace(st_size=10, st_mtime_ns=old.st_mtime_ns, st_ctime_ns=now - 10**9, st_ino=7)
    assert store.get_by_stat("/p/a.py", changed, False) is None  # type: ignore[arg-type]
    assert store.get_by_stat("/p/a.py", old, True) is None  # type: ignore[arg-type]  # no edits stored


def test_entries_of_deleted_files_are_dropped(project: Path) -> None:
    mgl(".", cwd=project)
    (project / "src" / "clean.py").unlink()
    mgl(".", cwd=project)
    newest = max(index_files(project), key=lambda p: p.stat().st_mtime_ns)
    names = {Path(p).name for p in json.loads(newest.read_bytes())["files"]}
    assert "bad.py" in names
    assert "clean.py" not in names
