"""The composite GitHub Action (`action.yml`): its shell steps run for real, with the inputs and
files GitHub Actions gives them (GITHUB_OUTPUT, inputs through the environment), on a project."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
APP = 'import modal\n\napp = modal.App("x")\n\n\n@app.function(gpu="A10:8", timeout=60)\ndef f() -> None: ...\n'


def step(name: str) -> dict[str, Any]:
    (found,) = [s for s in ACTION["runs"]["steps"] if s.get("name") == name]
    return found


def run_step(name: str, cwd: Path, inputs: dict[str, str], outputs: dict[str, str] | None = None) -> tuple[int, str]:
    """Run one `run:` step as the runner would: bash, its `env:` with `${{ inputs.X }}` and
    `${{ steps.lint.outputs.X }}` filled in, the tool on PATH; returns (exit code, stdout)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    github_output = cwd / "github_output.txt"
    env["GITHUB_OUTPUT"] = str(github_output)
    for key, value in step(name).get("env", {}).items():
        for input_name, given in inputs.items():
            value = value.replace("${{ inputs." + input_name + " }}", given)
        for output_name, given in (outputs or {}).items():
            value = value.replace("${{ steps.lint.outputs." + output_name + " }}", given)
        env[key] = value
    result = subprocess.run(
        ["bash", "-e", "-c", step(name)["run"]], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    return result.returncode, result.stdout


def outputs(cwd: Path) -> dict[str, str]:
    lines = (cwd / "github_output.txt").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP)
    (tmp_path / "src" / "clean.py").write_text("x = 1\n")
    return tmp_path


def defaults() -> dict[str, str]:
    return {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}


def test_annotations_and_the_exit_code(repo: Path) -> None:
    code, stdout = run_step("Run modal-gpu-lint", repo, {**defaults(), "args": "src --no-cache"})
    assert code == 0  # the step itself passes: the last step fails the job, after the SARIF upload
    assert stdout.splitlines() == [
        "::error title=MGL003 (gpu-count-out-of-range),file=src/app.py,line=6,col=15,endLine=6,endColumn=26::"
        "'A10:8' asks for 8 x A10: a container can have 1 to 4"
    ]
    assert outputs(repo) == {"exit-code": "1"}
    assert not (repo / "modal-gpu-lint.sarif").exists()
    failed, _ = run_step("Fail on findings", repo, {}, {"exit-code": "1"})
    assert failed == 1
    passed, _ = run_step("Fail on findings", repo, {}, {"exit-code": "0"})
    assert passed == 0


def test_sarif_is_written_when_asked(repo: Path) -> None:
    inputs = {**defaults(), "args": "src/app.py src/missing.py", "sarif": "true", "sarif-file": "out/mgl.sarif"}
    code, stdout = run_step("Run modal-gpu-lint", repo, inputs)
    assert code == 0
    assert outputs(repo) == {"exit-code": "2"}  # a path that does not exist
    assert "::error title=MGL000 (unreadable-file),file=src/missing.py::no such file or folder" in stdout
    log = json.loads((repo / "out" / "mgl.sarif").read_text())
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["MGL000", "MGL003"]


def test_inputs_are_not_pasted_into_scripts() -> None:
    """`${{ inputs.X }}` inside `run:` would let a crafted input run commands; they come in through `env:`."""
    for s in ACTION["runs"]["steps"]:
        assert "${{" not in s.get("run", ""), s
    assert ACTION["runs"]["using"] == "composite"
    uses = {s["uses"].split("@")[0] for s in ACTION["runs"]["steps"] if "uses" in s}
    assert uses == {"actions/setup-python", "github/codeql-action/upload-sarif"}
