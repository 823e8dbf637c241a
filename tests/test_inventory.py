"""`modal-gpu-lint inventory` through the real CLI on tests/fixtures/inventory."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from conftest import FIXTURES, run_cli

INVENTORY = FIXTURES / "inventory"
H100, A100_80, L40S, H200, A100_40, L4, T4 = 0.001097, 0.000694, 0.000542, 0.001261, 0.000583, 0.000222, 0.000164


def row(
    file: str,
    line: int,
    name: str | None,
    kind: str,
    gpu: str | None,
    type: str | None,
    count: int | None,
    fallbacks: list[str | None] | None,
    memory_gb: list[float | None] | None,
    timeout: float | None,
    timeout_default: bool,
    cost_usd: float | None,
    torch: str | None = None,
    cuda: str | None = None,
) -> dict[str, Any]:
    return {
        "file": file,
        "line": line,
        "name": name,
        "kind": kind,
        "gpu": gpu,
        "type": type,
        "count": count,
        "fallbacks": fallbacks,
        "memory_gb": memory_gb,
        "timeout": timeout,
        "timeout_default": timeout_default,
        "cost_usd": None if cost_usd is None else round(cost_usd, 6),
        "torch": torch,
        "cuda": cuda,
    }


EXPECTED = [
    # an App imported from a sibling module; timeout from the environment without default: unknown
    row("remote.py", 11, "from_env", "app.function", "A10G:2", "A10", 2, [], [48], None, False, None),
    # removed modal.gpu objects and malformed strings request nothing Modal accepts: unknown
    row("remote.py", 16, "removed_api", "app.function", "modal.gpu.A100(...)", None, None, None, None, 60, False, None),
    row("remote.py", 21, "malformed", "app.function", "H100:two", None, None, [], [None], 60, False, None),
    row(
        "remote.py",
        26,
        'modal.Function.from_name("other-app", "embed")',
        "with_options",
        "L4",
        "L4",
        1,
        [],
        [24],
        90,
        False,
        L4 * 90,
    ),
    # an image build step has no timeout parameter: unknown
    row("services.py", 23, None, "image.pip_install", "A10", "A10", 1, [], [24], None, False, None),
    row("services.py", 24, "download_weights", "image.run_function", "T4", "T4", 1, [], [16], 3600, True, T4 * 3600),
    # the image's torch: unpinned, from PyPI
    row(
        "services.py",
        28,
        "train",
        "app.function",
        "H100:8",
        "H100",
        8,
        [],
        [640],
        14400,
        False,
        H100 * 8 * 14400,
        torch="torch (PyPI)",
    ),
    # fallback list: memory per entry, cost of the costliest entry (2 x A100-80GB)
    row(
        "services.py",
        33,
        "infer",
        "app.function",
        "H100",
        "H100",
        1,
        ["a100-80gb:2", "L40S"],
        [80, 160, 48],
        1800,
        False,
        max(H100 * 1800, A100_80 * 2 * 1800, L40S * 1800),
    ),
    # os.environ.get(name, default): the default, as in the checks; no timeout: Modal's 300 s
    row("services.py", 38, "embed", "app.function", "L4", "L4", 1, [], [24], 300, True, L4 * 300),
    # imported from another module: unknown, not guessed
    row("services.py", 43, "configured", "app.function", None, None, None, None, None, None, False, None),
    # a conditional with a None arm: only the GPU arm is a request
    row("services.py", 48, "maybe_big", "app.function", "H200", "H200", 1, [], [141], 600, False, H200 * 600),
    row("services.py", 58, "Model", "app.cls", "A100-40GB", "A100-40GB", 1, [], [40], 1200, False, A100_40 * 1200),
    # a server has no timeout; X300 is not in the catalog
    row("services.py", 65, "Server", "app.server", "B200+", "B200", 1, ["X300"], [192, None], None, False, None),
    row("services.py", 71, None, "sandbox.create", "L40S:2", "L40S", 2, [], [96], 600, False, L40S * 2 * 600),
    # with_options without timeout= inherits the timeout of @app.cls on Model
    row("services.py", 72, "Model", "with_options", "H100!", "H100", 1, [], [80], 1200, False, H100 * 1200),
    # gpu= from a parameter's attribute, timeout maybe in **kwargs: unknown
    row("services.py", 73, None, "sandbox.create", None, None, None, None, None, None, False, None),
]


def test_json_rows() -> None:
    result = run_cli("inventory", "--format", "json", ".", cwd=INVENTORY)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == EXPECTED
    kinds = {r["kind"] for r in EXPECTED}
    assert kinds == {
        "app.function",
        "app.cls",
        "app.server",
        "with_options",
        "sandbox.create",
        "image.pip_install",
        "image.run_function",
    }


def test_plain_python_and_cpu_only_calls_are_not_listed() -> None:
    result = run_cli("inventory", "--format", "json", "plain.py", cwd=INVENTORY)
    assert result.returncode == 0
    assert json.loads(result.stdout) == []
    names = {r["name"] for r in EXPECTED}
    assert "cpu_only" not in names


def test_csv() -> None:
    result = run_cli("inventory", "--format", "csv", "remote.py", cwd=INVENTORY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "file,line,name,kind,gpu,type,count,fallbacks,memory_gb,timeout,timeout_default,cost_usd,torch,cuda",
        "remote.py,11,from_env,app.function,A10G:2,A10,2,,48,,false,,,",
        "remote.py,16,removed_api,app.function,modal.gpu.A100(...),,,,,60,false,,,",
        "remote.py,21,malformed,app.function,H100:two,,,,,60,false,,,",
        'remote.py,26,"modal.Function.from_name(""other-app"", ""embed"")",with_options,L4,L4,1,,24,90,false,0.01998,,',
    ]
    every = run_cli("inventory", "--format", "csv", ".", cwd=INVENTORY)
    rows = list(csv.DictReader(io.StringIO(every.stdout)))
    assert len(rows) == len(EXPECTED)
    infer = next(r for r in rows if r["name"] == "infer")
    assert infer["fallbacks"] == "a100-80gb:2;L40S"
    assert infer["memory_gb"] == "80;160;48"
    server = next(r for r in rows if r["name"] == "Server")
    assert server["memory_gb"] == "192;"
    assert server["timeout"] == ""
    assert server["cost_usd"] == ""
    embed = next(r for r in rows if r["name"] == "embed")
    assert embed["timeout"] == "300"
    assert embed["timeout_default"] == "true"


def test_text_table() -> None:
    result = run_cli("inventory", ".", cwd=INVENTORY)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.rstrip("\n").splitlines()
    header, rule, *body = lines
    columns = header.split()
    assert columns == [
        "location",
        "name",
        "kind",
        "gpu",
        "count",
        "fallbacks",
        "memory",
        "timeout",
        "max",
        "cost/call",
        "image",
    ]
    starts = [m.start() for m in re.finditer(r"\S+", rule)]
    assert len(starts) == 10
    assert set(rule) == {"-", " "}
    rows, footer = body[: len(EXPECTED)], body[len(EXPECTED) :]
    assert footer[0] == ""
    assert footer[1].startswith("16 GPU requests in 2 files.")
    cells = [[line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=False)] for line in rows]
    by_location = {c[0]: c for c in cells}
    assert len(by_location) == len(EXPECTED)  # no two requests share a line in these fixtures
    assert by_location["services.py:33"] == [
        "services.py:33",
        "infer",
        "app.function",
        "H100",
        "1",
        "a100-80gb:2, L40S",
        "80/160/48 GB",
        "1800",
        "$2.50",
        "?",
    ]
    assert by_location["services.py:38"][7:] == ["default 300", "$0.0666", "?"]
    assert by_location["services.py:43"] == ["services.py:43", "configured", "app.function", *["?"] * 7]
    assert by_location["services.py:65"][3:] == ["B200+", "1", "X300", "192/? GB", "?", "?", "?"]
    assert by_location["services.py:28"][9] == "torch (PyPI)"  # the image's torch
    assert by_location["services.py:71"][9] == "-"  # a sandbox: no function image read
    assert by_location["services.py:71"][1] == "-"  # no name applies to a sandbox
    assert by_location["remote.py:11"][3:5] == ["A10", "2"]  # the catalog name, count apart


def test_catalog_additions_and_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        'import modal\n\napp = modal.App("x")\n\n\n@app.function(gpu="X300:2", timeout=100)\ndef f(): ...\n'
    )
    (tmp_path / "broken.py").write_text("import modal\n\ndef f(:\n    gpu = 1\n")
    result = run_cli("inventory", "--format", "json", ".", "missing.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "broken.py" in result.stderr
    assert "cannot parse" in result.stderr
    assert "missing.py" in result.stderr
    assert json.loads(result.stdout) == [
        row("app.py", 6, "f", "app.function", "X300:2", "X300", 2, [], [None], 100, False, None)
    ]
    (tmp_path / "pyproject.toml").write_text(
        "[tool.modal-gpu-lint.gpus.X300]\nmemory-gb = 288\nmax-count = 8\nprice = 0.002\n"
    )
    result = run_cli("inventory", "--format", "json", "app.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        row("app.py", 6, "f", "app.function", "X300:2", "X300", 2, [], [576], 100, False, 0.002 * 2 * 100)
    ]
