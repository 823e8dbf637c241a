"""Jupyter notebooks through the real command line: found in folders, linted cell by cell as one
program, findings placed by cell and line in every format, `--fix` writing the JSON back intact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import run_cli


def code(source: list[str], outputs: list[dict[str, Any]] | None = None, count: int | None = None) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": count, "metadata": {}, "outputs": outputs or [], "source": source}


OUTPUT = {"name": "stdout", "output_type": "stream", "text": ["Tesla T4 \u2713\n"]}
CELLS = [
    {"cell_type": "markdown", "metadata": {}, "source": ["# Training on Modal\n", 'gpu="A100-80G" in prose\n']},
    code(["%pip install -q modal\n", "!nvidia-smi\n", "import modal\n", 'app = modal.App("nb")'], [OUTPUT], 1),
    code(["%%bash\n", 'echo gpu="A100-80G" keep_warm=2\n'], count=2),
    code(
        [
            '@app.function(gpu="A100-80G", timeout=60, keep_warm=1)\n',
            "def train() -> None:\n",
            "    files = !ls\n",
            '    print("\u00e9t\u00e9", files)\n',
        ]
    ),
    code(["%%time\n", '@app.function(gpu="H100:9", timeout=60)\n', "def big() -> None: ..."]),
    code(["train?\n", '@app.function(gpu="T4", timeout=60)  # noqa: MGL009\n', "def small() -> None: ..."]),
]
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
CONCISE = [
    "nb.ipynb:cell 4:1:15: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?",
    "nb.ipynb:cell 4:1:43: MGL201 [*] keep_warm= was renamed min_containers= (it raises since client 1.4.0)",
    "nb.ipynb:cell 5:2:15: MGL003 'H100:9' asks for 9 x H100: a container can have 1 to 8",
]


def notebook(cells: list[dict[str, Any]] = CELLS, metadata: dict[str, Any] = METADATA) -> dict[str, Any]:
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def write_nb(path: Path, data: dict[str, Any], **dump: Any) -> bytes:
    """Write as Jupyter does (indent 1, UTF-8 as is, final newline) unless told otherwise."""
    options = {"indent": 1, "ensure_ascii": False, **dump}
    text = json.dumps(data, **options) + ("\n" if options["indent"] is not None else "")
    path.write_text(text, encoding="utf-8")
    return path.read_bytes()


def findings(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if ": MGL" in line]


def test_notebooks_are_found_in_folders_and_linted_cell_by_cell(tmp_path: Path) -> None:
    write_nb(tmp_path / "nb.ipynb", notebook())
    (tmp_path / "app.py").write_text('import modal\nmodal.App().function(gpu="A100-80G", timeout=1)\n')
    result = run_cli("--format", "concise", "--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert findings(result.stdout) == [
        "./app.py:2:22: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?",
        *[f"./{line}" for line in CONCISE],
    ]
    assert result.stderr == ""


def test_cells_see_the_names_of_earlier_cells(tmp_path: Path) -> None:
    # The GPU string is a name bound in cell 1 and read in cell 3 (cell 2 is markdown).
    cells = [
        code(['GPU = "A100-80G"\n', "import modal\n", "app = modal.App()\n"]),
        {"cell_type": "markdown", "metadata": {}, "source": ["text"]},
        code(["@app.function(gpu=GPU, timeout=60)\n", "def f(): ...\n"]),
    ]
    write_nb(tmp_path / "nb.ipynb", notebook(cells))
    result = run_cli("--format", "concise", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert findings(result.stdout) == [
        "nb.ipynb:cell 3:1:15: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?"
    ]


def test_text_format_shows_the_line_of_the_cell(tmp_path: Path) -> None:
    write_nb(tmp_path / "nb.ipynb", notebook())
    lines = run_cli("--no-cache", "nb.ipynb", cwd=tmp_path).stdout.splitlines()
    at = lines.index(CONCISE[2])
    assert lines[at + 1] == '   2 | @app.function(gpu="H100:9", timeout=60)'
    assert lines[at + 2] == " " * (len("   2 | ") + 14) + "^" * len('gpu="H100:9"')


def test_json_github_and_sarif_name_the_cell(tmp_path: Path) -> None:
    write_nb(tmp_path / "nb.ipynb", notebook())
    items = json.loads(run_cli("--format", "json", "--no-cache", "nb.ipynb", cwd=tmp_path).stdout)
    assert [(i["code"], i["cell"], i["location"], i["end_location"]) for i in items] == [
        ("MGL001", 4, {"row": 1, "column": 15}, {"row": 1, "column": 29}),
        ("MGL201", 4, {"row": 1, "column": 43}, {"row": 1, "column": 54}),
        ("MGL003", 5, {"row": 2, "column": 15}, {"row": 2, "column": 27}),
    ]
    assert items[1]["fix"]["edits"] == [
        {"content": "min_containers", "location": {"row": 1, "column": 43}, "end_location": {"row": 1, "column": 52}}
    ]
    github = run_cli("--format", "github", "--no-cache", "nb.ipynb", cwd=tmp_path).stdout.splitlines()
    assert github[2] == (
        "::error title=MGL003 (gpu-count-out-of-range),file=nb.ipynb::"
        "cell 5, line 2, column 15: 'H100:9' asks for 9 x H100: a container can have 1 to 8"
    )
    sarif = json.loads(run_cli("--format", "sarif", "--no-cache", "nb.ipynb", cwd=tmp_path).stdout)
    result = sarif["runs"][0]["results"][2]
    assert result["properties"] == {
        "cell": 5,
        "cellRegion": {"startLine": 2, "startColumn": 15, "endLine": 2, "endColumn": 27},
    }
    assert result["locations"][0]["logicalLocations"] == [{"name": "cell 5", "kind": "module"}]
    assert result["message"]["text"].startswith("cell 5, line 2, column 15: 'H100:9'")


def test_fix_writes_the_notebook_back_with_only_the_fixed_line_changed(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    before = write_nb(path, notebook())
    result = run_cli("--fix", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1  # MGL001 and MGL003 remain
    after = path.read_bytes()
    assert after == before.replace(b"keep_warm=1", b"min_containers=1")  # outputs, metadata, magics, layout kept
    data = json.loads(after)
    assert data["cells"][1]["outputs"] == [OUTPUT]
    assert data["cells"][3]["source"][0] == '@app.function(gpu="A100-80G", timeout=60, min_containers=1)\n'


def test_unsafe_fix_keeps_another_layout_and_string_sources(tmp_path: Path) -> None:
    cells = [
        code(["import modal\n", "app = modal.App()\n"]),
        {**code([]), "source": '@app.function(gpu="a100-80G", timeout=60)\ndef f(): ...'},
    ]
    path = tmp_path / "nb.ipynb"
    before = write_nb(path, notebook(cells), indent=2, ensure_ascii=True)
    result = run_cli("--fix", "--unsafe-fixes", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert path.read_bytes() == before.replace(b"a100-80G", b"A100-80GB")
    assert (
        json.loads(path.read_bytes())["cells"][1]["source"]
        == '@app.function(gpu="A100-80GB", timeout=60)\ndef f(): ...'
    )


def test_fix_adds_an_import_into_the_first_code_cell(tmp_path: Path) -> None:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["intro"]},
        code(["from modal import App\n", "app = App()\n"]),
        code(['@app.function(gpu="T4")\n', "def f(): ...\n"]),
    ]
    path = tmp_path / "nb.ipynb"
    write_nb(path, notebook(cells))
    diff = run_cli("--diff", "--unsafe-fixes", "--select", "MGL101", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert "timeout=3600" in diff.stdout
    run_cli("--fix", "--unsafe-fixes", "--select", "MGL101", "--no-cache", "nb.ipynb", cwd=tmp_path)
    sources = ["".join(c["source"]) for c in json.loads(path.read_bytes())["cells"]]
    assert sources[0] == "intro"
    assert sources[2] == '@app.function(gpu="T4", timeout=3600)\ndef f(): ...\n'
    assert run_cli("--no-cache", "--select", "MGL101", "nb.ipynb", cwd=tmp_path).returncode == 0


def test_a_cell_with_a_syntax_error_is_reported_and_the_rest_is_linted(tmp_path: Path) -> None:
    broken = code(['@app.function(gpu="T4", timeout=60\n', "def broken(:\n"])
    cells = [*CELLS[:2], broken, *CELLS[3:4]]
    path = tmp_path / "nb.ipynb"
    before = write_nb(path, notebook(cells))
    result = run_cli("--format", "concise", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "nb.ipynb:cell 3:2:1: cannot parse: invalid syntax\n"
    assert findings(result.stdout) == CONCISE[:2]
    fixed = run_cli("--fix", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert fixed.returncode == 2
    assert path.read_bytes() == before.replace(b"keep_warm=1", b"min_containers=1")  # the broken cell kept as is


def test_a_notebook_that_is_not_json_is_an_error_naming_the_line_and_others_go_on(tmp_path: Path) -> None:
    (tmp_path / "bad.ipynb").write_text('{"cells": [\n  {"cell_type": "code",,}\n]}\n', encoding="utf-8")
    (tmp_path / "list.ipynb").write_text("[]\n", encoding="utf-8")
    write_nb(tmp_path / "nb.ipynb", notebook())
    result = run_cli("--format", "concise", "--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "./bad.ipynb:2:24: cannot read notebook: not valid JSON (Expecting property name enclosed in double quotes)",
        "./list.ipynb: not a Jupyter notebook: the JSON is not an object",
    ]
    assert findings(result.stdout) == [f"./{line}" for line in CONCISE]
    before = (tmp_path / "bad.ipynb").read_bytes()
    assert run_cli("--fix", "--no-cache", "bad.ipynb", cwd=tmp_path).returncode == 2
    assert (tmp_path / "bad.ipynb").read_bytes() == before


def test_a_notebook_of_another_language_is_not_linted(tmp_path: Path) -> None:
    write_nb(tmp_path / "nb.ipynb", notebook(metadata={"language_info": {"name": "R"}}))
    result = run_cli("--no-cache", "nb.ipynb", cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "All checks passed!")


def test_a_notebook_on_stdin(tmp_path: Path) -> None:
    data = json.dumps(notebook(), indent=1, ensure_ascii=False) + "\n"
    result = run_cli("--format", "concise", "--stdin-filename", "nb.ipynb", "-", cwd=tmp_path, input=data.encode())
    assert findings(result.stdout) == CONCISE
    fixed = run_cli("--fix", "--stdin-filename", "nb.ipynb", "-", cwd=tmp_path, input=data.encode())
    assert fixed.stdout == data.replace("keep_warm=1", "min_containers=1")


def test_inventory_leaves_notebooks_out(tmp_path: Path) -> None:
    write_nb(tmp_path / "nb.ipynb", notebook())
    result = run_cli("inventory", "--format", "json", ".", cwd=tmp_path)
    assert (result.returncode, json.loads(result.stdout), result.stderr) == (0, [], "")
