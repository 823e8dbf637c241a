"""The flake8 plugin through real flake8: the same findings as the CLI, flake8's filtering rules.

flake8 prints `column + 1` for the 0-based column a plugin reports, so a printed column equal
to the CLI's 1-based column means the plugin reported the CLI's column minus 1.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, json_findings, run_cli

LINT = FIXTURES / "lint"
FORMAT = "%(path)s|%(row)d|%(col)d|%(code)s|%(text)s"
Finding = tuple[str, int, str, int]  # file name, row, code, 1-based column


def flake8(*args: str, cwd: Path = LINT) -> subprocess.CompletedProcess[str]:
    """`python -m flake8 ARGS` as a user runs it, printing one `|`-separated finding a line."""
    return subprocess.run(
        [sys.executable, "-m", "flake8", f"--format={FORMAT}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def parsed(result: subprocess.CompletedProcess[str]) -> list[tuple[str, int, int, str, str]]:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr + result.stdout
    out = []
    for line in result.stdout.splitlines():
        path, row, col, code, text = line.split("|", 4)
        out.append((Path(path).name, int(row), int(col), code, text))
    return out


def mgl(result: subprocess.CompletedProcess[str]) -> set[Finding]:
    return {(name, row, code, col) for name, row, col, code, _ in parsed(result) if code.startswith("MGL")}


def cli(*args: str, cwd: Path = LINT) -> set[Finding]:
    result = run_cli("--format", "json", "--no-cache", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return {
        (Path(d["filename"]).name, d["location"]["row"], d["code"], d["location"]["column"])
        for d in json_findings(result)
    }


def unparsable_by_python() -> set[str]:
    """Fixtures this Python's `ast` rejects: flake8 reports E999 there and runs no plugin."""
    out = set()
    for path in LINT.glob("*.py"):
        try:
            ast.parse(path.read_bytes())
        except SyntaxError:
            out.add(path.name)
    return out


@pytest.fixture(scope="module")
def flake8_select_mgl() -> subprocess.CompletedProcess[str]:
    return flake8("--select", "MGL,E999", ".")


@pytest.fixture(scope="module")
def flake8_default() -> subprocess.CompletedProcess[str]:
    return flake8(".")


def test_select_mgl_reports_what_the_cli_reports_with_all_rules(
    flake8_select_mgl: subprocess.CompletedProcess[str],
) -> None:
    # `--select MGL` selects every MGL code explicitly, default-off ones too: like the CLI's ALL.
    skipped = unparsable_by_python()
    e999 = {name for name, _, _, code, _ in parsed(flake8_select_mgl) if code == "E999"}
    assert e999 == skipped
    expected = {f for f in cli("--select", "ALL", ".") if f[0] not in skipped}
    found = mgl(flake8_select_mgl)
    assert expected, "the fixtures must produce findings"
    assert found == expected
    assert any(code == "MGL009" for _, _, code, _ in found)


def test_default_selection_reports_the_default_rules(flake8_default: subprocess.CompletedProcess[str]) -> None:
    skipped = unparsable_by_python()
    expected = {f for f in cli(".") if f[0] not in skipped}
    found = mgl(flake8_default)
    assert found == expected
    assert not any(code in ("MGL009", "MGL301", "MGL303") for _, _, code, _ in found)
    # pyflakes and pycodestyle still run next to the plugin
    assert any(not code.startswith("MGL") for _, _, _, code, _ in parsed(flake8_default))


def test_messages_are_code_then_message(flake8_select_mgl: subprocess.CompletedProcess[str]) -> None:
    result = run_cli("--format", "json", "--no-cache", "--select", "ALL", "real_gradio_chat.py", cwd=LINT)
    messages = {(d["location"]["row"], d["code"]): d["message"] for d in json_findings(result)}
    shown = {
        (row, code): text for name, row, _, code, text in parsed(flake8_select_mgl) if name == "real_gradio_chat.py"
    }
    assert shown == messages


def test_plugin_reports_0_based_columns() -> None:
    from modal_gpu_lint.doors.flake8_plugin import Plugin

    path = LINT / "real_multi_app.py"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    found = {
        (row, msg.split()[0], col) for row, col, msg, _ in Plugin(ast.parse("".join(lines)), lines, str(path)).run()
    }
    expected = {(row, code, column - 1) for _, row, code, column in cli("--select", "ALL", path.name)}
    assert found == expected
    assert expected


def test_extend_ignore() -> None:
    files = ("real_gradio_chat.py", "real_multi_app.py")
    found = mgl(flake8("--select", "MGL", "--extend-ignore", "MGL101", *files))
    everything = cli("--select", "ALL", *files)
    assert found == {f for f in everything if f[2] != "MGL101"}
    assert {f[2] for f in everything} == {"MGL009", "MGL101"}
    assert mgl(flake8("--extend-ignore", "MGL1", *files)) == set()


def test_per_file_ignores_option() -> None:
    found = mgl(
        flake8("--per-file-ignores", "real_gradio_chat.py:MGL101", "real_gradio_chat.py", "real_sdxl_service.py")
    )
    expected = cli("real_gradio_chat.py", "real_sdxl_service.py") - {
        f for f in cli("real_gradio_chat.py") if f[2] == "MGL101"
    }
    assert found == expected
    assert any(f[0] == "real_sdxl_service.py" and f[2] == "MGL101" for f in found)
    assert not any(f[0] == "real_gradio_chat.py" and f[2] == "MGL101" for f in found)


APP = """import modal

app = modal.App("x")


@app.function(gpu="A100-80G", timeout=60)  # noqa: MGL001
def a(): ...


@app.function(gpu="L4:0", timeout=60)  # noqa
def b(): ...


@app.function(gpu="H100:two", timeout=60)  # noqa: E501
def c(): ...


@app.function(gpu="l4", timeout=60)
def d(): ...
"""


def test_noqa_same_result_as_cli(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    found = mgl(flake8("--select", "MGL", "app.py", cwd=tmp_path))
    assert found == cli("--select", "ALL", "app.py", cwd=tmp_path)
    assert {(row, code) for _, row, code, _ in found} == {(14, "MGL002"), (18, "MGL009")}
    # flake8 decides about noqa comments: with --disable-noqa everything is reported
    everything = mgl(flake8("--select", "MGL", "--disable-noqa", "app.py", cwd=tmp_path))
    assert {(row, code) for _, row, code, _ in everything} == {
        (6, "MGL001"),
        (10, "MGL003"),
        (14, "MGL002"),
        (18, "MGL009"),
    }


def test_per_file_ignores_and_extend_select_from_a_flake8_config(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / ".flake8").write_text("[flake8]\nextend-select = MGL009\nper-file-ignores =\n    app.py: MGL002\n")
    found = mgl(flake8("--disable-noqa", "app.py", cwd=tmp_path))
    assert {(row, code) for _, row, code, _ in found} == {(6, "MGL001"), (10, "MGL003"), (18, "MGL009")}


def test_default_off_rules_stay_off_until_selected(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    default = mgl(flake8("--disable-noqa", "app.py", cwd=tmp_path))
    assert "MGL009" not in {code for _, _, code, _ in default}
    assert {code for _, _, code, _ in default} == {"MGL001", "MGL002", "MGL003"}
    only = mgl(flake8("--disable-noqa", "--select", "MGL009", "app.py", cwd=tmp_path))
    assert {(row, code) for _, row, code, _ in only} == {(18, "MGL009")}
    extended = mgl(flake8("--disable-noqa", "--extend-select", "MGL009", "app.py", cwd=tmp_path))
    assert extended == default | only


CUSTOM = """import modal

app = modal.App("x")


@app.function(gpu="X300:4", timeout=60)
def a(): ...
"""


def test_catalog_additions_from_pyproject_in_the_working_folder(tmp_path: Path) -> None:
    for name in ("one.py", "two.py"):  # two files, two jobs: the settings reach every worker
        (tmp_path / name).write_text(CUSTOM)
    before = mgl(flake8("--select", "MGL", "--jobs", "2", "one.py", "two.py", cwd=tmp_path))
    assert {(name, code) for name, _, code, _ in before} == {("one.py", "MGL001"), ("two.py", "MGL001")}
    (tmp_path / "pyproject.toml").write_text(
        "[tool.modal-gpu-lint]\nfix-timeout = 600\n\n[tool.modal-gpu-lint.gpus.X300]\nmemory-gb = 288\nmax-count = 2\n"
    )
    after = parsed(flake8("--select", "MGL", "--jobs", "2", "one.py", "two.py", cwd=tmp_path))
    assert {(name, code) for name, _, _, code, _ in after} == {("one.py", "MGL003"), ("two.py", "MGL003")}
    assert all("1 to 2" in text for *_, text in after)


def test_bad_config_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(CUSTOM)
    (tmp_path / "pyproject.toml").write_text("[tool.modal-gpu-lint.gpus.X300]\nmemory-gb = -1\n")
    result = flake8("app.py", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "pyproject.toml" in result.stdout
    assert "gpus.X300.memory-gb" in result.stdout


def test_file_without_modal_code_is_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    import libcst

    from modal_gpu_lint.doors.flake8_plugin import Plugin

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed a file that cannot hold a finding")

    monkeypatch.setattr(libcst, "parse_module", refuse)
    text = "import os\n\n\ndef f(x):\n    return os.path.join(x, 'gpu')\n"
    lines = text.splitlines(keepends=True)
    assert list(Plugin(ast.parse(text), lines, "plain.py").run()) == []


# flake8 in-process, then whether libcst and the rules were imported (a last line of its own)
IMPORTS_SCRIPT = (
    "import sys\n"
    "from flake8.main.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "rules = 'modal_gpu_lint.rules.registry' in sys.modules\n"
    "print('libcst imported:', 'libcst' in sys.modules, 'rules imported:', rules)\n"
)


def test_modal_lookalikes_never_import_libcst(tmp_path: Path) -> None:
    """flake8 over files that pass the text prefilter but hold no Modal call (a multimodal model,
    a protobuf module, `modal` imported without a site): the gate on flake8's own tree rules them
    out, so neither libcst nor the rules are imported; a Modal file in the same run is reported."""
    (tmp_path / "multimodal.py").write_text("import torch\n\n\ndef multimodal(x, gpu=True, timeout=3):\n    return x\n")
    (tmp_path / "proto.py").write_text(
        "from modal_proto import api_pb2\n\nCONFIG = api_pb2.GPUConfig(gpu='H100', timeout=3)\n"
    )
    (tmp_path / "client.py").write_text("import modal\n\n\ndef run(app):\n    return app.run(timeout=3, gpu=1)\n")
    run = [sys.executable, "-c", IMPORTS_SCRIPT, f"--format={FORMAT}", "--select", "MGL", "-j", "1", "."]
    result = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.stdout.splitlines() == ["libcst imported: False rules imported: False"], result.stderr
    (tmp_path / "app.py").write_text(CUSTOM.replace("X300:4", "A10:8"))
    result = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.stdout.splitlines()[-1] == "libcst imported: True rules imported: True", result.stderr
    assert [
        (name, code)
        for name, _, _, code, _ in parsed(
            subprocess.CompletedProcess([], 0, "\n".join(result.stdout.splitlines()[:-1]), "")
        )
    ] == [("app.py", "MGL003")]


def test_stdin(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flake8",
            f"--format={FORMAT}",
            "--select",
            "MGL",
            "--stdin-display-name",
            "mine.py",
            "-",
        ],
        cwd=tmp_path,
        input=CUSTOM.replace("X300:4", "A10:8"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert [(name, row, col, code) for name, row, col, code, _ in parsed(result)] == [("mine.py", 6, 15, "MGL003")]


def test_bom_and_crlf_line_endings(tmp_path: Path) -> None:
    source = CUSTOM.replace("X300:4", "A10:8").replace("\n", "\r\n")
    (tmp_path / "app.py").write_bytes(b"\xef\xbb\xbf" + source.encode())
    found = mgl(flake8("--select", "MGL", "app.py", cwd=tmp_path))
    assert found == cli("--select", "ALL", "app.py", cwd=tmp_path) == {("app.py", 6, "MGL003", 15)}


def test_a_selection_without_mgl_codes_parses_nothing(tmp_path: Path) -> None:
    """The plugin asks flake8's decision engine which MGL codes can be shown: none here, so a
    Modal file with a finding is not parsed, and libcst and the rules are never imported."""
    (tmp_path / "app.py").write_text(CUSTOM.replace("X300:4", "A10:8") + "import os\n")
    run = [sys.executable, "-c", IMPORTS_SCRIPT, f"--format={FORMAT}", "-j", "1", "app.py"]
    result = subprocess.run([*run, "--select", "F"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    lines = result.stdout.splitlines()
    assert lines[-1] == "libcst imported: False rules imported: False", result.stderr
    assert [line.split("|")[3] for line in lines[:-1]] == ["F401"]
    result = subprocess.run([*run, "--extend-ignore", "MGL"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.stdout.splitlines()[-1] == "libcst imported: False rules imported: False", result.stderr
    result = subprocess.run([*run, "--select", "F,MGL003"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.stdout.splitlines()[-1] == "libcst imported: True rules imported: True", result.stderr
    assert sorted(line.split("|")[3] for line in result.stdout.splitlines()[:-1]) == ["F401", "MGL003"]


@pytest.mark.parametrize(
    ("flake8_args", "cli_args"),
    [
        (("--select", "MGL101,MGL403,MGL9"), ("--select", "MGL101,MGL403")),
        (("--select", "MGL", "--extend-ignore", "MGL1,MGL3"), ("--select", "ALL", "--ignore", "MGL1,MGL3")),
        (("--extend-select", "MGL301"), ("--extend-select", "MGL301")),
    ],
)
def test_a_selection_reports_what_the_cli_reports_with_that_selection(
    flake8_args: tuple[str, ...], cli_args: tuple[str, ...]
) -> None:
    # only the selected rules run, as in the CLI: the same findings, whichever rules are left out
    skipped = unparsable_by_python()
    expected = {f for f in cli(*cli_args, ".") if f[0] not in skipped}
    assert expected
    assert mgl(flake8(*flake8_args, ".")) == expected


def test_shown_codes_falls_back_to_every_rule() -> None:
    import argparse

    from modal_gpu_lint.doors.flake8_plugin import shown_codes
    from modal_gpu_lint.rules.table import RULES

    # options another flake8 might pass (no `select`, ...): flake8 then filters everything itself
    assert shown_codes(argparse.Namespace()) == frozenset(RULES)
