"""`target-modal-version`: the Modal client a project runs decides what is an error, what is an
upgrade note (off by default) and which fixes may be written. Through the real CLI, in projects
pinned to old clients; the version reading itself is checked on the specifier forms people write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from modal_gpu_lint.facts.modal_versions import Target, VersionError, rule_versions, target_from_specifier
from modal_gpu_lint.run.modal_target import detect_target

OLD_APP = """\
import modal

stub = modal.Stub("old")


@stub.function(gpu="H100", keep_warm=1, timeout=60)
def warm() -> None: ...


@stub.function(gpu="H100", max_inputs=1, timeout=60)
def once() -> None: ...
"""


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {**files, "app.py": OLD_APP}.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def concise(result_stdout: str) -> list[str]:
    return [line for line in result_stdout.splitlines() if line.startswith("app.py:")]


def test_newest_client_by_default(tmp_path: Path) -> None:
    project(tmp_path, {})
    result = run_cli("--no-cache", "--format", "concise", "app.py", cwd=tmp_path)
    assert result.returncode == 1
    assert [line.split(" ")[1] for line in concise(result.stdout)] == ["MGL203", "MGL201", "MGL205"]


def test_pinned_below_1_0_reports_nothing_and_notes_on_request(tmp_path: Path) -> None:
    project(tmp_path, {"requirements.txt": "torch==2.5.1\nmodal<1.0\n"})
    result = run_cli("--no-cache", "--format", "concise", "app.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout == "All checks passed!\n"
    notes = run_cli("--no-cache", "--format", "concise", "--upgrade-notes", "app.py", cwd=tmp_path)
    assert notes.returncode == 0, notes.stdout  # notes do not fail a run
    assert concise(notes.stdout) == [
        # modal.App and min_containers are only known from 1.0.0 on: their fixes are withheld (no [*])
        "app.py:3:8: MGL203 [upgrade] upgrade note (works on modal <1.0.0, fails from 1.0.0): "
        "modal.Stub was renamed modal.App and removed in client 1.0.0",
        "app.py:6:28: MGL201 [upgrade] upgrade note (works on modal <1.0.0, fails from 1.4.0): "
        "keep_warm= was renamed min_containers= (it raises since client 1.4.0)",
        "app.py:10:28: MGL205 [upgrade] upgrade note (works on modal <1.0.0, deprecated from 1.3.0): "
        "max_inputs=1 is deprecated since client 1.3.0: write single_use_containers=True",
    ]
    assert "3 upgrade notes: what stops working on a newer Modal client." in notes.stdout


def test_pinned_to_1_2_keeps_working_code_and_fixes_only_what_1_2_has(tmp_path: Path) -> None:
    project(tmp_path, {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["modal==1.2.*", "numpy"]\n'})
    result = run_cli("--no-cache", "--format", "concise", "app.py", cwd=tmp_path)
    assert result.returncode == 1
    # Stub fails since 1.0.0: still an error; keep_warm (fails from 1.4.0) and max_inputs=1 (warns
    # from 1.3.0) work on 1.2 and are not reported
    assert concise(result.stdout) == [
        "app.py:3:8: MGL203 [*] modal.Stub was renamed modal.App and removed in client 1.0.0"
    ]
    fixed = run_cli("--no-cache", "--fix", "app.py", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout
    assert (tmp_path / "app.py").read_text() == OLD_APP.replace("modal.Stub", "modal.App")
    # with the notes: the keep_warm rename may be applied (min_containers exists in 1.2), the
    # single_use_containers one may not (1.3.0)
    diff = run_cli("--no-cache", "--upgrade-notes", "--diff", "app.py", cwd=tmp_path)
    assert '+@stub.function(gpu="H100", min_containers=1, timeout=60)' in diff.stdout
    assert "single_use_containers" not in diff.stdout


def test_lock_file_wins_over_the_requirement(tmp_path: Path) -> None:
    project(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "x"\ndependencies = ["modal>=0.70"]\n',
            "uv.lock": 'version = 1\n\n[[package]]\nname = "modal"\nversion = "0.73.160"\n',
        },
    )
    assert detect_target(tmp_path) == Target((0, 73, 160), source="uv.lock")
    result = run_cli("--no-cache", "--format", "json", "--upgrade-notes", "app.py", cwd=tmp_path)
    items = json.loads(result.stdout)
    assert [(d["code"], d["message"].split(":")[0]) for d in items] == [
        ("MGL203", "upgrade note (works on modal 0.73.160, fails from 1.0.0)"),
        ("MGL201", "upgrade note (works on modal 0.73.160, fails from 1.4.0)"),
        ("MGL205", "upgrade note (works on modal 0.73.160, deprecated from 1.3.0)"),
    ]
    assert [d["fix"] for d in items[1:]] == [None, None]  # min_containers, single_use_containers: not yet


def test_config_and_command_line_override_the_requirement(tmp_path: Path) -> None:
    project(
        tmp_path,
        {
            "requirements.txt": "modal<1.0\n",
            "pyproject.toml": '[tool.modal-gpu-lint]\ntarget-modal-version = "1.6"\n',
        },
    )
    configured = run_cli("--no-cache", "--format", "concise", "app.py", cwd=tmp_path)
    assert [line.split(" ")[1] for line in concise(configured.stdout)] == ["MGL203", "MGL201", "MGL205"]
    given = run_cli("--no-cache", "--format", "concise", "--target-modal-version", "1.2", "app.py", cwd=tmp_path)
    assert [line.split(" ")[1] for line in concise(given.stdout)] == ["MGL203"]


def test_upgrade_notes_are_notes_in_sarif_and_github(tmp_path: Path) -> None:
    project(tmp_path, {"requirements.txt": "modal==1.2.*\n"})
    log = json.loads(run_cli("--no-cache", "--format", "sarif", "--upgrade-notes", "app.py", cwd=tmp_path).stdout)
    assert [(r["ruleId"], r["level"]) for r in log["runs"][0]["results"]] == [
        ("MGL203", "error"),
        ("MGL201", "note"),
        ("MGL205", "note"),
    ]
    github = run_cli("--no-cache", "--format", "github", "--upgrade-notes", "app.py", cwd=tmp_path).stdout
    assert [line.split(" ")[0] for line in github.splitlines()] == ["::error", "::notice", "::notice"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('target-modal-version = "latest"', "target-modal-version: not a version: 'latest'"),
        ("target-modal-version = 1.2", 'target-modal-version must be a version string such as "1.2", got 1.2'),
        ('upgrade-notes = "yes"', "upgrade-notes must be true or false, got 'yes'"),
    ],
)
def test_bad_values_are_config_errors(tmp_path: Path, config: str, message: str) -> None:
    project(tmp_path, {"pyproject.toml": f"[tool.modal-gpu-lint]\n{config}\n"})
    result = run_cli("app.py", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "pyproject.toml" in result.stderr


@pytest.mark.parametrize(
    ("spec", "target"),
    [
        ("<1.0", Target((1, 0, 0), below=True)),
        ("==1.2.*", Target((1, 3, 0), below=True)),
        ("~=1.2.0", Target((1, 3, 0), below=True)),
        ("~=1.2", Target((2, 0, 0), below=True)),
        ("==1.2.3", Target((1, 2, 3))),
        ("<=1.3", Target((1, 3, 0))),
        (">=0.70,<1.4", Target((1, 4, 0), below=True)),
        (">=1.0", None),
        ("", None),
    ],
)
def test_specifiers(spec: str, target: Target | None) -> None:
    assert target_from_specifier(spec) == target


def test_unreadable_specifier() -> None:
    with pytest.raises(VersionError):
        target_from_specifier("banana")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"requirements-dev.txt": "modal[extras] ~= 1.2.0 ; python_version >= '3.10'\n"}, "<1.3.0"),
        ({"requirements.txt": "modal-tools<1.0\n"}, None),  # another package
        ({"pyproject.toml": '[tool.poetry.dependencies]\nmodal = "^0.73"\n'}, "<0.74.0"),
        ({"pyproject.toml": '[tool.poetry.dependencies]\nmodal = {version = "~1.2"}\n'}, "<1.3.0"),
        ({"poetry.lock": '[[package]]\nname = "modal"\nversion = "1.1.4"\n'}, "1.1.4"),
    ],
)
def test_project_files(tmp_path: Path, files: dict[str, str], expected: str | None) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    found = detect_target(tmp_path)
    assert (str(found) if found else None) == expected


def test_every_rule_version_comes_from_a_cited_api() -> None:
    versions = rule_versions()
    assert set(versions) == {"MGL008", "MGL201", "MGL202", "MGL203", "MGL204", "MGL205"}
    assert versions["MGL201"].stops == (1, 4, 0)
    assert versions["MGL205"].deprecated
    assert versions["MGL205"].fix_needs == (1, 3, 0)


def test_flake8_reads_the_target_and_upgrade_notes_from_pyproject(tmp_path: Path) -> None:
    """The flake8 plugin judges by the same target as the command line (from `[tool.modal-gpu-lint]`)."""
    import subprocess
    import sys

    def flake8() -> list[str]:
        result = subprocess.run(
            [sys.executable, "-m", "flake8", "--select", "MGL2", "--format=%(row)d %(code)s %(text)s", "app.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert "Traceback" not in result.stderr, result.stderr
        return result.stdout.splitlines()

    project(tmp_path, {})
    assert [line.split(" ")[1] for line in flake8()] == ["MGL203", "MGL201", "MGL205"]
    (tmp_path / "pyproject.toml").write_text('[tool.modal-gpu-lint]\ntarget-modal-version = "0.73"\n')
    assert flake8() == []
    (tmp_path / "pyproject.toml").write_text(
        '[tool.modal-gpu-lint]\ntarget-modal-version = "0.73"\nupgrade-notes = true\n'
    )
    assert flake8() == [
        "3 MGL203 upgrade note (works on modal 0.73.0, fails from 1.0.0): "
        "modal.Stub was renamed modal.App and removed in client 1.0.0",
        "6 MGL201 upgrade note (works on modal 0.73.0, fails from 1.4.0): "
        "keep_warm= was renamed min_containers= (it raises since client 1.4.0)",
        "10 MGL205 upgrade note (works on modal 0.73.0, deprecated from 1.3.0): "
        "max_inputs=1 is deprecated since client 1.3.0: write single_use_containers=True",
    ]
