"""Cases the coverage report showed untested, each checked by what a user or caller sees.

- The Modal client a project pins, read from uv.lock / poetry.lock / pyproject.toml /
  requirements*.txt, including the files that cannot be read (they are skipped, never fatal).
- The rename fixes' bookkeeping (`rules.fixes`): which uses of a name are module references.
- Standard input with `--diff` and `--show-diff`.
- The generated rule table (`python -m modal_gpu_lint.rules.table`), on a copy or with writes caught.
- Which files a folder or an explicit path gives (`force-exclude`), and the editor hover text.
"""

from __future__ import annotations

import ast
import runpy
import warnings
from pathlib import Path

import libcst as cst
import pytest
from conftest import run_cli

from modal_gpu_lint.doors.lsp_text import GpuValue, gpu_value_at
from modal_gpu_lint.facts.catalog import default_catalog
from modal_gpu_lint.facts.modal_versions import Target
from modal_gpu_lint.report.gpu_help import describe_spec, describe_value
from modal_gpu_lint.rules import table as rule_table
from modal_gpu_lint.rules.fixes import is_free, name_uses, quote_like
from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.discover import python_files
from modal_gpu_lint.run.fixer import fix_bytes
from modal_gpu_lint.run.modal_target import detect_target

SETTINGS = load_settings(start=Path("/"))


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def pinned(root: Path) -> tuple[str, str] | None:
    """What `detect_target` reads, as (the version the project may run, where it was read)."""
    found = detect_target(root)
    return None if found is None else (str(found), found.source)


# ---- the Modal client a project pins ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("lock", "text", "expected"),
    [
        # `version` before `name` (another package first): not the two-line form, read as TOML
        (
            "uv.lock",
            'version = 1\n\n[[package]]\nname = "numpy"\nversion = "2.1.0"\n\n'
            '[[package]]\nversion = "0.73.160"\nname = "modal"\n',
            ("0.73.160", "uv.lock"),
        ),
        ("poetry.lock", '[[package]]\nversion = "1.1.4"\nname = "modal"\n', ("1.1.4", "poetry.lock")),
    ],
)
def test_a_lock_file_in_another_layout_is_read_as_toml(
    tmp_path: Path, lock: str, text: str, expected: tuple[str, str]
) -> None:
    assert pinned(write(tmp_path, {lock: text})) == expected


@pytest.mark.parametrize(
    "lock",
    [
        '[[package]]\nname = "modal"\nversion = "unknown"\n',  # the two-line form
        '[[package]]\nversion = "unknown"\nname = "modal"\n',  # read as TOML
    ],
)
def test_an_unreadable_locked_version_falls_back_to_the_requirement(tmp_path: Path, lock: str) -> None:
    project = write(
        tmp_path, {"uv.lock": lock, "pyproject.toml": '[project]\nname = "x"\ndependencies = ["modal<1.0"]\n'}
    )
    assert detect_target(project) == Target(
        (1, 0, 0), below=True, source="pyproject.toml [project] dependencies: modal<1.0"
    )


@pytest.mark.parametrize(
    "files",
    [
        {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["modal<1.0"\n'},  # unterminated array
        {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["numpy"]\n'},  # no modal there
        {"uv.lock": b'[[package]]\nname = "\xff"\n# modal\n'},  # not UTF-8
        {"requirements-dev.txt/notes.md": "a folder, not a file\n"},  # a folder named like a requirements file
    ],
    ids=["invalid-toml", "pyproject-without-modal", "lock-not-utf8", "requirements-folder"],
)
def test_files_that_say_nothing_readable_defer_to_requirements_txt(
    tmp_path: Path, files: dict[str, str | bytes]
) -> None:
    project = write(tmp_path, {**files, "requirements.txt": "torch\nmodal==1.2.*\n"})
    assert pinned(project) == ("<1.3.0", "requirements.txt: modal==1.2.*")


def test_a_requirement_without_a_version_pins_nothing(tmp_path: Path) -> None:
    url = "modal @ git+https://github.com/modal-labs/modal-client@main\n"
    assert pinned(write(tmp_path / "a", {"requirements.txt": url})) is None  # the newest client is assumed
    both = write(tmp_path / "b", {"requirements-gpu.txt": url, "requirements.txt": "modal<1.0\n"})
    assert pinned(both) == ("<1.0.0", "requirements.txt: modal<1.0")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ('"^1.2"', "<2.0.0"),
        ('"^0.0.3"', "<0.0.4"),  # caret: the first non-zero part may not change
        ('"~1"', "<2.0.0"),  # tilde with only a major: the major may not change
        ('"~=1.2"', "<2.0.0"),  # PEP 440, not Poetry's tilde
        ('">=0.60,<1.0"', "<1.0.0"),
        ('"==0.73.1"', "0.73.1"),
        ('"0.73.1"', "0.73.1"),  # a bare version is an exact pin in Poetry
        ('"1.2.*"', "<1.3.0"),
        ('"^1.2,<1.5"', "<1.5.0"),  # the tightest bound wins
        ('"^0"', "<1.0.0"),
        ('"*"', None),  # any version: the newest is assumed
        ('"^"', None),  # malformed: no pin, no crash
        ('"^x"', None),
        ('"~x"', None),
        ('{ git = "https://github.com/modal-labs/modal-client" }', None),
    ],
)
def test_poetry_dependency_specifiers(tmp_path: Path, spec: str, expected: str | None) -> None:
    write(tmp_path, {"pyproject.toml": f'[tool.poetry.dependencies]\npython = "^3.10"\nmodal = {spec}\n'})
    found = detect_target(tmp_path)
    assert (str(found) if found else None) == expected
    if found is not None:
        written = spec.strip('"')
        assert found.source == f"pyproject.toml [tool.poetry.dependencies]: modal {written}"


@pytest.mark.parametrize(
    "files",
    [
        {"pyproject.toml": '[tool]\npoetry = "modal"\n'},
        {"pyproject.toml": '[tool.poetry]\ndependencies = "modal"\n'},
        {"pyproject.toml": "[project]\ndependencies = 3  # modal\n"},
        {"pyproject.toml": 'project = "modal"\n'},
        {"uv.lock": "package = 3  # modal\n"},
    ],
    ids=["tool-poetry-a-string", "dependencies-a-string", "dependencies-a-number", "project-a-string", "lock-package"],
)
def test_malformed_project_files_pin_nothing_and_do_not_stop_the_run(
    tmp_path: Path, files: dict[str, str | bytes]
) -> None:
    project = write(tmp_path, {**files, "app.py": "import modal\n\nstub = modal.Stub()\n"})
    assert pinned(project) is None
    result = run_cli("--no-cache", "--format", "concise", "app.py", cwd=project)
    assert (result.returncode, result.stderr) == (1, "")
    assert "MGL203" in result.stdout  # the newest client is assumed, where Stub is gone


def test_the_package_name_is_matched_in_any_case(tmp_path: Path) -> None:
    project = write(tmp_path, {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["Modal<1.0"]\n'})
    assert pinned(project) == ("<1.0.0", "pyproject.toml [project] dependencies: Modal<1.0")


def test_the_nearest_project_folder_decides(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "modal<1.0\n", "service/pyproject.toml": '[project]\nname = "svc"\n'})
    (tmp_path / "scripts").mkdir()
    assert pinned(tmp_path / "scripts") == ("<1.0.0", "requirements.txt: modal<1.0")  # no project file there
    assert pinned(tmp_path / "service") is None  # its own project names no modal: not the parent's pin


# ---- rules.fixes: where a name is used --------------------------------------------------------------
def uses_of(source: str, name: str = "X") -> tuple[int, int, int, int]:
    uses = name_uses(cst.parse_module(source), name)
    return len(uses.module_refs), len(uses.attribute_bases), uses.other, uses.imports


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # (module references, of which `X.attr` bases, bindings and local uses, imports)
        ("X += 1\n", (0, 0, 1, 0)),
        ("first, *X = [1, 2]\n", (0, 0, 1, 0)),
        ("if (X := 3):\n    pass\n", (0, 0, 1, 0)),
        ("with open('f') as X:\n    pass\n", (0, 0, 1, 0)),
        ("try:\n    pass\nexcept OSError as X:\n    pass\n", (0, 0, 1, 0)),
        ("class X:\n    pass\n", (0, 0, 1, 0)),
        ("import os as X\n", (0, 0, 0, 1)),
        ("[X for X in range(3)]\n", (0, 0, 2, 0)),  # the loop variable and its use
        ("{X: 1 for X in 'ab'}\n", (0, 0, 2, 0)),
        ("[X(n) for n in range(3)]\n", (1, 0, 0, 0)),  # used in, not bound by, the comprehension
        ("{X.a for n in 'ab'}\n", (1, 1, 0, 0)),
        ("any(X for n in 'ab')\n", (1, 0, 0, 0)),
        ("def f():\n    global X\n    X = 1\n", (1, 0, 1, 0)),  # `global X`: the module's X
        ("obj.X\nf(X=1)\nimport os\n", (0, 0, 0, 0)),  # an attribute and a keyword are other names
    ],
)
def test_name_uses(source: str, expected: tuple[int, int, int, int]) -> None:
    assert uses_of(source) == expected
    assert is_free(cst.parse_module(source), "X") == (expected == (0, 0, 0, 0))


def test_the_global_statement_is_itself_a_module_reference() -> None:
    module = cst.parse_module("X = 0\n\n\ndef reset():\n    global X\n    X = 0\n")
    function = module.body[1]
    assert isinstance(function, cst.FunctionDef)
    statement = function.body.body[0]
    assert isinstance(statement, cst.SimpleStatementLine)
    declaration = statement.body[0]
    assert isinstance(declaration, cst.Global)
    assert name_uses(module, "X").module_refs == [declaration.names[0].name]


STUB_APP = 'from modal import Stub\n\nstub = Stub("x")\n\n\n'


def fixed(source: str) -> str:
    result = fix_bytes("app.py", source.encode(), SETTINGS)
    assert result.error is None, result.error
    assert result.new_bytes is not None, "nothing was fixed"
    return result.new_bytes.decode()


GPU_APP = (
    "import modal\nfrom modal import gpu\n\napp = modal.App()\n\n\n"
    "@app.function(gpu=gpu.H100(), timeout=60)\ndef f() -> None: ...\n"
)


@pytest.mark.parametrize(
    "use",
    [
        "CLASSES = [name for name in dir(gpu) if name[0].isupper()]",  # the first iterable: the module's gpu
        "CLASSES = [gpu for gpu in dir(gpu)]",
        "pick = lambda gpu=gpu.A100(): gpu",  # a default: evaluated where the lambda is written
    ],
)
def test_the_gpu_import_stays_while_code_still_uses_it(use: str) -> None:
    source = f"{GPU_APP}\n\n{use}\n"
    after = fixed(source)
    assert after == source.replace("gpu=gpu.H100()", 'gpu="H100"')
    compile(after, "app.py", "exec")


def test_the_gpu_import_goes_when_only_parameters_share_its_name() -> None:
    source = f"{GPU_APP}\n\nname_of = lambda gpu: gpu\n"
    assert fixed(source) == source.replace("from modal import gpu\n", "").replace("gpu=gpu.H100()", 'gpu="H100"')


def test_stub_is_renamed_inside_comprehensions_that_only_use_it() -> None:
    body = 'apps = [Stub(n) for n in "ab"]\nby = {n: Stub(n) for n in "c"}\nlater = list(Stub(n) for n in "d")\n'
    assert fixed(STUB_APP + body) == (STUB_APP + body).replace("Stub", "App")


@pytest.mark.parametrize(
    "body",
    [
        "names = [Stub for Stub in ('a', 'b')]\n",
        "def f(p):\n    with open(p) as Stub:\n        return Stub\n",
        "def f():\n    try:\n        pass\n    except OSError as Stub:\n        return Stub\n",
        "def f():\n    class Stub:\n        pass\n",
        "def f(xs):\n    return [x for x in xs if (Stub := x)]\n",
        "def f(xs):\n    first, *Stub = xs\n",
        "g = lambda Stub: Stub\n",
    ],
    ids=["comprehension", "with", "except", "class", "walrus", "starred", "lambda"],
)
def test_stub_also_bound_elsewhere_keeps_its_name(body: str) -> None:
    """Renaming would have to tell the bindings apart: the import is aliased instead, nothing else moves."""
    assert fixed(STUB_APP + body) == (STUB_APP + body).replace("import Stub", "import App as Stub")


@pytest.mark.parametrize(
    ("text", "like", "expected"),
    [
        ("H100!", '"H100"', '"H100!"'),
        ("H100!", "r'h100'", "r'H100!'"),
        ("L4", "u'l4'", "u'L4'"),
        ("L4", "'''l4'''", "'''L4'''"),
        ("it's", "'x'", '"it\'s"'),  # the quote would need escaping: repr
        ("a\\b", 'r"x"', "'a\\\\b'"),  # a backslash: repr (the raw prefix would change its meaning)
    ],
)
def test_quote_like_writes_a_literal_of_the_same_text(text: str, like: str, expected: str) -> None:
    written = quote_like(text, cst.SimpleString(like))
    assert written == expected
    assert ast.literal_eval(written) == text


# ---- standard input with --diff and --show-diff -----------------------------------------------------
STDIN_APP = """\
import modal

app = modal.App("stdin")


@app.function(gpu="A100-80G", timeout=60, keep_warm=1)
def f() -> None: ...
"""


def test_show_diff_on_stdin_prints_the_findings_then_the_safe_fixes(tmp_path: Path) -> None:
    result = run_cli(
        "--format", "concise", "--show-diff", "--stdin-filename", "app.py", "-", cwd=tmp_path, input=STDIN_APP.encode()
    )
    assert result.returncode == 1, result.stderr
    findings, _, diff = result.stdout.partition("\nThe fixes, as `modal-gpu-lint --fix` would apply them:\n\n")
    assert findings.splitlines()[:3] == [
        "app.py:6:15: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?",
        "app.py:6:43: MGL201 [*] keep_warm= was renamed min_containers= (it raises since client 1.4.0)",
        "Found 2 errors.",
    ]
    lines = diff.splitlines()
    assert lines[:2] == ["--- app.py", "+++ app.py"]
    assert [line for line in lines[2:] if line[:1] in "+-"] == [  # the unsafe MGL001 fix is not in it
        '-@app.function(gpu="A100-80G", timeout=60, keep_warm=1)',
        '+@app.function(gpu="A100-80G", timeout=60, min_containers=1)',
    ]
    assert list(tmp_path.iterdir()) == []


def test_show_diff_on_stdin_without_a_safe_fix_prints_no_diff(tmp_path: Path) -> None:
    only_unsafe = STDIN_APP.replace(", keep_warm=1", "")
    result = run_cli("--show-diff", "--stdin-filename", "app.py", "-", cwd=tmp_path, input=only_unsafe.encode())
    assert result.returncode == 1, result.stderr
    assert "app.py:6:15: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?" in result.stdout
    assert "The fixes, as" not in result.stdout
    assert "+++" not in result.stdout


def test_diff_of_an_excluded_stdin_name_prints_nothing(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.modal-gpu-lint]\nextend-exclude = ["generated"]\n'})
    result = run_cli("--diff", "--stdin-filename", "generated/app.py", "-", cwd=tmp_path, input=STDIN_APP.encode())
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_diff_of_unparsable_stdin_reports_the_error_and_exits_2(tmp_path: Path) -> None:
    broken = "import modal\napp = modal.App()\n@app.function(gpu='T4'\ndef f(: ...\n"
    result = run_cli("--diff", "--stdin-filename", "app.py", "-", cwd=tmp_path, input=broken.encode())
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["app.py:4:1: cannot parse: invalid syntax", "No errors would be fixed."]


# ---- the generated rule table -----------------------------------------------------------------------
def stale(text: str) -> str:
    """The table as it was before its last rule was added: that row gone, another digest."""
    last = list(rule_table.TABLE)[-1]
    rows = [line for line in text.splitlines(keepends=True) if line.startswith(f'    ("{last}", ')]
    digest = f'DIGEST = "{rule_table.DIGEST}"\n'
    assert len(rows) == 1
    assert digest in text
    return text.replace(rows[0], "").replace(digest, 'DIGEST = "' + "0" * 32 + '"\n')


def test_regenerating_rewrites_a_stale_table_and_leaves_a_current_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    current = Path(rule_table.__file__).read_text(encoding="utf-8")
    copy = tmp_path / "table.py"
    copy.write_text(stale(current), encoding="utf-8")
    monkeypatch.setattr(rule_table, "__file__", str(copy))
    assert rule_table.main() == 0
    assert capsys.readouterr().out == f"updated {copy}\n"
    assert copy.read_text(encoding="utf-8") == current  # what is checked in (tests/test_runner.py: it is current)
    before = copy.stat().st_mtime_ns
    assert rule_table.main() == 0
    assert capsys.readouterr().out == ""
    assert copy.stat().st_mtime_ns == before


def test_running_the_module_regenerates_the_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m modal_gpu_lint.rules.table`, run as __main__ on a stale table; the write is caught."""
    real = Path(rule_table.__file__)
    current = real.read_text(encoding="utf-8")
    read_text = Path.read_text
    written: dict[Path, str] = {}
    monkeypatch.setattr(
        Path, "read_text", lambda self, *a, **k: stale(current) if self == real else read_text(self, *a, **k)
    )
    monkeypatch.setattr(Path, "write_text", lambda self, data, *a, **k: written.__setitem__(self, data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # runpy: the module is imported already
        with pytest.raises(SystemExit) as exited:
            runpy.run_module("modal_gpu_lint.rules.table", run_name="__main__")
    assert exited.value.code == 0
    assert written == {real: current}
    assert capsys.readouterr().out == f"updated {real}\n"


def test_an_unreadable_rules_folder_builds_the_table_from_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable() -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(rule_table, "rules_digest", unreadable)
    rules = rule_table._current()
    assert rules is not rule_table.TABLE
    assert rules == rule_table.live_table()
    assert rules["MGL001"] == rule_table.RuleInfo("unknown-gpu-type", True, rule_table.rule_url("MGL001"))


# ---- which files are linted -------------------------------------------------------------------------
def test_force_exclude_skips_an_excluded_folder_or_file_named_explicitly(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.modal-gpu-lint]\nextend-exclude = ["generated"]\n',
            "app.py": "import modal\n",
            "generated/gen.py": "import modal\n",
        },
    )
    settings = load_settings(start=tmp_path)
    app, folder, gen = (str(tmp_path / p) for p in ("app.py", "generated", "generated/gen.py"))
    assert list(python_files([folder, app], settings, force_exclude=True)) == [app]
    assert list(python_files([gen, app], settings, force_exclude=True)) == [app]
    assert list(python_files([gen, app], settings, force_exclude=False)) == [gen, app]  # as ruff: named, linted


def test_a_folder_is_walked_once_and_only_for_regular_python_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.modal-gpu-lint]\nextend-exclude = ["generated"]\n',
            "app.py": "import modal\n",
            "notes.txt": "import modal\n",
            "generated/gen.py": "import modal\n",
            "pkg/job.py": "import modal\n",
        },
    )
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    settings = load_settings(start=tmp_path)
    root, app, job = str(tmp_path), str(tmp_path / "app.py"), str(tmp_path / "pkg" / "job.py")
    assert list(python_files([root, root, app], settings, force_exclude=False)) == [app, job]


# ---- editor hover -----------------------------------------------------------------------------------
def test_hover_on_a_pinned_gpu_and_an_alias() -> None:
    catalog = default_catalog()
    pinned_h100 = describe_spec("H100!", catalog)
    assert pinned_h100[:3] == [
        "**`H100!`**",
        "- type: 1 x H100 (!: pinned: never upgraded to another type)",
        "- memory: 80 GB per GPU, 80 GB in total",
    ]
    alias = describe_spec("A10G:2", catalog)
    assert alias[1] == "- type: 2 x A10"
    assert "- also written: A10G" in alias
    assert alias[-1] == "- MGL009: 'A10G:2' is better written 'A10:2'"


def test_hover_on_a_gpu_type_added_without_price_or_limit() -> None:
    catalog = default_catalog().with_overrides({"MI300X": {"memory-gb": 192}})
    assert describe_spec("MI300X:2", catalog) == [
        "**`MI300X:2`**",
        "- type: 2 x MI300X",
        "- memory: 192 GB per GPU, 384 GB in total",
        "- per container: no maximum stated by Modal",
    ]


def test_hover_on_an_empty_list() -> None:
    assert describe_value([], default_catalog(), is_list=True) == "**`gpu=[]`**: an empty list requests nothing"


def test_a_gpu_string_with_an_invalid_escape_gives_no_hover_value() -> None:
    assert gpu_value_at('@app.function(gpu="\\N{NO SUCH GPU}")', 20) is None
    assert gpu_value_at('@app.function(gpu="H1\\x300")', 20) == GpuValue(("H100",), False, 14, 27)


def test_the_hover_value_is_the_one_under_the_cursor() -> None:
    line = 'a = f(gpu="T4"); b = g(gpu=["H100", "A100"])'
    assert gpu_value_at(line, line.index("T4")) == GpuValue(("T4",), False, 6, 14)
    assert gpu_value_at(line, line.index("H100")) == GpuValue(("H100", "A100"), True, 23, 43)
