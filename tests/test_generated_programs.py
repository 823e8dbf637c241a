"""Generated Modal programs (tests/modal_programs.py) through the engine, the fixer and the CLI.

Each program has findings planted at known rows and columns with known codes, among decoys that
must not be reported. Properties:

- the linter never fails on them and reports exactly the planted findings;
- `--fix` (safe, and with `--unsafe-fixes`) gives code that compiles, keeps every unrelated line
  in order, keeps the line endings and the BOM, removes exactly the findings whose fixes apply,
  and is a fixed point: fixing the output again changes nothing;
- the CLI (`--format json`, `--fix`) says and writes the same as the in-process engine.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path

import libcst as cst
from conftest import run_cli
from hypothesis import given, note, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled
from modal_programs import Program, programs

from modal_gpu_lint.analysis.source import decode, split_lines
from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.engine import lint_bytes
from modal_gpu_lint.run.fixer import fix_bytes

SETTINGS = load_settings(start=Path(os.sep))  # the default rules, whatever the cwd's config


def planted(program: Program) -> Counter[tuple[int, int, str]]:
    return Counter((p.row, p.column, p.code) for p in program.plants)


def first_missing(needles: list[str], haystack: list[str]) -> str | None:
    """The first of `needles` that is not found, in order, in `haystack` (None: all are)."""
    rest = iter(haystack)
    for needle in needles:
        if not any(line == needle for line in rest):
            return needle
    return None


@given(programs())
def test_exactly_the_planted_findings(program: Program) -> None:
    note(program.text)
    compile(program.data, "generated.py", "exec")  # the generator writes valid Python
    result = lint_bytes("generated.py", program.data, SETTINGS)
    assert result.error is None, result.error
    found = Counter((d.row, d.column, d.code) for d in result.diagnostics)
    assert found == planted(program), {"missing": planted(program) - found, "unexpected": found - planted(program)}


@settings(max_examples=scaled(0.5))  # each example fixes twice and lints once: half the examples
@given(programs(), st.booleans())
def test_fix_keeps_unrelated_lines_and_reaches_a_fixed_point(program: Program, unsafe: bool) -> None:
    note(program.text)
    wanted = ("safe", "unsafe") if unsafe else ("safe",)
    result = fix_bytes("generated.py", program.data, SETTINGS, unsafe=unsafe)
    assert result.error is None, result.error
    fixable = [p for p in program.plants if p.fix in wanted]
    assert (result.new_bytes is not None) == bool(fixable)
    output = program.data if result.new_bytes is None else result.new_bytes
    note(output.decode("utf-8", "replace"))

    assert output.startswith(b"\xef\xbb\xbf") == program.bom
    text = decode(output).text
    compile(text, "generated.py", "exec")
    cst.parse_module(text)
    if program.newline == "\r\n":
        assert text.count("\n") == text.count("\r\n")
    else:
        assert "\r" not in text
    lost = first_missing(program.kept, split_lines(text))
    assert lost is None, f"--fix changed or dropped the unrelated line {lost!r}"

    remaining = Counter(p.code for p in program.plants if p.fix not in wanted)
    assert Counter(d.code for d in result.diagnostics) == remaining
    assert result.fixed >= len(fixable)  # one finding per fix at least (a fix may serve several)

    again = fix_bytes("generated.py", output, SETTINGS, unsafe=unsafe)
    assert again.error is None, "a second --fix changed the file again"
    assert again.new_bytes is None, "a second --fix changed the file again"
    fresh = lint_bytes("generated.py", output, SETTINGS)
    assert [(d.row, d.column, d.code) for d in fresh.diagnostics] == [
        (d.row, d.column, d.code) for d in result.diagnostics
    ]


@settings(max_examples=scaled(0.03, minimum=4))
@given(st.lists(programs(), min_size=2, max_size=3))
def test_the_cli_agrees_with_the_engine(batch: list[Program]) -> None:
    """One CLI run over a folder of generated files: the JSON findings, then `--fix --unsafe-fixes`."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "pyproject.toml").write_text("[tool.modal-gpu-lint]\n")  # the defaults, not the repo's config
        for index, program in enumerate(batch):
            (root / f"generated_{index}.py").write_bytes(program.data)
        result = run_cli("--format", "json", "--no-cache", ".", cwd=root)
        assert result.returncode == (1 if any(p.plants for p in batch) else 0), result.stderr
        assert "Traceback" not in result.stderr
        found = Counter(
            (
                item["filename"].rsplit("generated_", 1)[1],
                item["location"]["row"],
                item["location"]["column"],
                item["code"],
            )
            for item in json.loads(result.stdout)
        )
        expected = Counter(
            (f"{index}.py", p.row, p.column, p.code) for index, program in enumerate(batch) for p in program.plants
        )
        assert found == expected

        fixed = run_cli("--fix", "--unsafe-fixes", "--no-cache", ".", cwd=root)
        assert fixed.returncode in (0, 1), fixed.stderr
        assert "Traceback" not in fixed.stderr, fixed.stderr
        for index, program in enumerate(batch):
            in_process = fix_bytes("generated.py", program.data, SETTINGS, unsafe=True).new_bytes or program.data
            assert (root / f"generated_{index}.py").read_bytes() == in_process
        assert sorted(p.name for p in root.iterdir()) == sorted(
            ["pyproject.toml", *(f"generated_{i}.py" for i in range(len(batch)))]
        )  # no temporary files left behind
