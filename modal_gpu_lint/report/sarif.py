"""SARIF 2.1.0 output, as GitHub code scanning reads it (`--format sarif`)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from modal_gpu_lint import __version__
from modal_gpu_lint.findings import Diagnostic, Edit
from modal_gpu_lint.report.docs import explain
from modal_gpu_lint.report.output import in_cell, level
from modal_gpu_lint.rules.registry import RULES
from modal_gpu_lint.run.engine import FileError

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/modal-gpu-lint/modal-gpu-lint"
SRCROOT = "%SRCROOT%"


def to_sarif(diagnostics: Sequence[Diagnostic], errors: Sequence[FileError] = (), root: Path | None = None) -> str:
    """One SARIF log with one run: every rule's metadata, the results, and unreadable files."""
    base = (root or Path.cwd()).resolve()
    index = {code: i for i, code in enumerate(RULES)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "modal-gpu-lint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(code) for code in RULES],
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": base.as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "invocations": [
            {
                "executionSuccessful": not errors,
                "toolExecutionNotifications": [_notification(e, base) for e in errors],
            }
        ],
        "results": [_result(d, index[d.code], base) for d in diagnostics],
    }
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2)


def _rule(code: str) -> dict[str, Any]:
    rule = RULES[code]
    help_text = explain(rule)
    return {
        "id": code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why},
        "help": {"text": help_text, "markdown": help_text},
        "helpUri": rule.url,
        "defaultConfiguration": {"level": level(code), "enabled": rule.default},
        "properties": {"tags": ["modal", _GROUPS.get(code[:4], "modal")]},
    }


_GROUPS = {
    "MGL0": "gpu-value",
    "MGL1": "timeout",
    "MGL2": "removed-api",
    "MGL3": "availability-cost",
    "MGL4": "gpu-need",
}


def artifact(path: str, base: Path) -> dict[str, str]:
    """An artifactLocation: relative to `base` (with `uriBaseId`) when inside it, else a file URI."""
    absolute = Path(os.path.abspath(path))
    try:
        rel = absolute.relative_to(base)
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(rel.as_posix()), "uriBaseId": SRCROOT}


def _region(row: int, column: int, end_row: int, end_column: int) -> dict[str, int]:
    return {"startLine": row, "startColumn": column, "endLine": end_row, "endColumn": end_column}


def _result(d: Diagnostic, rule_index: int, base: Path) -> dict[str, Any]:
    location = artifact(d.path, base)
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": level(d.code),
        "message": {"text": in_cell(d) + d.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": location,
                    "region": _region(d.row, d.column, d.end_row, d.end_column),
                }
            }
        ],
    }
    if d.cell is not None:  # a region would point into the notebook's JSON: name the cell instead
        del result["locations"][0]["physicalLocation"]["region"]
        result["locations"][0]["logicalLocations"] = [{"name": f"cell {d.cell}", "kind": "module"}]
        result["properties"] = {
            "cell": d.cell,
            "cellRegion": _region(d.row, d.column, d.end_row, d.end_column),
        }
    if d.fix_applicability is not None and d.edits and d.cell is None:
        result["fixes"] = [
            {
                "description": {"text": f"{d.fix_message} ({d.fix_applicability} fix)"},
                "artifactChanges": [{"artifactLocation": location, "replacements": [_replacement(e) for e in d.edits]}],
            }
        ]
    return result


def _replacement(edit: Edit) -> dict[str, Any]:
    return {
        "deletedRegion": _region(edit.row, edit.column, edit.end_row, edit.end_column),
        "insertedContent": {"text": edit.content},
    }


def _notification(error: FileError, base: Path) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact(error.path, base)}
    if error.cell is not None:
        return {
            "level": "error",
            "message": {"text": f"cell {error.cell}, line {error.row}, column {error.column}: {error.message}"},
            "locations": [{"physicalLocation": physical}],
        }
    if error.row:
        region: dict[str, int] = {"startLine": error.row}
        if error.column:
            region["startColumn"] = error.column
        physical["region"] = region
    return {
        "level": "error",
        "message": {"text": error.message},
        "locations": [{"physicalLocation": physical}],
    }
