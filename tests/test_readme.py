"""The README tells the truth: its commands, rules table, examples, config and outputs are checked
against the code and the real CLI, so the docs cannot drift."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import ROOT, run_cli

from modal_gpu_lint.rules.registry import RULES
from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.engine import lint_bytes

README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = "tests/fixtures/example/gpu_app.py"


def load_update_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("update_docs", ROOT / "scripts" / "update_docs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["update_docs"] = module
    spec.loader.exec_module(module)
    return module


UPDATE_DOCS = load_update_docs()


DOCS = ROOT / "docs"


def section(title: str, doc: str = "README.md") -> str:
    """The text of `## title` in `doc` (README.md or docs/NAME.md) up to the next `## ` heading."""
    text = README if doc == "README.md" else (ROOT / doc).read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"{doc} has no '## {title}' section"
    return match.group(1)


OUTPUT_DOC = "docs/output-formats.md"


def blocks(text: str, language: str = "") -> list[str]:
    """The fenced code blocks of `text` whose info string is `language` ("" = none)."""
    out: list[str] = []
    current: list[str] | None = None
    info = ""
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            if current is None:
                current, info = [], line[3:].strip()
            else:
                if info == language:
                    out.append("".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return out


def test_readme_opens_with_the_two_commands() -> None:
    head = README.split("## ", 1)[0]
    for marker in ("run-command", "test-command"):
        match = re.search(rf"<!-- {marker} -->\n```\n(.+?)\n```\n<!-- {marker} -->", head)
        assert match, marker
        assert match.group(1).startswith("python3 -m venv .venv && ")
    assert ".venv/bin/modal-gpu-lint tests/fixtures/example/gpu_app.py" in head
    assert "pip install -q -e '.[test]'" in head
    assert "pytest" in head


def test_rules_table_and_reference_are_generated_from_the_rules() -> None:
    table = UPDATE_DOCS.rules_table(RULES.values())
    assert f"<!-- rules-table -->\n{table}\n<!-- rules-table -->\n" in README, (
        "the README's rules table is stale: run python scripts/update_docs.py"
    )
    reference = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert reference == UPDATE_DOCS.rules_reference(RULES.values()), (
        "docs/rules.md is stale: run python scripts/update_docs.py"
    )


def test_rules_table_rows_match_rules_md_contract() -> None:
    rows = re.findall(
        r"^\| \[(MGL\d{3})\]\(docs/rules\.md#(mgl\d{3})\) \| ([a-z0-9-]+) \| (on|off) \| (safe|unsafe|none) \|",
        README,
        re.MULTILINE,
    )
    assert [r[0] for r in rows] == list(RULES)
    for code, anchor, name, default, fix in rows:
        rule = RULES[code]
        assert anchor == code.lower()
        assert (name, default == "on", fix) == (rule.name, rule.default, rule.fix or "none")


def test_every_url_in_json_points_at_a_heading_of_the_reference() -> None:
    reference = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule in RULES.values():
        assert rule.url.endswith(f"docs/rules.md#{rule.code.lower()}")
        assert f"\n## {rule.code}\n" in reference


def test_every_rule_group_is_explained() -> None:
    rules = section("Rules")
    for heading in ("### GPU values (MGL0xx)", "### Timeouts (MGL1xx)", "### Removed Modal APIs (MGL2xx)"):
        assert heading in rules
    for code in (c for c in RULES if c < "MGL300"):
        assert code in rules.split("<!-- rules-table -->")[2], f"{code} has no example or explanation"


DOC_SECTIONS = (
    ("README.md", "Rules"),
    ("docs/rules-detail.md", "What counts as a Modal call"),
    ("README.md", "Suppressing findings"),
)
PRELUDE = "import modal\n\napp = modal.App('readme')\n"
SETTINGS = load_settings(select=["MGL0", "MGL1", "MGL2"])


def expected_codes(code: str) -> set[tuple[int, str]]:
    """(line, code) for every `# MGLxxx` comment; `# noqa: ...` comments name no expectation."""
    out = set()
    for row, line in enumerate(code.splitlines(), start=1):
        for part in line.split("#")[1:]:
            if not part.strip().lower().startswith("noqa"):
                out |= {(row, c) for c in re.findall(r"MGL\d{3}", part)}
    return out


PYTHON_EXAMPLES = [(title, code) for doc, title in DOC_SECTIONS for code in blocks(section(title, doc), "python")]


@pytest.mark.parametrize(
    ("title", "code"), PYTHON_EXAMPLES, ids=[f"{t}-{i}" for i, (t, _) in enumerate(PYTHON_EXAMPLES)]
)
def test_python_examples_report_what_their_comments_say(title: str, code: str) -> None:
    program = code if code.startswith("import") else PRELUDE + code
    offset = 0 if program is code else PRELUDE.count("\n")
    result = lint_bytes("example.py", program.encode(), SETTINGS)
    assert result.error is None, result.error
    found = {(d.row - offset, d.code) for d in result.diagnostics}
    assert found == expected_codes(code)


def test_configuration_example_is_valid_and_means_what_it_says(tmp_path: Path) -> None:
    (toml,) = blocks(section("Configuration"), "toml")
    (tmp_path / "pyproject.toml").write_text(toml, encoding="utf-8")
    settings = load_settings(tmp_path / "pyproject.toml")
    expected = {c for c in RULES if c[:4] in ("MGL0", "MGL1", "MGL2", "MGL4")} - {"MGL205"}
    assert settings.selected == frozenset(expected)
    assert "MGL009" in settings.selected
    assert settings.fix_timeout == 7200
    assert settings.codes_for(str(tmp_path / "tests" / "test_app.py")) == settings.selected - {"MGL101"}
    assert not settings.codes_for(str(tmp_path / "legacy" / "old.py")) & {"MGL201", "MGL205"}
    assert settings.is_excluded(str(tmp_path / "generated" / "x.py"))
    assert settings.is_excluded(str(tmp_path / "a_pb2.py"))
    assert settings.is_excluded(str(tmp_path / ".venv"))  # extend-exclude keeps the defaults
    gb300 = settings.catalog.lookup("GB300")
    assert gb300 is not None
    assert (gb300.memory_gb, gb300.max_count) == (288, 8)
    rtx = settings.catalog.lookup("RTX-PRO-6000")
    assert rtx is not None
    assert rtx.max_count == 4


def test_configuration_error_example_is_the_real_message(tmp_path: Path) -> None:
    (example,) = [b for b in blocks(section("Configuration")) if b.startswith("modal-gpu-lint: error:")]
    (tmp_path / "pyproject.toml").write_text('[tool.modal-gpu-lint]\nfix-timeout = "1h"\n', encoding="utf-8")
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    actual = result.stderr.strip().replace(str(tmp_path.resolve()), "/work/project")
    assert actual == example.strip()


def shell_example(text: str, command: str) -> list[str]:
    (block,) = [b for b in blocks(text) if b.startswith(f"$ {command}\n")]
    return block.splitlines()[1:]


def test_concise_output_example() -> None:
    result = run_cli("--format", "concise", EXAMPLE, cwd=ROOT)
    for doc in ("README.md", OUTPUT_DOC):
        shown = shell_example(section("Output", doc), f"modal-gpu-lint --format concise {EXAMPLE}")
        assert result.stdout.splitlines() == shown, doc


def test_text_output_example_is_part_of_the_real_output() -> None:
    shown = "\n".join(shell_example(section("Output", OUTPUT_DOC), f"modal-gpu-lint {EXAMPLE}"))
    result = run_cli(EXAMPLE, cwd=ROOT)
    for chunk in shown.split("\n\n"):
        assert chunk in result.stdout


def test_statistics_output_example() -> None:
    shown = shell_example(section("Output", OUTPUT_DOC), f"modal-gpu-lint --statistics {EXAMPLE}")
    assert run_cli("--statistics", EXAMPLE, cwd=ROOT).stdout.splitlines() == shown


def test_json_output_example() -> None:
    (block,) = blocks(section("Output", OUTPUT_DOC), "json")
    (shown,) = json.loads(block)
    actual = json.loads(run_cli("--format", "json", EXAMPLE, cwd=ROOT).stdout)
    (same,) = [d for d in actual if d["code"] == shown["code"]]
    assert same["filename"] == str(ROOT / EXAMPLE)
    assert shown["filename"] == "/path/to/" + EXAMPLE
    assert {**same, "filename": shown["filename"]} == shown


def test_error_line_examples_match_the_real_messages(tmp_path: Path) -> None:
    (block,) = [b for b in blocks(section("MGL000", OUTPUT_DOC)) if "cannot parse" in b]
    (tmp_path / "broken.py").write_bytes(
        b"import modal\napp = modal.App()\n\n@app.function(gpu='T4', timeout=60\ndef f(): ...\n"
    )
    (tmp_path / "legacy.py").write_bytes(
        b'import modal\napp = modal.App()\nX = "\xc3\xa9\xc3\xa9\xff"\napp.function(gpu="T4")\n'
    )
    result = run_cli("--no-cache", "broken.py", "legacy.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == block.splitlines()
    # and the same problems as MGL000 diagnostics in the report itself
    assert [line.split(" ", 2)[:2] for line in result.stdout.splitlines() if " MGL000 " in line] == [
        [line.split(": ", 1)[0] + ":", "MGL000"] for line in block.splitlines()
    ]


# ---- the README is a front page; the details live in docs/ ---------------------------------------
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def test_readme_is_short_and_has_its_sections() -> None:
    assert README.count("\n") < 400
    for title in ("Install", "Quick start", "Rules", "Configuration", "Suppressing findings", "Output"):
        section(title)
    integrations = section("Integrations")
    for heading in ("pre-commit", "flake8", "mypy", "GitHub Actions", "Editors and notebooks"):
        assert f"\n### {heading}\n" in f"\n{integrations}", heading


@pytest.mark.parametrize("doc", ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in DOCS.glob("*.md"))])
def test_links_point_at_what_exists(doc: str) -> None:
    """Relative links name files (and headings) that exist; no address of a host or package index
    the project does not have."""
    path = ROOT / doc
    text = path.read_text(encoding="utf-8")
    assert "github.com/modal-gpu-lint" not in text
    assert "pypi.org/project/modal-gpu-lint" not in text
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        assert linked.exists(), f"{doc}: {target}"
        if anchor and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.MULTILINE)
            slugs = {re.sub(r"[^a-z0-9 _-]", "", h.lower()).replace(" ", "-") for h in headings}
            assert anchor in slugs, f"{doc}: {target}"


def test_every_url_the_tool_prints_exists() -> None:
    from modal_gpu_lint.report.output import FILE_ERROR_URL

    for url in [rule.url for rule in RULES.values()] + [FILE_ERROR_URL]:
        file, _, anchor = url.partition("#")
        text = (ROOT / file).read_text(encoding="utf-8")
        assert f"\n## {anchor.upper()}\n" in text, url
