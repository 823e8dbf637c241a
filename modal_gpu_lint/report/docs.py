"""Human-readable rule explanations and the catalog table."""

from __future__ import annotations

import textwrap

from modal_gpu_lint.facts.catalog import Catalog
from modal_gpu_lint.rules.registry import Rule


def explain(rule: Rule) -> str:
    """What `modal-gpu-lint rule CODE` prints: what, why, example, fix."""
    fix = {"safe": "safe (applied by --fix)", "unsafe": "unsafe (needs --fix --unsafe-fixes)", None: "none"}[rule.fix]
    parts = [
        f"# {rule.name} ({rule.code})",
        f"Default: {'on' if rule.default else 'off (select it to use it)'}. Fix: {fix}.",
        "## What it does\n" + _wrap(rule.summary),
        "## Why is this bad?\n" + _wrap(rule.why),
        "## Example\n```python\n" + rule.example + "\n```",
        "## Use instead\n```python\n" + rule.instead + "\n```",
    ]
    if rule.fix_note:
        parts.append("## Fix safety\n" + _wrap(rule.fix_note))
    return "\n\n".join(parts)


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=96)


def catalog_table(catalog: Catalog) -> str:
    """The GPU table in force, one row per type."""
    header = ("type", "also", "memory", "max", "suffixes", "$/GPU-s", "notes")
    rows = [
        (
            gpu.canonical,
            ", ".join(gpu.aliases),
            f"{gpu.memory_gb:g} GB",
            str(gpu.max_count) if gpu.max_count else "-",
            " ".join(gpu.suffixes),
            f"{gpu.price:.6f}" if gpu.price else "-",
            gpu.note,
        )
        for gpu in catalog.types
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header) - 1)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=False)) + "  " + r[-1] for r in (header, *rows)
    ]
    lines.insert(1, "-" * min(120, len(lines[0])))
    footer = f"\nCatalog checked {catalog.checked} ({catalog.source}); prices as of {catalog.prices_as_of}."
    return "\n".join(line.rstrip() for line in lines) + footer
