"""The two pre-commit hooks, through real pre-commit (`pre-commit try-repo`) in a scratch git repo.

`try-repo` of a local path only sees committed and tracked-modified files, so the hook repository
is a snapshot of this working tree (package, pyproject, README, .pre-commit-hooks.yaml) committed
into a temporary git repository. pre-commit then builds the hook's virtualenv from it with pip
(from PyPI), as it does for users. These tests need pre-commit (in the `test` extra); without it
they fail, unless MGL_SKIP_PRECOMMIT=1 is set, which turns them into visible skips.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

if importlib.util.find_spec("pre_commit") is None:
    if os.environ.get("MGL_SKIP_PRECOMMIT"):
        pytest.skip("pre-commit is not installed and MGL_SKIP_PRECOMMIT is set", allow_module_level=True)
    raise RuntimeError("pre-commit is not installed: pip install -e '.[test]' (or set MGL_SKIP_PRECOMMIT=1 to skip)")

SNAPSHOT = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "modal_gpu_lint/")
GIT = ("git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false")

UNFIXABLE_AND_SAFE = """import modal

app = modal.App("x")


@app.cls(gpu="A10:8", container_idle_timeout=300, timeout=600)
class Server:
    pass
"""
SAFE_ONLY = """import modal

app = modal.App("x")


@app.function(gpu="H100", keep_warm=1, timeout=600)
def f():
    pass
"""
CLEAN = """import modal

app = modal.App("x")


@app.function(gpu="H100", min_containers=1, timeout=600)
def f():
    pass
"""


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree's package and hook definitions, committed in a scratch repository."""
    repo = tmp_path_factory.mktemp("hook-repo")
    listed = git("ls-files", "--cached", "--others", "--exclude-standard", cwd=ROOT).splitlines()
    for name in listed:
        if name.startswith(SNAPSHOT) and (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    assert (repo / ".pre-commit-hooks.yaml").is_file()
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "snapshot", cwd=repo)
    return repo


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit store for the `pre-commit run` tests: the hook env is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    git("init", "-q", cwd=tmp_path)
    (tmp_path / "both.py").write_text(UNFIXABLE_AND_SAFE)
    (tmp_path / "safe.py").write_text(SAFE_ONLY)
    (tmp_path / "clean.py").write_text(CLEAN)
    (tmp_path / "notes.txt").write_text('gpu="A10:8"\n')
    git("add", "-A", cwd=tmp_path)
    return tmp_path


def pre_commit(*args: str, cwd: Path, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    if home is not None:
        env["PRE_COMMIT_HOME"] = str(home)
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args, "--verbose", "--color", "never"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


def run_hook(hook_repo: Path, home: Path, hook: str, *files: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`pre-commit run HOOK --files ...` with a config that pins the hook repo's commit."""
    rev = git("rev-parse", "HEAD", cwd=hook_repo).strip()
    config = cwd / ".pre-commit-config.yaml"
    config.write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n"
        "      - id: modal-gpu-lint\n      - id: modal-gpu-lint-fix\n"
    )
    git("add", ".pre-commit-config.yaml", cwd=cwd)
    return pre_commit("run", hook, "--files", *files, cwd=cwd, home=home)


def test_try_repo_runs_both_hooks(hook_repo: Path, project: Path) -> None:
    """`pre-commit try-repo REPO --files ...` runs every hook of the repo: check, then fix."""
    result = pre_commit("try-repo", str(hook_repo), "--files", "both.py", "clean.py", "notes.txt", cwd=project)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    check, fix = out.split("modal-gpu-lint (fix)", 1)
    # the check hook: findings, then the diff of the safe fix; it writes nothing
    assert "Failed" in check
    assert "both.py:6:10: MGL003 'A10:8' asks for 8 x A10" in check
    assert "both.py:6:23: MGL201 [*] container_idle_timeout= was renamed scaledown_window=" in check
    assert "clean.py:" not in check
    assert "notes.txt" not in check
    assert "--- both.py\n+++ both.py\n" in check
    assert '-@app.cls(gpu="A10:8", container_idle_timeout=300, timeout=600)\n' in check
    assert '+@app.cls(gpu="A10:8", scaledown_window=300, timeout=600)\n' in check
    # the fix hook: applies the safe fix, fails (a file changed, MGL003 remains)
    assert "Failed" in fix
    assert "files were modified by this hook" in fix
    assert "both.py:6:10: MGL003" in fix
    assert (project / "both.py").read_text() == UNFIXABLE_AND_SAFE.replace("container_idle_timeout", "scaledown_window")
    assert (project / "clean.py").read_text() == CLEAN


def test_check_hook_passes_on_clean_files(hook_repo: Path, pre_commit_home: Path, project: Path) -> None:
    result = run_hook(hook_repo, pre_commit_home, "modal-gpu-lint", "clean.py", "notes.txt", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout


def test_check_hook_fails_and_writes_nothing(hook_repo: Path, pre_commit_home: Path, project: Path) -> None:
    result = run_hook(hook_repo, pre_commit_home, "modal-gpu-lint", "safe.py", cwd=project)
    assert result.returncode == 1
    assert "safe.py:6:27: MGL201 [*] keep_warm= was renamed min_containers=" in result.stdout
    assert '+@app.function(gpu="H100", min_containers=1, timeout=600)\n' in result.stdout
    assert (project / "safe.py").read_text() == SAFE_ONLY


def test_fix_hook_applies_safe_fixes_then_passes(hook_repo: Path, pre_commit_home: Path, project: Path) -> None:
    first = run_hook(hook_repo, pre_commit_home, "modal-gpu-lint-fix", "safe.py", "clean.py", cwd=project)
    assert first.returncode == 1, first.stdout + first.stderr  # pre-commit fails a hook that changed files
    assert "files were modified by this hook" in first.stdout
    assert (project / "safe.py").read_text() == SAFE_ONLY.replace("keep_warm=1", "min_containers=1")
    assert (project / "clean.py").read_text() == CLEAN
    again = run_hook(hook_repo, pre_commit_home, "modal-gpu-lint-fix", "safe.py", "clean.py", cwd=project)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Passed" in again.stdout


def test_hooks_leave_excluded_files_alone(hook_repo: Path, pre_commit_home: Path, project: Path) -> None:
    """pre-commit names every staged file; the configured excludes still apply (--force-exclude):
    a generated folder is neither reported by the check hook nor rewritten by the fix hook."""
    (project / "pyproject.toml").write_text('[tool.modal-gpu-lint]\nextend-exclude = ["generated"]\n')
    (project / "generated").mkdir()
    (project / "generated" / "stubs.py").write_text(UNFIXABLE_AND_SAFE)
    git("add", "-A", cwd=project)
    check = run_hook(hook_repo, pre_commit_home, "modal-gpu-lint", "generated/stubs.py", "clean.py", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "stubs.py" not in check.stdout
    fix = run_hook(hook_repo, pre_commit_home, "modal-gpu-lint-fix", "generated/stubs.py", "safe.py", cwd=project)
    assert fix.returncode == 1, fix.stdout + fix.stderr  # safe.py was fixed
    assert (project / "generated" / "stubs.py").read_text() == UNFIXABLE_AND_SAFE
    assert (project / "safe.py").read_text() == SAFE_ONLY.replace("keep_warm=1", "min_containers=1")
    assert "stubs.py" not in fix.stdout


def test_hooks_respect_an_old_pinned_client(hook_repo: Path, pre_commit_home: Path, project: Path) -> None:
    """A project pinned to modal 1.2: keep_warm still works there, so neither hook reports it and
    the fix hook does not rewrite it; a removed API (MGL003 is not version-bound) still fails."""
    (project / "requirements.txt").write_text("modal==1.2.*\n")
    git("add", "-A", cwd=project)
    check = run_hook(hook_repo, pre_commit_home, "modal-gpu-lint", "safe.py", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    fix = run_hook(hook_repo, pre_commit_home, "modal-gpu-lint-fix", "safe.py", "both.py", cwd=project)
    assert fix.returncode == 1, fix.stdout + fix.stderr  # both.py:6 MGL003 remains
    assert "files were modified" not in fix.stdout
    assert (project / "safe.py").read_text() == SAFE_ONLY
    assert (project / "both.py").read_text() == UNFIXABLE_AND_SAFE
    assert "both.py:6:10: MGL003" in fix.stdout


def test_fix_hook_keeps_failing_while_unfixable_findings_remain(
    hook_repo: Path, pre_commit_home: Path, project: Path
) -> None:
    run_hook(hook_repo, pre_commit_home, "modal-gpu-lint-fix", "both.py", cwd=project)
    again = run_hook(hook_repo, pre_commit_home, "modal-gpu-lint-fix", "both.py", cwd=project)
    assert again.returncode == 1
    assert "files were modified" not in again.stdout
    assert "both.py:6:10: MGL003" in again.stdout
