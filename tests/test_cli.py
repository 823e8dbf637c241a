"""The command line as a user runs it: `python -m modal_gpu_lint ...` in a throwaway project.

Exit codes, every output format's shape, selectors, configuration discovery and its errors, and
the `rule` / `catalog` commands. Nothing here imports the engine: only the real CLI is run.
"""

from __future__ import annotations

import json
import os
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli

APP = """\
import modal

app = modal.App("cli")


@app.function(gpu="A100-80G", timeout=60)
def typo() -> None: ...


@app.function(gpu="A10:8", keep_warm=1)
def too_many() -> None: ...
"""

# What `--format concise` prints for APP, line for line (columns: `gpu=`, `@`+1, `keep_warm`).
APP_CONCISE = [
    "app.py:6:15: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?",
    "app.py:10:2: MGL101 app.function requests a GPU but sets no timeout: Modal stops each call after 300 s;"
    " set timeout= to the longest run you expect",
    "app.py:10:15: MGL003 'A10:8' asks for 8 x A10: a container can have 1 to 4",
    "app.py:10:28: MGL201 [*] keep_warm= was renamed min_containers= (it raises since client 1.4.0)",
]

CLEAN = """\
import modal

app = modal.App("clean")


@app.function(gpu="H100!:8", timeout=3600)
def train() -> None: ...
"""

LOWER = """\
import modal

app = modal.App("lower")


@app.function(gpu="h100", timeout=60)
def f() -> None: ...
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def codes_at(stdout: str) -> list[tuple[str, int, int, str]]:
    """(file name, row, column, code) of each concise line."""
    out = []
    for line in stdout.splitlines():
        match = re.match(r"^(.+?):(\d+):(\d+): (MGL\d{3}) ", line)
        if match:
            out.append((Path(match[1]).name, int(match[2]), int(match[3]), match[4]))
    return out


def no_traceback(result: Any) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout


# ---- exit codes ---------------------------------------------------------------------------------
def test_clean_project_exits_0(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": CLEAN})
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "All checks passed!"
    assert result.stderr == ""


def test_findings_exit_1_and_exit_zero_exits_0(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": APP})
    assert run_cli("--format", "concise", cwd=tmp_path).returncode == 1
    result = run_cli("--format", "concise", "--exit-zero", cwd=tmp_path)
    assert result.returncode == 0
    assert len(codes_at(result.stdout)) == 4  # the findings are still printed


def test_unparsable_file_exits_2_even_with_exit_zero(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": APP, "broken.py": "import modal\n@app.function(gpu='T4'\ndef f(: ...\n"})
    result = run_cli("--format", "concise", "--exit-zero", cwd=tmp_path)
    assert result.returncode == 2
    assert len(codes_at(result.stdout)) == 4
    no_traceback(result)


def test_missing_path_exits_2_and_other_files_are_linted(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": APP})
    result = run_cli("--format", "concise", "nowhere.py", "app.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "modal-gpu-lint: error: nowhere.py: no such file or folder"
    assert result.stdout.splitlines()[:4] == APP_CONCISE


def test_usage_error_exits_2(tmp_path: Path) -> None:
    result = run_cli("--format", "xml", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid choice: 'xml'" in result.stderr
    no_traceback(result)


# ---- output formats -----------------------------------------------------------------------------
def test_concise_lines_exactly(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": APP})
    result = run_cli("--format", "concise", "app.py", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert lines[:4] == APP_CONCISE
    assert lines[4] == "Found 4 errors."
    assert "[*] 1 fixable with the `--fix` option." in lines


def test_text_shows_the_source_line_and_a_caret_under_the_finding(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": APP})
    result = run_cli("app.py", cwd=tmp_path)
    assert result.returncode == 1
    source = APP.splitlines()
    blocks = [b for b in result.stdout.split("\n\n") if re.match(r"app\.py:\d+:\d+: MGL", b)]
    assert [b.splitlines()[0] for b in blocks] == APP_CONCISE
    spans = {  # code -> the text the caret must underline
        "MGL001": 'gpu="A100-80G"',
        "MGL003": 'gpu="A10:8"',
        "MGL201": "keep_warm=1",
        "MGL101": 'app.function(gpu="A10:8", keep_warm=1)',
    }
    for block in blocks:
        head, code_line, caret_line = block.splitlines()[:3]
        row, column, code = re.match(r"app\.py:(\d+):(\d+): (MGL\d{3})", head).groups()  # type: ignore[union-attr]
        gutter, _, shown = code_line.partition("| ")
        assert gutter.strip() == row
        assert shown == source[int(row) - 1]
        start = len(gutter) + 2
        carets = caret_line[start:]
        assert carets.index("^") == int(column) - 1
        underlined = shown[int(column) - 1 : int(column) - 1 + carets.count("^")]
        assert underlined == spans[code], (code, underlined)
    assert "Found 4 errors." in result.stdout


def test_json_shape_is_ruffs(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": APP})
    result = run_cli("--format", "json", "app.py", cwd=tmp_path)
    assert result.returncode == 1
    items = json.loads(result.stdout)
    assert [(d["code"], d["location"]["row"], d["location"]["column"]) for d in items] == [
        ("MGL001", 6, 15),
        ("MGL101", 10, 2),
        ("MGL003", 10, 15),
        ("MGL201", 10, 28),
    ]
    position = {"row", "column"}
    for item in items:
        assert set(item) == {
            "code",
            "message",
            "filename",
            "location",
            "end_location",
            "fix",
            "noqa_row",
            "url",
            "cell",
        }
        assert item["cell"] is None
        assert item["filename"] == str(tmp_path.resolve() / "app.py")
        assert set(item["location"]) == position
        assert set(item["end_location"]) == position
        assert all(isinstance(v, int) and v >= 1 for v in (*item["location"].values(), *item["end_location"].values()))
        assert item["noqa_row"] == item["location"]["row"]
        assert item["url"].startswith("https://")
        assert item["code"].lower() in item["url"]
        assert isinstance(item["message"], str)
        assert item["message"]
        fix = item["fix"]
        if fix is not None:
            assert set(fix) == {"applicability", "message", "edits"}
            assert fix["applicability"] in ("safe", "unsafe")
            for edit in fix["edits"]:
                assert set(edit) == {"content", "location", "end_location"}
                assert set(edit["location"]) == position
                assert set(edit["end_location"]) == position
    by_code = {item["code"]: item for item in items}
    assert by_code["MGL001"]["end_location"] == {"row": 6, "column": 29}  # end of "A100-80G" + quote
    assert by_code["MGL003"]["fix"] is None
    assert by_code["MGL001"]["fix"]["applicability"] == "unsafe"
    assert by_code["MGL201"]["fix"]["applicability"] == "safe"
    # The edits, applied to the file, produce the fixed text.
    fixed = apply_edits(APP, by_code["MGL001"]["fix"]["edits"])
    assert '@app.function(gpu="A100-80GB", timeout=60)' in fixed
    fixed = apply_edits(APP, by_code["MGL201"]["fix"]["edits"])
    assert '@app.function(gpu="A10:8", min_containers=1)' in fixed


def apply_edits(text: str, edits: list[dict[str, Any]]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(location: dict[str, int]) -> int:
        return starts[location["row"] - 1] + location["column"] - 1

    for edit in sorted(edits, key=lambda e: offset(e["location"]), reverse=True):
        text = text[: offset(edit["location"])] + edit["content"] + text[offset(edit["end_location"]) :]
    return text


def test_json_with_no_findings_is_an_empty_array(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": CLEAN})
    result = run_cli("--format", "json", cwd=tmp_path)
    assert result.returncode == 0
    assert json.loads(result.stdout) == []


def test_statistics(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": APP, "b.py": APP})
    result = run_cli("--statistics", cwd=tmp_path)
    assert result.returncode == 1
    rows = [re.match(r"^\s*(\d+)\s+(MGL\d{3})\s+\[(.)\]\s+(\S+)$", line) for line in result.stdout.splitlines()]
    assert all(rows), result.stdout
    table = {m[2]: (int(m[1]), m[3], m[4]) for m in rows if m}
    assert table == {
        "MGL001": (2, " ", "unknown-gpu-type"),
        "MGL003": (2, " ", "gpu-count-out-of-range"),
        "MGL101": (2, " ", "missing-timeout"),
        "MGL201": (2, "*", "renamed-autoscaler-parameter"),
    }


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"modal-gpu-lint {version('modal-gpu-lint')}"


# ---- rule and catalog -----------------------------------------------------------------------------
def test_rule_explains_what_why_example_fix() -> None:
    result = run_cli("rule", "MGL003")
    assert result.returncode == 0
    out = result.stdout
    assert out.startswith("# gpu-count-out-of-range (MGL003)")
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert heading in out
    assert "Fix: none." in out
    assert '@app.function(gpu="A10:8")' in out
    fixable = run_cli("rule", "missing-timeout").stdout  # by name, too
    assert "# missing-timeout (MGL101)" in fixable
    assert "## Fix safety" in fixable
    assert "unsafe" in fixable


def test_rule_unknown_exits_2() -> None:
    result = run_cli("rule", "MGL999")
    assert result.returncode == 2
    assert "unknown rule 'MGL999'" in result.stderr
    no_traceback(result)


def test_rule_all_lists_every_rule() -> None:
    out = run_cli("rule", "--all").stdout
    for code in ("MGL001", "MGL009", "MGL101", "MGL102", "MGL201", "MGL205"):
        assert f"({code})" in out


def test_catalog_table_with_a_config_addition(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.modal-gpu-lint.gpus.GB300]\nmemory-gb = 288\nmax-count = 8\n"})
    plain = run_cli("catalog", cwd=tmp_path.parent)
    assert plain.returncode == 0
    lines = plain.stdout.splitlines()
    assert lines[0].split()[:4] == ["type", "also", "memory", "max"]
    h100 = next(line for line in lines if line.startswith("H100 "))
    assert "80 GB" in h100
    assert " 8 " in h100
    assert "!" in h100
    assert any(line.startswith("A10 ") and "A10G" in line and "24 GB" in line for line in lines)
    assert not any(line.startswith("GB300") for line in lines)
    extended = run_cli("catalog", cwd=tmp_path)
    assert extended.returncode == 0
    gb300 = next(line for line in extended.stdout.splitlines() if line.startswith("GB300"))
    assert "288 GB" in gb300
    assert " 8 " in gb300
    assert run_cli("catalog", "--config", str(tmp_path / "pyproject.toml")).stdout == extended.stdout


# ---- selection ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], {"MGL001", "MGL003", "MGL101", "MGL201"}),
        (["--select", "MGL1"], {"MGL101"}),
        (["--select", "MGL0"], {"MGL001", "MGL003", "MGL009"}),
        (["--select", "mgl001,MGL201"], {"MGL001", "MGL201"}),
        (["--ignore", "MGL0"], {"MGL101", "MGL201"}),
        (["--ignore", "MGL101,MGL2"], {"MGL001", "MGL003"}),
        (["--extend-select", "MGL009"], {"MGL001", "MGL003", "MGL009", "MGL101", "MGL201"}),
        (["--select", "ALL", "--ignore", "MGL1,MGL2,MGL3,MGL4"], {"MGL001", "MGL003", "MGL009"}),
        (["--select", "MGL0", "--ignore", "MGL009"], {"MGL001", "MGL003"}),
    ],
)
def test_selectors(tmp_path: Path, args: list[str], expected: set[str]) -> None:
    write(tmp_path, {"app.py": APP, "lower.py": LOWER})
    result = run_cli("--format", "concise", *args, cwd=tmp_path)
    assert {c for *_, c in codes_at(result.stdout)} == expected, result.stdout + result.stderr


@pytest.mark.parametrize("flag", ["--select", "--extend-select", "--ignore"])
def test_unknown_selector_exits_2(tmp_path: Path, flag: str) -> None:
    write(tmp_path, {"app.py": APP})
    result = run_cli(flag, "MGL001,FOO", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{flag}: unknown rule selector 'FOO'" in result.stderr
    no_traceback(result)


def test_config_select_and_cli_select(tmp_path: Path) -> None:
    write(
        tmp_path, {"app.py": APP, "pyproject.toml": '[tool.modal-gpu-lint]\nselect = ["MGL0"]\nignore = ["MGL003"]\n'}
    )
    result = run_cli("--format", "concise", cwd=tmp_path)
    assert {c for *_, c in codes_at(result.stdout)} == {"MGL001"}
    result = run_cli("--format", "concise", "--select", "MGL2", cwd=tmp_path)  # the CLI replaces `select`
    assert {c for *_, c in codes_at(result.stdout)} == {"MGL201"}


def test_config_extend_select(tmp_path: Path) -> None:
    write(tmp_path, {"lower.py": LOWER, "pyproject.toml": '[tool.modal-gpu-lint]\nextend-select = ["MGL009"]\n'})
    result = run_cli("--format", "concise", cwd=tmp_path)
    assert codes_at(result.stdout) == [("lower.py", 6, 15, "MGL009")]


def test_per_file_ignores(tmp_path: Path) -> None:
    config = '[tool.modal-gpu-lint.per-file-ignores]\n"legacy/*.py" = ["MGL1", "MGL201"]\n"scripts/" = ["ALL"]\n'
    write(tmp_path, {"pyproject.toml": config, "app.py": APP, "legacy/old.py": APP, "scripts/run.py": APP})
    result = run_cli("--format", "concise", cwd=tmp_path)
    found = codes_at(result.stdout)
    assert {c for name, *_, c in found if name == "app.py"} == {"MGL001", "MGL003", "MGL101", "MGL201"}
    assert {c for name, *_, c in found if name == "old.py"} == {"MGL001", "MGL003"}
    assert not [f for f in found if f[0] == "run.py"]


def test_exclude_skips_folders_when_walking_but_not_explicit_files(tmp_path: Path) -> None:
    config = '[tool.modal-gpu-lint]\nexclude = ["generated", "*_pb2.py"]\n'
    write(tmp_path, {"pyproject.toml": config, "app.py": CLEAN, "generated/app.py": APP, "api_pb2.py": APP})
    result = run_cli("--format", "concise", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    result = run_cli("--format", "concise", "generated/app.py", cwd=tmp_path)
    assert result.returncode == 1
    assert len(codes_at(result.stdout)) == 4


def test_default_excludes(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": CLEAN, "build/app.py": APP, "node_modules/x/app.py": APP, "__pycache__/app.py": APP})
    assert run_cli(cwd=tmp_path).returncode == 0


def test_config_is_found_from_the_working_folder_upwards(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.modal-gpu-lint]\nselect = ["MGL1"]\n', "src/pkg/app.py": APP})
    # a pyproject.toml without the table is passed over, as ruff does
    write(tmp_path, {"src/pyproject.toml": '[project]\nname = "pkg"\n'})
    result = run_cli("--format", "concise", "app.py", cwd=tmp_path / "src" / "pkg")
    assert codes_at(result.stdout) == [("app.py", 10, 2, "MGL101")]


def test_explicit_config_file(tmp_path: Path) -> None:
    write(tmp_path, {"project/app.py": APP, "configs/strict.toml": '[tool.modal-gpu-lint]\nselect = ["MGL2"]\n'})
    result = run_cli("--format", "concise", "--config", "../configs/strict.toml", "app.py", cwd=tmp_path / "project")
    assert codes_at(result.stdout) == [("app.py", 10, 28, "MGL201")]


def test_fix_timeout_is_what_the_mgl101_fix_writes(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": APP, "pyproject.toml": "[tool.modal-gpu-lint]\nfix-timeout = 1800\n"})
    items = json.loads(run_cli("--format", "json", cwd=tmp_path).stdout)
    (mgl101,) = [i for i in items if i["code"] == "MGL101"]
    assert "timeout=1800" in mgl101["fix"]["message"]
    assert "timeout=1800" in apply_edits(APP, mgl101["fix"]["edits"])


def test_config_gpus_table_changes_verdicts(tmp_path: Path) -> None:
    app = APP.replace('"A100-80G"', '"GB300:8"')
    config = (
        "[tool.modal-gpu-lint.gpus.GB300]\nmemory-gb = 288\nmax-count = 8\n"
        "[tool.modal-gpu-lint.gpus.A10]\nmax-count = 8\n"
    )
    write(tmp_path, {"app.py": app, "pyproject.toml": config})
    result = run_cli("--format", "concise", cwd=tmp_path)
    assert {c for *_, c in codes_at(result.stdout)} == {"MGL101", "MGL201"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('select = "MGL001"', "select must be a list of strings, got 'MGL001'"),
        ("ignore = [1]", "ignore must be a list of strings"),
        ('select = ["NOPE"]', "select: unknown rule selector 'NOPE'"),
        ('per-file-ignores = { "x.py" = ["MGL9"] }', "per-file-ignores.'x.py': unknown rule selector 'MGL9'"),
        ('per-file-ignores = { "x.py" = "MGL001" }', "per-file-ignores.'x.py' must be a list of codes"),
        ('per-file-ignores = ["x"]', "per-file-ignores must be a table"),
        ('exclude = "build"', "exclude must be a list of strings, got 'build'"),
        ('fix-timeout = "1h"', "fix-timeout must be a whole number of seconds from 1 to 86400, got '1h'"),
        ("fix-timeout = 0", "fix-timeout must be a whole number of seconds from 1 to 86400, got 0"),
        ("fix-timeout = 100000", "fix-timeout must be a whole number"),
        ("colour = 1", "unknown key 'colour'"),
        ("gpus = 1", "gpus must be a table"),
        ('[tool.modal-gpu-lint.gpus.H100]\nmemory-gb = "80"', "gpus.H100.memory-gb: expected a positive number"),
        ("[tool.modal-gpu-lint.gpus.GB300]\nmax-count = 8", "gpus.GB300: a new GPU type needs 'memory-gb'"),
        ("[tool.modal-gpu-lint.gpus.T4]\ncolor = 1", "gpus.T4: unknown key 'color'"),
        ("[tool.modal-gpu-lint.gpus.T4]\nsuffixes = ['?']", "gpus.T4.suffixes: suffixes may only be"),
        ("select = [", "invalid TOML"),
    ],
)
def test_bad_config_exits_2_naming_the_key(tmp_path: Path, config: str, message: str) -> None:
    write(tmp_path, {"app.py": APP, "pyproject.toml": "[tool.modal-gpu-lint]\n" + config + "\n"})
    result = run_cli("--format", "concise", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"modal-gpu-lint: error: {tmp_path.resolve() / 'pyproject.toml'}: ")
    assert message in line
    no_traceback(result)


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    result = run_cli("--config", "nope.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert "nope.toml: cannot read" in result.stderr
    no_traceback(result)


def test_check_subcommand_is_the_default(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": APP})
    assert (
        run_cli("check", "--format", "concise", cwd=tmp_path).stdout
        == run_cli("--format", "concise", cwd=tmp_path).stdout
    )


def test_no_color_when_piped(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": APP})
    assert "\x1b[" not in run_cli(cwd=tmp_path).stdout


def test_paths_are_printed_as_given(tmp_path: Path) -> None:
    write(tmp_path, {"src/app.py": APP})
    result = run_cli("--format", "concise", "src", cwd=tmp_path)
    assert result.stdout.splitlines()[0].startswith(f"src{os.sep}app.py:6:15: MGL001 ")


def test_removed_keyword_beside_its_new_name_says_to_delete_it(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": "import modal\n\napp = modal.App()\n\n\n"
            "@app.function(min_containers=1, keep_warm=2)\ndef f():\n    pass\n"
        },
    )
    result = run_cli("--format", "concise", "app.py", cwd=tmp_path)
    assert result.returncode == 1
    assert (
        "app.py:6:33: MGL201 keep_warm= was removed (it raises since client 1.4.0) and "
        "min_containers= is already given: delete keep_warm=" in result.stdout
    )
