"""The mypy plugin through real mypy (`mypy.api.run`) with the real `modal` stubs.

Each folder in tests/fixtures/mypy/ is a small project: a package, a mypy config that enables
`modal_gpu_lint.mypy_plugin`, and `expected.txt`, the exact lines mypy must print for it.
All runs share one cache folder, so `modal` is analysed once per test session.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT, json_findings, run_cli
from mypy import api

from modal_gpu_lint.doors.mypy_plugin import HOOKED, ModalGpuPlugin, plugin
from modal_gpu_lint.facts.modal_api import ALL_CALLS

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mypy"
ORIGIN = re.compile(r" \(value from .*\)$")  # the CLI's note on where a value came from


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the session: the first run analyses `modal`, later runs reuse it."""
    return tmp_path_factory.mktemp("mypy-cache")


@contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_mypy(project: Path, config: str, target: str, cache: Path, *extra: str) -> tuple[list[str], str, int]:
    """mypy on `target` inside `project`, as a user runs it there: (output lines, stderr, exit status)."""
    args = [
        "--config-file",
        config,
        "--cache-dir",
        str(cache),
        "--no-error-summary",
        "--show-traceback",
        *extra,
        target,
    ]
    with _cwd(project):
        stdout, stderr, status = api.run(args)
    return ordered(stdout), stderr, status


def ordered(output: str) -> list[str]:
    """Output lines grouped by file (mypy's file order follows its import graph), order kept within a file."""
    lines = [line for line in output.splitlines() if line.strip()]
    return sorted(lines, key=lambda line: line.split(":", 1)[0])


def assert_output(actual: list[str], expected: list[str]) -> None:
    diff = "\n".join(difflib.unified_diff(expected, actual, "expected", "mypy", lineterm=""))
    assert actual == expected, f"mypy output differs from expected.txt:\n{diff}"


FIXTURE_RUNS = {
    "cross_module": ("mypy.ini", "gpuproj"),
    "valid_program": ("pyproject.toml", "cleanproj"),
    "suppressed": ("pyproject.toml", "supproj"),
    "custom_catalog": ("pyproject.toml", "catproj"),
}


@pytest.mark.parametrize("name", sorted(FIXTURE_RUNS))
def test_fixture_project(name: str, mypy_cache: Path) -> None:
    project = FIXTURES / name
    config, target = FIXTURE_RUNS[name]
    expected = (project / "expected.txt").read_text(encoding="utf-8").splitlines()
    lines, stderr, status = run_mypy(project, config, target, mypy_cache)
    assert_output(lines, expected)
    assert stderr == ""
    assert status == (1 if any(": error: " in line for line in expected) else 0)


def test_fixture_folders_all_run() -> None:
    folders = {path.name for path in FIXTURES.iterdir() if (path / "expected.txt").is_file()}
    assert folders == set(FIXTURE_RUNS)


def test_expected_files_hold_plugin_errors_in_mypy_format() -> None:
    for name in FIXTURE_RUNS:
        for line in (FIXTURES / name / "expected.txt").read_text(encoding="utf-8").splitlines():
            path, row, rest = line.split(":", 2)
            assert (FIXTURES / name / path).is_file(), line
            assert row.isdigit(), line
            if rest.startswith(" error: MGL"):
                assert rest.endswith("  [modal-gpu]"), line
            else:
                assert rest.startswith(' note: Error code "modal-gpu" not covered'), line


# Plain (not `Final`) module constants of the project: the linter reads them (bound once by a
# top-level assignment in their module), mypy folds only `Final` ones.
LINTER_ONLY = {
    "cross_module": {
        "gpuproj/runtime.py:21: error: MGL003 't4:0' asks for 0 x T4: a container can have 1 to 8  [modal-gpu]",
        "gpuproj/train.py:52: error: MGL001 'A100-20GB' is not a GPU type Modal accepts: A100 20GB was removed "
        "from Modal  [modal-gpu]",
    }
}


@pytest.mark.parametrize("name", ["cross_module", "custom_catalog"])
def test_linter_findings_are_plugin_errors_with_the_same_message(name: str) -> None:
    """Both doors share gpu_checks: every MGL001-MGL007 the CLI finds here, mypy reports identically
    (the CLI adds where a value not written at the call came from, "(value from ...)": mypy does not)."""
    project = FIXTURES / name
    _, target = FIXTURE_RUNS[name]
    result = run_cli("--format", "json", "--select", "MGL00", "--ignore", "MGL008,MGL009", target, cwd=project)
    assert result.returncode == 1, result.stderr
    linter = {
        f"{Path(item['filename']).relative_to(project).as_posix()}:{item['location']['row']}: "
        f"error: {item['code']} {ORIGIN.sub('', item['message'])}  [modal-gpu]"
        for item in json_findings(result)
    }
    plugin_errors = set((project / "expected.txt").read_text(encoding="utf-8").splitlines())
    assert linter, sorted(linter - plugin_errors)
    assert linter - plugin_errors == LINTER_ONLY.get(name, set())


def test_warm_cache_reports_the_same(mypy_cache: Path) -> None:
    """mypy does not cache modules with errors: a second run must print the same errors."""
    project = FIXTURES / "cross_module"
    first = run_mypy(project, "mypy.ini", "gpuproj", mypy_cache)
    second = run_mypy(project, "mypy.ini", "gpuproj", mypy_cache)
    assert first == second
    assert_output(second[0], (project / "expected.txt").read_text(encoding="utf-8").splitlines())


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


INCREMENTAL = {
    "pyproject.toml": """
        [tool.mypy]
        plugins = ["modal_gpu_lint.mypy_plugin"]

        [tool.modal-gpu-lint]
    """,
    "incproj/__init__.py": "",
    "incproj/settings.py": """
        from typing import Final

        GPU: Final = "H100:8"
    """,
    "incproj/app.py": """
        import modal

        from incproj.settings import GPU

        app = modal.App()


        @app.function(gpu=GPU, timeout=60)
        def f() -> None: ...
    """,
}


def test_changed_constant_in_another_module_is_rechecked(tmp_path: Path, mypy_cache: Path) -> None:
    """Only settings.py changes; mypy's incremental mode must re-check app.py, which uses it."""
    _write(tmp_path, INCREMENTAL)
    assert run_mypy(tmp_path, "pyproject.toml", "incproj", mypy_cache) == ([], "", 0)
    _write(tmp_path, {"incproj/settings.py": 'from typing import Final\n\nGPU: Final = "H100:16"\n'})
    lines, _, status = run_mypy(tmp_path, "pyproject.toml", "incproj", mypy_cache)
    assert lines == [
        "incproj/app.py:8: error: MGL003 'H100:16' asks for 16 x H100: a container can have 1 to 8  [modal-gpu]"
    ]
    assert status == 1


def test_changed_catalog_config_is_rechecked(tmp_path: Path, mypy_cache: Path) -> None:
    """A cached clean module is checked again when [tool.modal-gpu-lint] changes."""
    _write(tmp_path, INCREMENTAL)
    assert run_mypy(tmp_path, "pyproject.toml", "incproj", mypy_cache) == ([], "", 0)
    config = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(config + "\n[tool.modal-gpu-lint.gpus.H100]\nmax-count = 4\n")
    lines, _, status = run_mypy(tmp_path, "pyproject.toml", "incproj", mypy_cache)
    assert lines == [
        "incproj/app.py:8: error: MGL003 'H100:8' asks for 8 x H100: a container can have 1 to 4  [modal-gpu]"
    ]
    assert status == 1


# One call per mypy name in the shared table, each given a GPU typo on its own line.
CALLS = {
    "modal.app.App.function": "app.function(gpu=BAD)",
    "modal.app.App.cls": "app.cls(gpu=BAD)",
    "modal.app.App.server": "app.server(gpu=BAD)",
    "modal.cls.Cls.with_options": 'modal.Cls.from_name("a", "B").with_options(gpu=BAD)',
    "modal.functions.Function.with_options": 'modal.Function.from_name("a", "f").with_options(gpu=BAD)',
    "modal.sandbox.sandbox.Sandbox.__create_spec.__call__": "modal.Sandbox.create(app=app, gpu=BAD)",
    "modal.sandbox.sandbox.Sandbox.__create_spec.aio": "await modal.Sandbox.create.aio(app=app, gpu=BAD)",
    "modal.image.Image.run_function": "image.run_function(print, gpu=BAD)",
    "modal.image.Image.pip_install": 'image.pip_install("torch", gpu=BAD)',
    "modal.image.Image.pip_install_private_repos": (
        'image.pip_install_private_repos("github.com/a/b", git_user="u", gpu=BAD)'
    ),
    "modal.image.Image.pip_install_from_requirements": (
        'image.pip_install_from_requirements("requirements.txt", gpu=BAD)'
    ),
    "modal.image.Image.pip_install_from_pyproject": 'image.pip_install_from_pyproject("pyproject.toml", gpu=BAD)',
    "modal.image.Image.uv_pip_install": 'image.uv_pip_install("torch", gpu=BAD)',
    "modal.image.Image.uv_sync": "image.uv_sync(gpu=BAD)",
    "modal.image.Image.poetry_install_from_file": 'image.poetry_install_from_file("pyproject.toml", gpu=BAD)',
    "modal.image.Image.micromamba_install": 'image.micromamba_install("cudatoolkit", gpu=BAD)',
    "modal.image.Image.apt_install": 'image.apt_install("git", gpu=BAD)',
    "modal.image.Image.run_commands": 'image.run_commands("nvidia-smi", gpu=BAD)',
    "modal.image.Image.dockerfile_commands": 'image.dockerfile_commands("RUN nvidia-smi", gpu=BAD)',
    "modal.image.Image.from_dockerfile": 'modal.Image.from_dockerfile("Dockerfile", gpu=BAD)',
}


def test_every_call_in_the_shared_table_is_checked(tmp_path: Path, mypy_cache: Path) -> None:
    """mypy reports the names in modal_api's table: a wrong name would leave its line silent."""
    assert set(CALLS) == set(HOOKED) == {name for call in ALL_CALLS for name in call.mypy_fullnames}
    names = sorted(CALLS)
    body = "".join(f"    {CALLS[name]}\n" for name in names)
    source = (
        "import modal\n\nfrom allcalls.settings import BAD\n\n"
        "app = modal.App()\nimage = modal.Image.debian_slim()\n\n\n"
        f"async def main() -> None:\n{body}"
    )
    first_line = 10
    _write(
        tmp_path,
        {
            "pyproject.toml": '[tool.mypy]\nplugins = ["modal_gpu_lint.mypy_plugin"]\n\n[tool.modal-gpu-lint]\n',
            "allcalls/__init__.py": "",
            "allcalls/settings.py": 'from typing import Final\n\nBAD: Final = "A100-80G"\n',
        },
    )
    (tmp_path / "allcalls" / "main.py").write_text(source, encoding="utf-8")
    lines, stderr, status = run_mypy(tmp_path, "pyproject.toml", "allcalls", mypy_cache)
    message = "error: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?  [modal-gpu]"
    expected = [f"allcalls/main.py:{first_line + index}: {message}" for index in range(len(names))]
    assert_output(lines, expected)
    assert (stderr, status) == ("", 1)


def test_disable_error_code_everywhere(tmp_path: Path) -> None:
    """`disable_error_code = modal-gpu` for the whole run (its own cache: global options change modal's)."""
    project = FIXTURES / "suppressed"
    assert run_mypy(project, "mypy-disabled.ini", "supproj", tmp_path / "cache") == ([], "", 0)


def test_bad_config_is_a_clear_error(mypy_cache: Path) -> None:
    project = FIXTURES / "bad_config"
    lines, stderr, status = run_mypy(project, "pyproject.toml", "badproj", mypy_cache)
    assert status == 2
    assert stderr.strip() == (
        f"error: modal-gpu-lint: {project / 'pyproject.toml'}: [tool.modal-gpu-lint]: "
        "gpus.X100: a new GPU type needs 'memory-gb'"
    )
    assert "Traceback" not in "\n".join(lines) + stderr


def test_entry_point_returns_the_plugin_class() -> None:
    assert plugin("2.4.1") is ModalGpuPlugin


def test_fixture_copy_outside_the_repo_finds_its_own_config(tmp_path: Path, mypy_cache: Path) -> None:
    """The catalog comes from the pyproject.toml nearest the mypy config, wherever mypy runs from."""
    project = tmp_path / "custom_catalog"
    shutil.copytree(FIXTURES / "custom_catalog", project)
    with _cwd(tmp_path):
        stdout, _, status = api.run(
            [
                "--config-file",
                str(project / "pyproject.toml"),
                "--cache-dir",
                str(mypy_cache),
                "--no-error-summary",
                str(project / "catproj"),
            ]
        )
    prefix = f"{project}{os.sep}"
    lines = [line.removeprefix(prefix) for line in ordered(stdout)]
    assert_output(lines, (FIXTURES / "custom_catalog" / "expected.txt").read_text(encoding="utf-8").splitlines())
    assert status == 1


def test_docs_example_is_what_mypy_prints(tmp_path: Path, mypy_cache: Path) -> None:
    """docs/mypy-plugin.md's example program, run through mypy, prints the output shown."""
    readme = (ROOT / "docs" / "mypy-plugin.md").read_text(encoding="utf-8")
    section = readme.split("\n## mypy plugin\n", 1)[1].split("\n## ", 1)[0]
    program, output = re.findall(r"```(?:python)?\n(.*?)```", section, re.DOTALL)[:2]
    files = re.split(r"^# (myproject/\S+\.py)\n", program, flags=re.MULTILINE)[1:]
    _write(tmp_path, dict(zip(files[::2], (text.strip() + "\n" for text in files[1::2]), strict=False)))
    _write(
        tmp_path,
        {
            "pyproject.toml": '[tool.mypy]\nplugins = ["modal_gpu_lint.mypy_plugin"]\n\n[tool.modal-gpu-lint]\n',
            "myproject/__init__.py": "",
        },
    )
    command, *shown = output.strip().splitlines()
    assert command == "$ mypy myproject"
    lines, _, status = run_mypy(tmp_path, "pyproject.toml", "myproject", mypy_cache)
    assert (lines, status) == (shown, 1)
