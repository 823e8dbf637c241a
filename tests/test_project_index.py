"""The project index (constants of the project's own modules, read with `ast`) and the small value
operations of the resolver: which file an import reads, what each constant is, when a file is read
again, and what users see of them (findings, their origins, the inventory, the cache's digests)."""

from __future__ import annotations

import os
from pathlib import Path

import libcst as cst
import pytest
from conftest import run_cli

from modal_gpu_lint.analysis.project_index import Constant, constants_of, file_digest, find_module
from modal_gpu_lint.analysis.value_ops import assigned_attributes, convert, mutated_names, names_in, returned_values
from modal_gpu_lint.analysis.values import UNKNOWN, GpuObject, KnownType, ListValue, OtherValue, Value, describe
from modal_gpu_lint.facts.catalog import default_catalog
from modal_gpu_lint.report.inventory import requests_in
from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.engine import lint_bytes

SETTINGS = load_settings(start=Path("/"))
APP = "import modal\n\napp = modal.App()\n"
UNKNOWN_A100 = "unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def constants(path: Path) -> dict[str, Constant]:
    found = constants_of(str(path))
    assert found is not None, f"{path} was not read"
    return found[0]


def values_of(tmp_path: Path, source: str) -> dict[str, tuple[Value, ...]]:
    """Each constant of a module with `source`, by name."""
    return {name: c.values for name, c in constants(write(tmp_path / "settings.py", source)).items()}


def findings(path: Path, source: str) -> list[tuple[str, int, int, str]]:
    result = lint_bytes(str(path), source.encode(), SETTINGS)
    assert result.error is None, result.error
    return [(d.code, d.row, d.column, d.message) for d in result.diagnostics]


def row_of(source: str, text: str) -> int:
    """The 1-based line of `source` that starts with `text`."""
    return next(i for i, line in enumerate(source.splitlines(), start=1) if line.startswith(text))


# ---- find_module: the file an import reads ---------------------------------------------------------
@pytest.fixture
def project(tmp_path: Path) -> Path:
    """outer/above.py beside proj/, a plain folder holding the package app/ and a script folder."""
    root = tmp_path / "outer" / "proj"
    for name in ("app/__init__.py", "app/config.py", "app/main.py", "app/jobs/__init__.py", "app/jobs/train.py"):
        write(root / name, "")
    write(root / "app/jobs/local.py", "")
    write(root / "settings.py", "")
    write(root / "scripts/run.py", "")
    write(tmp_path / "outer" / "above.py", "")
    return root


def test_relative_imports_read_from_the_package_and_its_parents(project: Path) -> None:
    train = str(project / "app/jobs/train.py")
    assert find_module(train, "local", 1) == str(project / "app/jobs/local.py")  # from .local import X
    assert find_module(train, "config", 2) == str(project / "app/config.py")  # from ..config import X
    assert find_module(train, "jobs.local", 2) == str(project / "app/jobs/local.py")  # from ..jobs.local import X
    assert find_module(train, "jobs", 2) == str(project / "app/jobs/__init__.py")  # a package: its __init__
    assert find_module(train, "config", 1) is None  # there is no app/jobs/config.py
    assert find_module(train, "", 1) is None  # `from . import x`: the caller asks for the module x itself


def test_absolute_imports_walk_up_the_package_folders(project: Path) -> None:
    train = str(project / "app/jobs/train.py")
    assert find_module(train, "app.config", 0) == str(project / "app/config.py")  # from the folder above app/
    assert find_module(train, "app.jobs.local", 0) == str(project / "app/jobs/local.py")
    assert find_module(train, "app", 0) == str(project / "app/__init__.py")
    assert find_module(train, "app.jobs", 0) == str(project / "app/jobs/__init__.py")
    assert find_module(train, "local", 0) == str(project / "app/jobs/local.py")  # the script's own folder
    assert find_module(train, "config", 0) == str(project / "app/config.py")
    assert find_module(train, "settings", 0) == str(project / "settings.py")  # beside the top package


def test_absolute_imports_stop_above_the_top_package(project: Path) -> None:
    # proj/ is no package: outer/ is not on the path the program runs with, nor is proj/ for a script
    assert find_module(str(project / "app/main.py"), "above", 0) is None
    assert find_module(str(project / "scripts/run.py"), "settings", 0) is None
    assert find_module(str(project / "scripts/run.py"), "run", 0) == str(project / "scripts/run.py")


def test_modules_that_are_not_there(project: Path) -> None:
    main = str(project / "app/main.py")
    assert find_module(main, "missing", 0) is None
    assert find_module(main, "app.missing", 0) is None
    assert find_module(main, "", 0) is None
    assert find_module(main, "missing", 1) is None


# ---- constants_of: reading a file, and reading it again ----------------------------------------------
def test_a_file_is_read_again_only_when_its_size_or_mtime_changes(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.py", 'GPU = "T4"\n')
    first = constants_of(str(path))
    assert first is not None
    assert first[0]["GPU"].values == ("T4",)
    info = path.stat()
    path.write_text('GPU = "L4"\n')  # same size; the old mtime put back
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert constants_of(str(path)) == first  # the remembered reading
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    second = constants_of(str(path))
    assert second is not None
    assert second[0]["GPU"].values == ("L4",)
    assert second[1] != first[1]
    path.write_text('GPU = "A100-80GB"\n')  # another size, the same mtime
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    assert constants(path)["GPU"].values == ("A100-80GB",)


def test_a_file_too_big_is_not_read(tmp_path: Path) -> None:
    path = write(tmp_path / "generated.py", 'GPU = "T4"\n')
    assert constants(path)["GPU"].values == ("T4",)
    with path.open("a") as handle:
        handle.write("#" * 2_000_000 + "\n")  # a generated module: over 2 MB
    assert constants_of(str(path)) is None
    assert file_digest(str(path)) is None


@pytest.mark.parametrize(
    "content",
    [b'GPU = "T4"\nif:\n', b'GPU = "T4"\x00\n', b'GPU = "\xff"\n'],
    ids=["syntax-error", "null-byte", "not-utf8"],
)
def test_a_file_that_does_not_parse_has_no_constants_until_it_is_fixed(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "settings.py"
    path.write_bytes(content)
    assert constants_of(str(path)) is None
    assert file_digest(str(path)) is None
    path.write_bytes(b'GPU = "T4"\n\n')  # another size: read again
    assert constants(path)["GPU"].values == ("T4",)


def test_what_cannot_be_read_has_no_constants(tmp_path: Path) -> None:
    (tmp_path / "folder.py").mkdir()
    assert constants_of(str(tmp_path / "folder.py")) is None
    assert constants_of(str(tmp_path / "missing.py")) is None
    assert file_digest(str(tmp_path / "missing.py")) is None


def test_the_digest_follows_the_bytes(tmp_path: Path) -> None:
    one = write(tmp_path / "one.py", 'GPU = "T4"\n')
    two = write(tmp_path / "two.py", 'GPU = "T4"\n')
    other = write(tmp_path / "other.py", 'GPU = "L4"\n')
    digest = file_digest(str(one))
    assert digest is not None
    assert digest == file_digest(str(two))  # the same bytes elsewhere: the same digest
    assert digest != file_digest(str(other))
    found = constants_of(str(one))
    assert found is not None
    assert found[1] == digest


# ---- constants_of: what each constant is ---------------------------------------------------------------
def test_environment_defaults_and_where_they_are(tmp_path: Path) -> None:
    source = """\
import os
import os as o

A = o.getenv("A_VAR", "4")
B = os.environ.get("B_VAR", default="T4")
C = int(A)
D = f"H100:{C}"
E = os.getenv("E_VAR", "H100" if A else "A100-80GB")
NO_DEFAULT = os.getenv("X")
NAMED_VARIABLE = os.getenv(B, "T4")
NOT_OS = environ.get("X", "T4")
SUBSCRIPT = os.environ["X"]
"""
    found = constants(write(tmp_path / "settings.py", source))
    assert {name: (c.values, c.line, c.env) for name, c in found.items()} == {
        "A": (("4",), 4, ("A_VAR", "4")),
        "B": (("T4",), 5, ("B_VAR", "T4")),
        "C": ((4,), 6, ("A_VAR", "4")),  # a constant made from an environment default names it
        "D": (("H100:4",), 7, ("A_VAR", "4")),
        "E": (("H100", "A100-80GB"), 8, None),  # two defaults: none to name
    }
    assert found["C"].where() == "settings.py:6"
    assert found["C"].path == str(tmp_path / "settings.py")


def test_conversions(tmp_path: Path) -> None:
    source = """\
N = int("12")
SPACED = int(" 7 ")
TRUNCATED = int(4.9)
F = float("1.5")
S = str(8)
FROM_NAME = str(N)
NOT_A_NUMBER = int("twelve")
INFINITE = int(float("inf"))
KEYWORD = int(x="1")
OF_UNKNOWN = str(missing)
"""
    assert values_of(tmp_path, source) == {
        "N": (12,),
        "SPACED": (7,),
        "TRUNCATED": (4,),
        "F": (1.5,),
        "S": ("8",),
        "FROM_NAME": ("12",),
    }


def test_a_conversion_named_by_the_module_is_not_the_builtin(tmp_path: Path) -> None:
    assert values_of(tmp_path, 'int = 5\nN = int("4")\n') == {"int": (5,)}


def test_fstrings(tmp_path: Path) -> None:
    source = """\
import os

COUNT = 2
KIND = "H100"
GPU = f"{KIND}:{COUNT}"
BRACES = f"{{literal}}"
PLAIN = f"A100-80GB"
SPEC = f"H100:{COUNT:>2}"
CONVERSION = f"{KIND!r}"
UNKNOWN_PART = f"H100:{os.cpu_count()}"
"""
    assert values_of(tmp_path, source) == {
        "COUNT": (2,),
        "KIND": ("H100",),
        "GPU": ("H100:2",),
        "BRACES": ("{literal}",),
        "PLAIN": ("A100-80GB",),
    }


def test_arithmetic_and_concatenation(tmp_path: Path) -> None:
    source = """\
COUNT = 2
SUM = COUNT + 6
DIFFERENCE = 10 - COUNT
PRODUCT = COUNT * 4
FLOOR = 17 // COUNT
DIVISION = 16 / COUNT
FLOAT_SUM = 0.5 + COUNT
JOINED = "A100" + "-80GB"
BY_ZERO = 1 / 0
FLOOR_BY_ZERO = 1 // 0.0
MATRIX = 2 @ 3
MIXED = "H100:" + COUNT
UNKNOWN_OPERAND = COUNT + missing
"""
    found = values_of(tmp_path, source)
    assert [type(found[name][0]) for name in ("FLOOR", "DIVISION")] == [int, float]
    assert found == {
        "COUNT": (2,),
        "SUM": (8,),
        "DIFFERENCE": (8,),
        "PRODUCT": (8,),
        "FLOOR": (8,),
        "DIVISION": (8.0,),
        "FLOAT_SUM": (2.5,),
        "JOINED": ("A100-80GB",),
    }


def test_alternatives_of_a_conditional_expression(tmp_path: Path) -> None:
    source = """\
import os

GPU = "H100" if os.getenv("BIG") else "A100-80GB"
PINNED = GPU + "!"
LABEL = f"{GPU}:{2 if os.getenv('TWO') else 4}"
TWO = "a" if GPU else "b"
MANY = TWO + TWO + TWO + TWO + TWO
MANY_LABELS = f"{TWO}{TWO}{TWO}{TWO}{TWO}"
"""
    assert values_of(tmp_path, source) == {
        "GPU": ("H100", "A100-80GB"),
        "PINNED": ("H100!", "A100-80GB!"),
        "LABEL": ("H100:2", "H100:4", "A100-80GB:2", "A100-80GB:4"),
        "TWO": ("a", "b"),  # MANY and MANY_LABELS have 32 alternatives: more than the reader follows
    }


def test_lists_and_other_literals(tmp_path: Path) -> None:
    source = """\
GPUS = ["H100", "A100-80GB"]
NESTED = [GPUS, None, 8]
EMPTY = []
STARRED = ["T4", *GPUS]
CHOICE = ["T4", "L4" if GPUS else "A10"]
UNKNOWN_ITEM = ["T4", missing]
NOTHING = None
BYTES = b"T4"
DEEP = "a" + "a" + "a" + "a" + "a" + "a" + "a" + "a" + "a" + "a" + "a" + "a" + "a" + "a" + "a" + "a" + "a" + "a"
"""
    gpus = ListValue(("H100", "A100-80GB"))
    # not followed: a starred list, a list one of whose items has two values, an unknown item, bytes (never
    # a GPU), an expression 17 levels deep
    assert values_of(tmp_path, source) == {
        "GPUS": (gpus,),
        "NESTED": (ListValue((gpus, None, 8)),),
        "EMPTY": (ListValue(()),),
        "NOTHING": (None,),
    }


def test_only_names_bound_once_by_a_plain_top_level_statement(tmp_path: Path) -> None:
    source = """\
import os
from helpers import IMPORTED

KEPT = "T4"
ANNOTATED: str = "L4"
TWICE = "T4"
TWICE = "L4"
GLOBAL = "T4"
DEFINED = "T4"
CLASS = "T4"
IMPORTED_TOO = "T4"
AUGMENTED = 1
AUGMENTED += 1
DELETED = 1
del DELETED
LOOPED = "T4"
CHAINED = OTHER = "T4"
FIRST, SECOND = "T4", "L4"
EARLY = LATER
LATER = "T4"
IMPORTED = "T4"
if os.getenv("BIG"):
    CONDITIONAL = "H100"


def change() -> None:
    global GLOBAL
    GLOBAL = "H100"


def DEFINED() -> None: ...


class CLASS: ...


import IMPORTED_TOO

for LOOPED in ["H100"]:
    pass
"""
    found = constants(write(tmp_path / "settings.py", source))
    assert {name: (c.values, c.line) for name, c in found.items()} == {
        "KEPT": (("T4",), 4),
        "ANNOTATED": (("L4",), 5),
        "LATER": (("T4",), 20),
    }


# ---- what users see of imported constants --------------------------------------------------------------
def test_findings_name_the_imported_constant_alternative_or_list(tmp_path: Path) -> None:
    write(
        tmp_path / "settings.py",
        'import os\n\nGPU = "H100" if os.getenv("BIG") else "A100-80G"\nGPUS = ["H100", "H100"]\n',
    )
    source = APP + (
        "from settings import GPU, GPUS\n\n\n"
        "@app.function(gpu=GPU, timeout=60)\ndef one() -> None: ...\n\n\n"
        "@app.function(gpu=GPUS, timeout=60)\ndef fallbacks() -> None: ...\n"
    )
    one = row_of(source, "@app.function(gpu=GPU,")
    assert findings(tmp_path / "app.py", source) == [
        ("MGL001", one, 15, f"{UNKNOWN_A100} (value from GPU (settings.py:3))"),
        (
            "MGL007",
            one + 4,
            15,
            "'H100' repeats entry 1 of the fallback list: a repeat is never tried (value from GPUS (settings.py:4))",
        ),
    ]


def test_module_attributes_of_a_package_and_its_init(tmp_path: Path) -> None:
    write(tmp_path / "app/__init__.py", 'GPU = "A100-80G"\n')
    write(tmp_path / "app/settings.py", '\nGPU = "L4!"\n')
    source = APP + (
        "from app import GPU\nfrom . import settings\n\n\n"
        "@app.function(gpu=GPU, timeout=60)\ndef package() -> None: ...\n\n\n"
        "@app.function(gpu=settings.GPU, timeout=60)\ndef module() -> None: ...\n"
    )
    path = tmp_path / "app/main.py"
    first = row_of(source, "@app.function(gpu=GPU,")
    result = findings(path, source)
    assert [(code, row, column) for code, row, column, _ in result] == [
        ("MGL001", first, 15),
        ("MGL004", first + 4, 15),
    ]
    assert result[0][3] == f"{UNKNOWN_A100} (value from GPU (__init__.py:1))"
    assert result[1][3].endswith("(value from settings.GPU (settings.py:2))")


def test_the_files_read_are_the_lints_dependencies(tmp_path: Path) -> None:
    settings = write(tmp_path / "settings.py", 'GPU = "H100"\n')
    write(tmp_path / "broken.py", "GPU = (\n")
    source = APP + (
        "from settings import GPU\nfrom broken import GPU as OTHER\nfrom nowhere import THIRD\n\n\n"
        "@app.function(gpu=GPU, timeout=60)\ndef a() -> None: ...\n\n\n"
        "@app.function(gpu=OTHER, timeout=60)\ndef b() -> None: ...\n\n\n"
        "@app.function(gpu=THIRD, timeout=60)\ndef c() -> None: ...\n"
    )
    result = lint_bytes(str(tmp_path / "app.py"), source.encode(), SETTINGS)
    assert result.error is None
    assert result.diagnostics == []
    assert result.dependencies == {str(settings): file_digest(str(settings))}


def test_cli_says_which_module_a_gpu_came_from(tmp_path: Path) -> None:
    write(tmp_path / "settings.py", 'GPU = "A100-80G"\n')
    source = APP + "\nfrom settings import GPU\n\n\n@app.function(gpu=GPU, timeout=60)\ndef train() -> None: ...\n"
    write(tmp_path / "app.py", source)
    result = run_cli("--no-cache", "--format", "concise", "app.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    row = row_of(source, "@app.function")
    assert result.stdout.splitlines()[0] == f"app.py:{row}:15: MGL001 {UNKNOWN_A100} (value from GPU (settings.py:1))"


def test_cli_names_the_environment_default_behind_a_relative_import(tmp_path: Path) -> None:
    write(tmp_path / "app/__init__.py", "")
    write(tmp_path / "app/config.py", 'import os as o\n\nN_GPUS = int(o.getenv("N_GPUS", "12"))\n')
    write(tmp_path / "app/jobs/__init__.py", "")
    source = APP + (
        '\nfrom ..config import N_GPUS\n\n\n@app.function(gpu=f"H100:{N_GPUS}", timeout=60)\ndef train() -> None: ...\n'
    )
    write(tmp_path / "app/jobs/train.py", source)
    result = run_cli("--no-cache", "--format", "concise", "app/jobs/train.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    row = row_of(source, "@app.function")
    assert result.stdout.splitlines()[0] == (
        f"app/jobs/train.py:{row}:15: MGL003 'H100:12' asks for 12 x H100: a container can have 1 to 8 (value from "
        "the default of $N_GPUS ('12') in config.py:3, which runs when $N_GPUS is not set)"
    )


# ---- value_ops: conversions --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("int", "12", 12),
        ("int", " 7 ", 7),
        ("int", "1_000", 1000),
        ("int", 4.9, 4),
        ("float", "1e3", 1000.0),
        ("float", 2, 2.0),
        ("str", 8, "8"),
        ("str", "H100", "H100"),
        ("int", "twelve", UNKNOWN),  # Python raises ValueError
        ("int", float("inf"), UNKNOWN),  # OverflowError
        ("float", "", UNKNOWN),
        ("int", ListValue(("1",)), UNKNOWN),  # TypeError
        ("str", UNKNOWN, UNKNOWN),
    ],
)
def test_convert(kind: str, value: Value, expected: Value) -> None:
    result = convert(kind, value)
    assert result == expected
    assert type(result) is type(expected)


def test_conversions_at_the_call(tmp_path: Path) -> None:
    source = APP + (
        "\n\n@app.function(gpu=f\"H100:{int('12')}\", timeout=60)\ndef count() -> None: ...\n\n\n"
        '@app.function(gpu="H100:" + str(9), timeout=60)\ndef joined() -> None: ...\n\n\n'
        '@app.function(gpu="H100:" + str(int("x")), timeout=60)\ndef invalid() -> None: ...\n'
    )
    first = row_of(source, "@app.function(gpu=f")
    assert findings(tmp_path / "app.py", source) == [
        ("MGL003", first, 15, "'H100:12' asks for 12 x H100: a container can have 1 to 8"),
        ("MGL003", first + 4, 15, "'H100:9' asks for 9 x H100: a container can have 1 to 8"),
    ]


# ---- value_ops: the GPU string a removed modal.gpu object meant, as the inventory shows it ------------------
INVENTORY = """\
import sys

import modal

app = modal.App()
N = len(sys.argv)
opts = {}


@app.function(gpu=modal.gpu.A100(memory=80), timeout=60)
def memory() -> None: ...


@app.function(gpu=modal.gpu.T4(2), timeout=60)
def positional_count() -> None: ...


@app.function(gpu=modal.gpu.A100(size=" 40gb ", count=1), timeout=60)
def size() -> None: ...


@app.function(gpu=modal.gpu.H100, timeout=60)
def bare_class() -> None: ...


@app.function(gpu=modal.gpu.H100(count=N), timeout=60)
def unknown_count() -> None: ...


@app.function(gpu=modal.gpu.A10G(1, 2), timeout=60)
def two_positionals() -> None: ...


@app.function(gpu=modal.gpu.L4(**opts), timeout=60)
def splat() -> None: ...


@app.function(gpu=modal.gpu.A100(size="80GB", interface="pcie"), timeout=60)
def other_keyword() -> None: ...


@app.function(gpu=modal.gpu.T4(count=True), timeout=60)
def flag_count() -> None: ...


@app.function(gpu=("T4",), timeout=60)
def tuple_() -> None: ...


@app.function(gpu=True, timeout=60)
def flag() -> None: ...


@app.function(gpu=["H100", ["T4"], ("L4",), f"A100:{N}", modal.gpu.T4(), 8, N], timeout=60)
def fallbacks() -> None: ...
"""


def test_inventory_of_removed_gpu_objects_and_odd_values(tmp_path: Path) -> None:
    rows = requests_in(str(tmp_path / "inventory.py"), INVENTORY.encode(), default_catalog())
    assert [(r.line, r.name, r.gpu, r.count, r.fallbacks) for r in rows] == [
        (10, "memory", "A100-80GB", 1, ()),
        (14, "positional_count", "T4:2", 2, ()),
        (18, "size", "A100-40GB", 1, ()),
        (22, "bare_class", "H100", 1, ()),
        (26, "unknown_count", "modal.gpu.H100(...)", None, None),
        (30, "two_positionals", "modal.gpu.A10G(...)", None, None),
        (34, "splat", "modal.gpu.L4(...)", None, None),
        (38, "other_keyword", "modal.gpu.A100(...)", None, None),
        (42, "flag_count", "modal.gpu.T4(...)", None, None),
        (46, "tuple_", "a tuple", None, None),
        (50, "flag", "True", None, None),
        (54, "fallbacks", "H100", 1, ("a list", "a tuple", "'A100:{...}'", "modal.gpu.T4(...)", "8", None)),
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (OtherValue("a dict"), "a dict"),
        (GpuObject(None, "H100"), "modal.gpu.H100(...)"),
        (ListValue(("T4",)), "a list"),
        (KnownType("A100-80G", "A100-80G:{...}"), "'A100-80G:{...}'"),
        (UNKNOWN, "an unknown value"),
        ("H100", "'H100'"),
        (8, "8"),
        (None, "None"),
    ],
)
def test_describe(value: Value, text: str) -> None:
    assert describe(value) == text


# ---- value_ops: attributes set anywhere are not read as the class default ------------------------------------
CONFIG = (
    APP + '\n\nclass Config:\n    gpu = "A100-80G"\n\n\nCONFIG = Config()\n{change}\n\n\n'
    "@app.function(gpu=CONFIG.gpu, timeout=60)\ndef train() -> None: ...\n"
)


@pytest.mark.parametrize(
    "change",
    [
        "",
        "CONFIG.timeout = 30",
        'setattr(CONFIG, "timeout", 30)',
        "print(CONFIG.gpu)",
    ],
)
def test_a_class_default_is_read_when_nothing_sets_the_attribute(tmp_path: Path, change: str) -> None:
    source = CONFIG.format(change=change)
    assert findings(tmp_path / "app.py", source) == [
        ("MGL001", row_of(source, "@app.function"), 15, f"{UNKNOWN_A100} (value from CONFIG.gpu)")
    ]


@pytest.mark.parametrize(
    "change",
    [
        'CONFIG.gpu = "H100"',
        'CONFIG.gpu: str = "H100"',
        'CONFIG.gpu += "-80GB"',
        'first, CONFIG.gpu = 1, "H100"',
        '[CONFIG.gpu] = ["H100"]',
        'setattr(CONFIG, "gpu", "H100")',
        'setattr(CONFIG, "g" + "pu", "H100")',  # a computed name may be any attribute
        'def tune(other):\n    other.gpu = "H100"',  # any object's gpu: it may be CONFIG
    ],
)
def test_an_attribute_set_anywhere_is_not_known(tmp_path: Path, change: str) -> None:
    assert findings(tmp_path / "app.py", CONFIG.format(change=change)) == []


def test_assigned_attributes_of_a_module() -> None:
    module = cst.parse_module(
        "x.gpu = 1\nx.a: int = 2\nx.b += 3\n(p, x.c), [x.d] = (1, 2), [3]\nsetattr(x, 'e', 4)\n"
        "gpu = 5\nx['f'] = 6\nprint(x.g)\nsetattr(x)\n"
    )
    names = assigned_attributes(module)
    assert names == {"gpu", "a", "b", "c", "d", "e"}
    assert assigned_attributes(module) is names  # computed once per module
    other = cst.parse_module("setattr(x, name, 1)\n")
    assert assigned_attributes(other) == {"*"}
    assert assigned_attributes(module) == names  # one module remembered at a time: read again, the same


# ---- value_ops: dicts splatted into a call, and the helpers that return them -----------------------------------
OPTIONS = (
    APP + 'OPTIONS = {{"gpu": "A100-80G", "timeout": 60}}\n{change}\n\n\n'
    "@app.function(**OPTIONS)\ndef one() -> None: ...\n\n\n@app.function(**OPTIONS)\ndef two() -> None: ...\n"
)


@pytest.mark.parametrize(
    "change", ["", 'OTHER = {}\nOTHER["gpu"] = "H100"', 'NESTED = {"inner": {}}\nNESTED["inner"]["gpu"] = "H100"']
)
def test_a_splatted_dict_is_read_when_nothing_changes_it(tmp_path: Path, change: str) -> None:
    source = OPTIONS.format(change=change)
    first = row_of(source, "@app.function")
    message = f"{UNKNOWN_A100} (value from OPTIONS (line 4))"
    assert findings(tmp_path / "app.py", source) == [
        ("MGL001", first, 15, message),
        ("MGL001", first + 4, 15, message),
    ]


@pytest.mark.parametrize(
    "change",
    [
        'OPTIONS["gpu"] = "H100"',
        'OPTIONS["gpu"] += "B"',
        'del OPTIONS["gpu"]',
        'OPTIONS.update(gpu="H100")',
        "OPTIONS.clear()",
        'def change():\n    OPTIONS.pop("gpu")',
    ],
)
def test_a_dict_changed_in_place_is_not_known(tmp_path: Path, change: str) -> None:
    assert findings(tmp_path / "app.py", OPTIONS.format(change=change)) == []


def test_mutated_names_of_a_module() -> None:
    module = cst.parse_module(
        'A["k"] = 1\nB["k"] += 1\ndel C["k"]\nD.update(k=1)\nE.clear()\nF.get("k")\nG.x = 1\nH.a["k"] = 1\n'
    )
    names = mutated_names(module)
    assert names == {"A", "B", "C", "D", "E"}
    assert mutated_names(module) is names  # computed once per module
    assert mutated_names(cst.parse_module("X.popitem()\n")) == {"X"}
    assert mutated_names(module) == names


HELPER = (
    APP
    + """

def options():
    def nested():
        return {"gpu": "T4"}

    pick = lambda: {"gpu": "T4"}
    return {"gpu": "A100-80G", "timeout": 60}


@app.function(**options())
def train() -> None: ...
"""
)


def test_a_helper_returning_a_dict_is_followed_past_its_nested_defs(tmp_path: Path) -> None:
    assert findings(tmp_path / "app.py", HELPER) == [
        ("MGL001", row_of(HELPER, "@app.function"), 15, f"{UNKNOWN_A100} (value from options() (line 11))")
    ]


def test_a_helper_with_two_returns_is_not_followed(tmp_path: Path) -> None:
    old = '    return {"gpu": "A100-80G"'
    assert old in HELPER
    # (it returns {}: pick is true)
    source = HELPER.replace(old, "    if pick:\n        return {}\n" + old)
    assert findings(tmp_path / "app.py", source) == []


def test_a_helper_whose_dict_names_its_locals_is_not_read_at_the_call(tmp_path: Path) -> None:
    """The local KIND is "H100" in the helper: the module's KIND, read at the call, would be wrong."""
    source = HELPER.replace("def options():", 'KIND = "A100-80G"\n\n\ndef options():').replace(
        '    return {"gpu": "A100-80G"', '    KIND = "H100"\n    return {"gpu": KIND'
    )
    assert 'KIND = "H100"' in source
    assert findings(tmp_path / "app.py", source) == []


def test_returned_values_and_names_in() -> None:
    function = cst.parse_statement(
        "def helper(flag):\n"
        "    def nested():\n        return 1\n"
        "    pick = lambda: 2\n"
        '    if flag:\n        return {"gpu": kind, "n": int(count) + other.attr}\n'
        "    return\n"
    )
    assert isinstance(function, cst.FunctionDef)
    returns = returned_values(function)
    assert [None if r is None else cst.Module([]).code_for_node(r) for r in returns] == [
        '{"gpu": kind, "n": int(count) + other.attr}',
        None,
    ]
    assert returns[0] is not None
    assert [n.value for n in names_in(returns[0])] == ["kind", "int", "count", "other", "attr"]


# ---- regressions: cases that once gave a wrong value or stopped the check of the importing file ----
def test_a_function_or_import_named_like_a_conversion_is_not_the_builtin(tmp_path: Path) -> None:
    source = 'def int(x):\n    return 99\n\n\nN = int("4")\nfrom helpers import str\nS = str(4)\nK = float("2")\n'
    assert values_of(tmp_path, source) == {"K": (2.0,)}


def test_a_package_is_found_before_a_module_of_the_same_name(tmp_path: Path) -> None:
    write(tmp_path / "settings.py", 'GPU = "FROM_MODULE"\n')
    package = write(tmp_path / "settings" / "__init__.py", 'GPU = "FROM_PACKAGE"\n')
    found = find_module(str(tmp_path / "main.py"), "settings", 0)
    assert found == str(package)
    assert constants(Path(found))["GPU"].values == ("FROM_PACKAGE",)


def test_numbers_too_large_for_python_are_unknown_and_the_importer_is_still_checked(tmp_path: Path) -> None:
    big = "1" + "0" * 400
    huge = "7" * 3000
    write(
        tmp_path / "settings.py",
        f"BIG = {big}\nTIMEOUT = BIG / 10\nHUGE = {huge}\nSQUARE = HUGE * HUGE\n"
        "TEXT = f'{SQUARE}'\nGPU = 'A100-80G'\n",
    )
    assert set(constants(tmp_path / "settings.py")) == {"BIG", "HUGE", "SQUARE", "GPU"}
    source = (
        APP + "from settings import GPU, TIMEOUT, TEXT\n\n\n@app.function(gpu=GPU, timeout=TIMEOUT)\ndef f(): ...\n"
    )
    assert findings(tmp_path / "app.py", source) == [
        ("MGL001", 7, 15, f"{UNKNOWN_A100} (value from GPU (settings.py:6))")
    ]


def test_an_fstring_of_a_number_too_large_for_text_is_unknown(tmp_path: Path) -> None:
    huge = "7" * 3000
    source = APP + f"HUGE = {huge}\nSQUARE = HUGE * HUGE\n\n\n"
    source += "@app.function(gpu=f'T4:{SQUARE}', timeout=60)\ndef f(): ...\n"
    assert findings(tmp_path / "app.py", source) == []


@pytest.mark.parametrize(
    "change",
    [
        'OPTIONS["gpu"], other = "H100", 1',
        'del OPTIONS["timeout"], OPTIONS["gpu"]',
        '[*rest, OPTIONS["gpu"]] = ["H100"]',
    ],
)
def test_a_dict_changed_through_a_tuple_target_is_not_followed(tmp_path: Path, change: str) -> None:
    source = (
        APP + f'OPTIONS = {{"gpu": "A100-80G", "timeout": 60}}\n{change}\n\n\n@app.function(**OPTIONS)\ndef f(): ...\n'
    )
    assert findings(tmp_path / "app.py", source) == []
    unchanged = source.replace(change, "other = 1")
    assert [code for code, *_ in findings(tmp_path / "app.py", unchanged)] == ["MGL001"]
