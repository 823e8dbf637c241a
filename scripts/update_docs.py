"""Regenerate the rule docs from the rules themselves, so they never drift.

    python scripts/update_docs.py          # rewrite README.md's rules table and docs/rules.md
    python scripts/update_docs.py --check  # exit 1 if either is out of date (tests/test_readme.py does this)

The README table sits between two `<!-- rules-table -->` lines; docs/rules.md is written whole.
Every finding's JSON `url` points into docs/rules.md (`#mgl001`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from modal_gpu_lint.rules.registry import RULES, Rule

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
REFERENCE = ROOT / "docs" / "rules.md"
MARKER = "<!-- rules-table -->"
GROUPS = {
    "MGL0": "GPU values",
    "MGL1": "Timeouts",
    "MGL2": "Removed Modal APIs",
    "MGL3": "Availability and cost advice",
    "MGL4": "What the code needs versus what it requests",
}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _fix(rule: Rule) -> str:
    return rule.fix or "none"


def rules_table(rules: Iterable[Rule]) -> str:
    """The markdown table of every rule: code, name, default, fix, what it flags."""
    lines = ["| code | name | default | fix | what it flags |", "|---|---|---|---|---|"]
    for rule in rules:
        lines.append(
            f"| [{rule.code}](docs/rules.md#{rule.code.lower()}) | {rule.name} | {'on' if rule.default else 'off'}"
            f" | {_fix(rule)} | {_cell(rule.summary)} |"
        )
    return "\n".join(lines)


def rules_reference(rules: Iterable[Rule]) -> str:
    """docs/rules.md: one section per rule (what, why, example, use instead, fix safety)."""
    out = [
        "# Rules",
        "",
        "Generated from the rules by `python scripts/update_docs.py`; `modal-gpu-lint rule CODE` prints the same.",
    ]
    group = ""
    for rule in rules:
        if rule.code[:4] != group:
            group = rule.code[:4]
            out += ["", f"<!-- {GROUPS.get(group, group)} -->"]
        out += [
            "",
            f"## {rule.code}",
            "",
            f"**{rule.name}** ({GROUPS.get(group, group)}). Default: {'on' if rule.default else 'off'}."
            f" Fix: {_fix(rule)}.",
            "",
            "### What it does",
            "",
            " ".join(rule.summary.split()),
            "",
            "### Why is this bad?",
            "",
            " ".join(rule.why.split()),
            "",
            "### Example",
            "",
            "```python",
            rule.example,
            "```",
            "",
            "### Use instead",
            "",
            "```python",
            rule.instead,
            "```",
        ]
        if rule.fix_note:
            out += ["", "### Fix safety", "", " ".join(rule.fix_note.split())]
    return "\n".join(out) + "\n"


def readme_with_table(readme: str, table: str) -> str:
    """README text with the table between the markers replaced."""
    head, first, rest = readme.partition(MARKER + "\n")
    _, second, tail = rest.partition(MARKER + "\n")
    if not first or not second:
        raise SystemExit(f"README.md needs two '{MARKER}' lines around the rules table")
    return f"{head}{MARKER}\n{table}\n{MARKER}\n{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether the docs are up to date")
    options = parser.parse_args(argv)
    rules = list(RULES.values())
    wanted = {
        README: readme_with_table(README.read_text(encoding="utf-8"), rules_table(rules)),
        REFERENCE: rules_reference(rules),
    }
    stale = [path for path, text in wanted.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    if options.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run python scripts/update_docs.py", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted[path], encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
