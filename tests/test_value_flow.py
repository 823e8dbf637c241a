"""What users read about values the linter followed: where a value came from, and the inventory of
requests written as removed `modal.gpu` objects, `**{...}` splats, loops and config objects."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

PROGRAM = """\
import os

import modal

app = modal.App("flow")
GPU_TYPE = "A100-80G"
GPUS_PER_NODE = int(os.environ.get("GPUS_PER_NODE", "12"))
OPTIONS = {"gpu": "H200!", "timeout": 60}


@app.function(gpu=GPU_TYPE, timeout=60)
def named() -> None: ...


@app.function(gpu=f"H100:{GPUS_PER_NODE}", timeout=60)
def from_env() -> None: ...


@app.function(**OPTIONS)
def splatted() -> None: ...


for kind in ["T4", "L4!"]:
    app.function(gpu=kind, timeout=60)(named)


@app.function(gpu="A100-80G", timeout=60)
def written_here() -> None: ...


@app.cls(gpu=modal.gpu.A100(size="80GB", count=2), timeout=60)
class Old: ...
"""


def test_messages_say_where_a_value_came_from(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(PROGRAM)
    result = run_cli("--no-cache", "--format", "concise", "flow.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:6] == [
        "flow.py:11:15: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'? (value from GPU_TYPE (line 6))",
        "flow.py:15:15: MGL003 'H100:12' asks for 12 x H100: a container can have 1 to 8 (value from the default "
        "of $GPUS_PER_NODE ('12'), which runs when $GPUS_PER_NODE is not set)",
        "flow.py:19:15: MGL004 'H200!': the suffix '!' pins the exact type (no upgrade) and is accepted only on "
        "H100; Modal rejects 'H200!' (value from OPTIONS (line 8))",
        "flow.py:24:18: MGL004 'L4!': the suffix '!' pins the exact type (no upgrade) and is accepted only on H100; "
        "Modal rejects 'L4!' (value from the loop variable kind (line 23))",
        "flow.py:27:15: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?",
        'flow.py:31:14: MGL008 [*] modal.gpu objects were removed in client 1.4.0: write gpu="A100-80GB:2"',
    ]


def test_inventory_shows_followed_requests(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(PROGRAM)
    result = run_cli("inventory", "--format", "json", "flow.py", cwd=tmp_path)
    rows = json.loads(result.stdout)
    assert [(r["line"], r["name"], r["gpu"], r["count"], r["timeout"]) for r in rows] == [
        (11, "named", "A100-80G", 1, 60),
        (15, "from_env", "H100:12", 12, 60),
        (19, "splatted", "H200!", 1, 60),
        (24, None, "T4", 1, 60),
        (24, None, "L4!", 1, 60),
        (27, "written_here", "A100-80G", 1, 60),
        (31, "Old", "A100-80GB:2", 2, 60),
    ]


def test_an_argparse_default_is_judged_and_named_in_the_message_and_the_inventory() -> None:
    fixture = Path(__file__).parent / "fixtures" / "lint" / "values_argparse.py"
    result = run_cli("--no-cache", "--format", "concise", fixture.name, cwd=fixture.parent)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "values_argparse.py:17:15: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'? (value from the "
        "default of --gpu (line 8), which runs when --gpu is not given)",
        "values_argparse.py:21:15: MGL003 'H100:12' asks for 12 x H100: a container can have 1 to 8 (value from the "
        "default of --n-gpus (line 9), which runs when --n-gpus is not given)",
    ]
    inventory = run_cli("inventory", "--format", "json", fixture.name, cwd=fixture.parent)
    rows = json.loads(inventory.stdout)
    assert [(r["line"], r["gpu"], r["fallbacks"], r["timeout"]) for r in rows] == [
        (17, "A100-80G", [], 3600),
        (21, "H100:12", [], 3600),
        (25, "H100", ["H100"], 3600),
        (29, "T4", [], 0),
    ]


def test_the_origin_names_only_the_arm_that_gives_the_bad_value(tmp_path: Path) -> None:
    (tmp_path / "arms.py").write_text(
        "import os\n\nimport modal\n\napp = modal.App()\nOTHER = 'T4'\nBAD = 'H200!'\n\n\n"
        "@app.function(gpu='A100-80G' if os.environ.get('BIG') else OTHER, timeout=60)\ndef f(): ...\n\n\n"
        "@app.function(gpu='A100-80G' if os.environ.get('BIG') else BAD, timeout=60)\ndef g(): ...\n"
    )
    result = run_cli("--no-cache", "--format", "concise", "arms.py", cwd=tmp_path)
    assert result.stdout.splitlines()[:3] == [
        "arms.py:10:15: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?",
        "arms.py:14:15: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?",
        "arms.py:14:15: MGL004 'H200!': the suffix '!' pins the exact type (no upgrade) and is accepted only on "
        "H100; Modal rejects 'H200!' (value from BAD (line 7))",
    ]
