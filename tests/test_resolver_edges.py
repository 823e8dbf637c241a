"""The value resolver, the scope binder and the body readers at their edges, through the engine.

Each case is a small Modal program linted in-process (`lint_bytes`), checked by the findings a user
would see: code, line, column and the words that matter. Where the source does not fix a value the
resolver must give up, and the rules must then stay silent; those cases carry a control finding
elsewhere in the same file, so that silence means "not known" rather than "not analysed".
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from modal_gpu_lint.analysis.resolve import is_unknown
from modal_gpu_lint.analysis.values import UNKNOWN, OtherValue
from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.engine import analyze, lint_bytes, parse

SETTINGS = load_settings(select=["ALL"], ignore=["MGL301"], start=Path("/"))  # MGL301 would flag every H100
PRELUDE = 'import os\nimport subprocess\n\nimport modal\n\napp = modal.App("edges")\n'
OFFSET = PRELUDE.count("\n")  # rows below count from the snippet's first line

Found = tuple[str, int, int, str]  # code, row, column, a fragment of the message

TYPO = "unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?"
CONTROL = """\


@app.function(gpu="A100-80G", timeout=60)
def control() -> None: ...
"""


def lint(source: str, *, path: str = "snippet.py") -> list[Found]:
    """(code, row, column, message) of every finding on PRELUDE + source."""
    result = lint_bytes(path, (PRELUDE + textwrap.dedent(source)).encode(), SETTINGS)
    assert result.error is None, result.error
    return [(d.code, d.row - OFFSET, d.column, d.message) for d in result.diagnostics]


def check(source: str, expected: list[Found]) -> None:
    """The findings on `source` are `expected` (CONTROLLED: the finding of the CONTROL site at its end)."""
    control_row = textwrap.dedent(source).count("\n") - 1
    expected = [(e[0], control_row, e[2], e[3]) if e is CONTROLLED else e for e in expected]
    found = lint(source)
    assert [f[:3] for f in found] == [e[:3] for e in expected], found
    for (_, _, _, message), (_, _, _, fragment) in zip(found, expected, strict=True):
        assert fragment in message, message


def controlled(source: str) -> str:
    """`source` with CONTROL after it: a site whose finding shows that the file was analysed."""
    return textwrap.dedent(source) + CONTROL


CONTROLLED: Found = ("MGL001", 0, 15, TYPO)  # its row is read from the source


def at(row: int) -> str:
    """How a message names a line of the snippet (messages count lines from the top of the file)."""
    return f"(line {row + OFFSET})"


# ---- what a name refers to: `qualify` and `is_app` ---------------------------------------------------
NAMES: dict[str, tuple[str, list[Found]]] = {
    "importlib.import_module with a literal names the module": (
        """\
        import importlib

        m = importlib.import_module("modal")
        other = m.App()


        @other.function(gpu="A100-80G", timeout=60)
        def f() -> None: ...
        """,
        [("MGL001", 7, 17, TYPO)],
    ),
    "importlib.import_module with a computed name is not followed": (
        controlled(
            """\
            import importlib

            NAME = "modal"
            m = importlib.import_module(NAME)
            other = m.App()


            @other.function(gpu="A100-80G", timeout=60)
            def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
    "a None fallback for a failed import does not hide the module": (
        """\
        try:
            import modal as m
        except ImportError:
            m = None

        other = m.App()


        @other.function(gpu="A100-80G", timeout=60)
        def f() -> None: ...
        """,
        [("MGL001", 9, 17, TYPO)],
    ),
    "a None fallback for a project App does not hide the App": (
        """\
        try:
            from common import app as shared
        except ImportError:
            shared = None


        @shared.function(gpu="A100-80G", timeout=60)
        def f() -> None: ...
        """,
        [("MGL001", 7, 18, TYPO)],
    ),
    "a name only ever None is no App": (
        controlled(
            """\
            shared = None


            @shared.function(gpu="A100-80G", timeout=60)
            def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
    "an App imported from a web framework is not Modal's": (
        controlled(
            """\
            from fastapi import app as web


            @web.function(gpu="A100-80G", timeout=60)
            def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
    "an App picked from a dict is not followed": (
        controlled(
            """\
            apps = {"a": modal.App()}


            @apps["a"].function(gpu="A100-80G", timeout=60)
            def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
    "a parameter may be anything": (
        controlled(
            """\
            def register(target):
                @target.function(gpu="A100-80G", timeout=60)
                def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
    "a name bound to something other than a constructor call is no App": (
        controlled(
            """\
            other = app.name


            @other.function(gpu="A100-80G", timeout=60)
            def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
    "a def is no App": (
        controlled(
            """\
            def other(): ...


            @other.function(gpu="A100-80G", timeout=60)
            def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
    "the App of a project module, through `import common`": (
        """\
        import common


        @common.app.function(gpu="A100-80G", timeout=60)
        def f() -> None: ...
        """,
        [("MGL001", 4, 22, TYPO)],
    ),
    "the App of a project module, through `import pkg.common`": (
        """\
        import pkg.common


        @pkg.common.app.function(gpu="A100-80G", timeout=60)
        def f() -> None: ...
        """,
        [("MGL001", 4, 26, TYPO)],
    ),
    "an attribute of a call result is not followed": (
        controlled(
            """\
            import common


            @common.load().app.function(gpu="A100-80G", timeout=60)
            def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
    "an attribute of a local object is no project App": (
        controlled(
            """\
            holder = object()


            @holder.app.function(gpu="A100-80G", timeout=60)
            def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
    "modal.app is Modal's module, not an App": (
        controlled(
            """\
            @modal.app.function(gpu="A100-80G", timeout=60)
            def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
}


@pytest.mark.parametrize("name", list(NAMES))
def test_what_a_name_refers_to(name: str) -> None:
    check(*NAMES[name])


# ---- what an expression evaluates to -----------------------------------------------------------------
VALUES: dict[str, tuple[str, list[Found]]] = {
    "implicitly concatenated strings": (
        """\
        GPU = "A100" "-80G"


        @app.function(gpu=GPU, timeout=60)
        def f() -> None: ...
        """,
        [("MGL001", 4, 15, f"{TYPO} (value from GPU {at(1)})")],
    ),
    "a concatenation with an unknown part is unknown": (
        controlled(
            """\
            GPU = "A100" f"{os.environ['SUFFIX']}"


            @app.function(gpu=GPU, timeout=60)
            def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
    "bytes, a complex number, a tuple, a set and a dict comprehension": (
        """\
        @app.function(gpu=b"T4", timeout=60)
        def a() -> None: ...


        @app.function(gpu=2j, timeout=60)
        def b() -> None: ...


        @app.function(gpu=("T4", "L4"), timeout=60)
        def c() -> None: ...


        @app.function(gpu={"T4"}, timeout=60)
        def d() -> None: ...


        @app.function(gpu={k: 1 for k in "ab"}, timeout=60)
        def e() -> None: ...
        """,
        [
            ("MGL005", 1, 15, "gpu= does not accept bytes: give a GPU string"),
            ("MGL005", 5, 15, "gpu= does not accept a complex number: give a GPU string"),
            ("MGL005", 9, 15, "gpu= does not accept a tuple: give a GPU string; write fallbacks as a list"),
            ("MGL005", 13, 15, "gpu= does not accept a set: give a GPU string"),
            ("MGL005", 17, 15, "gpu= does not accept a dict: give a GPU string"),
        ],
    ),
    "a class imported from modal.gpu is a GPU request (no timeout: MGL101)": (
        """\
        from modal.gpu import H100
        from hardware import A100


        @app.function(gpu=H100)
        def f() -> None: ...


        @app.function(gpu=A100)
        def g() -> None: ...
        """,
        [
            ("MGL008", 1, 23, "`from modal.gpu import H100`: the module modal.gpu was removed in client 1.4.0"),
            ("MGL101", 5, 2, "app.function requests a GPU but sets no timeout"),
        ],
    ),
    "a loop over a tuple bound to a name": (
        """\
        KINDS = ("T4", "L4!")
        for kind in KINDS:
            app.function(gpu=kind, timeout=60)(print)
        """,
        [("MGL004", 3, 18, "'L4!': the suffix '!' pins the exact type")],
    ),
    "loops whose items are not known": (
        controlled(
            """\
            TWICE = ["L4!"]
            TWICE = ["H200!"]
            CALLED = list(["L4!"])
            MORE = ["L4!"]
            for a in TWICE:
                app.function(gpu=a, timeout=60)(print)
            for b in CALLED:
                app.function(gpu=b, timeout=60)(print)
            for c in []:
                app.function(gpu=c, timeout=60)(print)
            for d in ["H200!", *MORE]:
                app.function(gpu=d, timeout=60)(print)
            for e in ("L4!",) + ("H200!",):
                app.function(gpu=e, timeout=60)(print)
            """
        ),
        [CONTROLLED],
    ),
    "a GPU object, a typed f-string or a list is true: the right side of `or` never runs": (
        """\
        def build(n: int) -> None:
            app.function(gpu=modal.gpu.H100() or "A100-80G")(print)
            app.function(gpu=f"A100-80G:{n}" or "T4", timeout=60)(print)
            app.function(gpu=["A100-80G"] or "T4", timeout=60)(print)
            app.function(gpu=[] or "A100-80G", timeout=60)(print)
        """,
        [
            ("MGL101", 2, 5, "app.function requests a GPU but sets no timeout"),
            ("MGL008", 2, 22, 'modal.gpu objects were removed in client 1.4.0: write gpu="H100"'),
            ("MGL001", 3, 18, f"{TYPO} (in 'A100-80G:{{...}}', whatever the count)"),
            ("MGL001", 4, 18, TYPO),
            ("MGL001", 5, 18, TYPO),
        ],
    ),
    "f-string conversions and format specs are not evaluated": (
        """\
        N = 12


        @app.function(gpu=f"H100:{N}", timeout=60)
        def a() -> None: ...


        @app.function(gpu=f"H100:{N!s}", timeout=60)
        def b() -> None: ...


        @app.function(gpu=f"H100:{N:d}", timeout=60)
        def c() -> None: ...
        """,
        [("MGL003", 4, 15, f"'H100:12' asks for 12 x H100: a container can have 1 to 8 (value from N {at(1)})")],
    ),
    "a starred fallback list is unknown": (
        controlled(
            """\
            MORE = ["A100-80G"]


            @app.function(gpu=["H100", *MORE], timeout=60)
            def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
    "an instance of a class from another module is not followed": (
        controlled(
            """\
            import settings

            CONFIG = settings.Config(gpu="A100-80G")


            @app.function(gpu=CONFIG.gpu, timeout=60)
            def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
}


@pytest.mark.parametrize("name", list(VALUES))
def test_what_a_value_is(name: str) -> None:
    check(*VALUES[name])


# ---- arithmetic, read through `timeout=` (1 to 86400 seconds) -----------------------------------------
@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("24 * 60 * 60 + 1", "86401"),
        ("86400 - -1", "86401"),
        ("100000 / 1", "100000"),
        ("86401 % 100000", "86401"),
        ("2 ** 17", "131072"),
        ("10 ** -1", "0.1"),
        ("+0", "0"),
        ("-(5)", "-5"),
        ("int('90000')", "90000"),
        ("int(os.getenv('T', '90000'))", "90000"),
        ("int(os.environ.get('T', default='90000'))", "90000"),
        ("0 or 90000", "90000"),
        ("90000 or 0", "90000"),
        ("60 if os.environ.get('T') else 0", "0"),
    ],
)
def test_arithmetic_that_is_followed(expression: str, value: str) -> None:
    source = f"@app.function(gpu='T4', timeout={expression})\ndef f() -> None: ...\n"
    message = f"timeout={value} is outside 1 to 86400 seconds: Modal rejects it"
    check(source, [("MGL102", 1, 25, message)])


@pytest.mark.parametrize(
    "expression",
    [
        "172801 // 2",  # 86400: in range
        "2 ** 100",  # too large an exponent to compute
        "1 / 0",
        "-'x'",
        "not 5",
        "True + 86400",  # bools are not counted as numbers
        "86401 | 0",  # an operator the resolver does not compute
        "int('90000', 10)",  # a conversion with more than one argument
        "int(x='90000')",
        "os.environ.get('T')",  # no default: the environment decides
    ],
)
def test_arithmetic_that_is_not_followed(expression: str) -> None:
    source = f"@app.function(gpu='T4', timeout={expression})\ndef f() -> None: ...\n" + CONTROL
    check(source, [CONTROLLED])


def test_thirty_two_alternatives_are_followed_but_not_sixty_four() -> None:
    """Each `(1 if X else 2)` doubles the values a sum may take; past 32 the resolver gives up."""
    term = "(1 if os.environ.get('X') else 2)"
    five = " + ".join([term] * 5)
    six = " + ".join([term] * 6)
    source = (
        f"@app.function(gpu='T4', timeout={five} - 100)\ndef a() -> None: ...\n\n\n"
        f"@app.function(gpu='T4', timeout={six} - 100)\ndef b() -> None: ...\n"
    )
    found = lint(source)
    assert [f[:3] for f in found] == [("MGL102", 1, 25)] * 6  # sums 5..10 minus 100, each reported once
    assert [f[3].split(" is outside")[0] for f in found] == [f"timeout={n}" for n in range(-95, -89)]


def test_is_unknown() -> None:
    assert is_unknown(UNKNOWN)
    assert not is_unknown(OtherValue("a tuple"))
    assert not is_unknown("T4")


# ---- attributes: class attributes, instance fields, `self.X` -----------------------------------------
ATTRIBUTES: dict[str, tuple[str, list[Found]]] = {
    "a class attribute": (
        """\
        class Settings:
            GPU = "A100-80G"


        @app.function(gpu=Settings.GPU, timeout=60)
        def f() -> None: ...
        """,
        [("MGL001", 5, 15, f"{TYPO} (value from Settings.GPU)")],
    ),
    "an instance of a plain class: the keyword given": (
        """\
        class Config:
            gpu = "T4"
            count = 1


        CONFIG = Config(count=2, gpu="A100-80G")


        @app.function(gpu=CONFIG.gpu, timeout=60)
        def f() -> None: ...
        """,
        [("MGL001", 9, 15, f"{TYPO} (value from CONFIG.gpu)")],
    ),
    "an instance of a dataclass: the field's default": (
        """\
        from dataclasses import dataclass


        @dataclass
        class Config:
            gpu: str = "A100-80G"
            count: int = 1


        CONFIG = Config(count=2)


        @app.function(gpu=CONFIG.gpu, timeout=60)
        def f() -> None: ...
        """,
        [("MGL001", 13, 15, f"{TYPO} (value from CONFIG.gpu)")],
    ),
    "attributes the resolver cannot pin down": (
        controlled(
            """\
            from dataclasses import dataclass


            @dataclass
            class Config:
                gpu: str = "A100-80G"


            class Custom:
                gpu = "A100-80G"

                def __init__(self) -> None:
                    pass


            @dataclass
            class Checked:
                gpu: str = "A100-80G"

                def __post_init__(self) -> None:
                    print(self)


            class Base:
                gpu = "A100-80G"


            class Child(Base):
                pass


            class Twice:
                gpu = "H100"
                if os.environ.get("OLD"):
                    gpu = "A100-80G"


            class Declared:
                gpu: str


            class Method:
                def gpu(self) -> str:
                    return "A100-80G"


            def helper() -> None: ...


            from settings import Config as Imported

            KWARGS = {"gpu": "H100"}
            FROM_FUNCTION = helper()
            FROM_IMPORT = Imported(gpu="A100-80G")
            REBOUND = Config()
            REBOUND = Config()
            POSITIONAL = Config("H100")
            SPLAT = Config(**KWARGS)
            STRING = "A100-80G"


            def make() -> Config:
                return Config()


            app.function(gpu=REBOUND.gpu, timeout=60)(print)
            app.function(gpu=POSITIONAL.gpu, timeout=60)(print)
            app.function(gpu=SPLAT.gpu, timeout=60)(print)
            app.function(gpu=Custom().gpu, timeout=60)(print)
            app.function(gpu=make().gpu, timeout=60)(print)
            CHECKED = Checked()
            app.function(gpu=CHECKED.gpu, timeout=60)(print)
            app.function(gpu=Child.gpu, timeout=60)(print)
            app.function(gpu=Twice.gpu, timeout=60)(print)
            app.function(gpu=Declared.gpu, timeout=60)(print)
            app.function(gpu=Method.gpu, timeout=60)(print)
            app.function(gpu=helper.gpu, timeout=60)(print)
            app.function(gpu=STRING.gpu, timeout=60)(print)
            app.function(gpu=FROM_FUNCTION.gpu, timeout=60)(print)
            app.function(gpu=FROM_IMPORT.gpu, timeout=60)(print)
            for item in [Base]:
                app.function(gpu=item.gpu, timeout=60)(print)
            CUSTOM = Custom()
            app.function(gpu=CUSTOM.gpu, timeout=60)(print)
            """
        ),
        [CONTROLLED],
    ),
    "a field a method assigns is not the default": (
        controlled(
            """\
            from dataclasses import dataclass


            @dataclass
            class Config:
                gpu: str = "a100-80g"

                def __post_init__(self) -> None:
                    self.gpu = self.gpu.upper()


            CONFIG = Config()
            app.function(gpu=CONFIG.gpu, timeout=60)(print)
            """
        ),
        [CONTROLLED],
    ),
    "an attribute set anywhere in the module is not the default": (
        controlled(
            """\
            class Config:
                gpu = "A100-80G"


            CONFIG = Config()
            CONFIG.gpu = os.environ.get("GPU", "H100")


            @app.function(gpu=CONFIG.gpu, timeout=60)
            def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
    "an attribute set through setattr with a computed name": (
        controlled(
            """\
            class Config:
                gpu = "A100-80G"


            CONFIG = Config()
            setattr(CONFIG, os.environ["FIELD"], "H100")


            @app.function(gpu=CONFIG.gpu, timeout=60)
            def f() -> None: ...
            """
        ),
        [CONTROLLED],
    ),
}


@pytest.mark.parametrize("name", list(ATTRIBUTES))
def test_attributes(name: str) -> None:
    check(*ATTRIBUTES[name])


def test_self_and_cls_read_the_class_body_in_methods_only() -> None:
    source = """\
    from vllm import LLM


    @app.cls(gpu="L4", timeout=60)
    class Server:
        MODEL = "m/x-40b"

        @modal.enter()
        def load(self):
            self.llm = LLM(model=self.MODEL, dtype="bfloat16")

        @staticmethod
        def not_a_method(self):
            LLM(model=self.MODEL, dtype="bfloat16")

        def other_parameter(me, other):
            LLM(model=other.MODEL, dtype="bfloat16")

        def positional_only(self, /, x):
            LLM(model=self.MODEL, dtype="float16")

        @classmethod
        def from_cls(cls):
            def inner(self):
                LLM(model=self.MODEL, dtype="bfloat16")

            LLM(model=cls.MODEL, dtype="float32")
    """
    weights = "m/x-40b has about 40B parameters; in {} its weights alone need about {} GB, but 1 x L4 has 24 GB"
    check(
        source,
        [
            ("MGL403", 10, 24, weights.format("bfloat16 (2 bytes per parameter)", 80)),
            ("MGL403", 20, 13, weights.format("float16 (2 bytes per parameter)", 80)),
            ("MGL403", 27, 13, weights.format("float32 (4 bytes per parameter)", 160)),
        ],
    )


def test_self_attribute_assigned_in_a_method_is_not_the_class_default() -> None:
    source = """\
    from vllm import LLM


    @app.cls(gpu="L4", timeout=60)
    class Server:
        MODEL = "m/x-40b"

        @modal.enter()
        def load(self):
            self.MODEL = os.environ.get("MODEL", "m/x-7b")
            self.llm = LLM(model=self.MODEL, dtype="bfloat16")
    """
    check(source, [])


# ---- scopes: what binds a name -------------------------------------------------------------------------
SCOPES: dict[str, tuple[str, list[Found]]] = {
    "with, except and match rebind a name": (
        controlled(
            """\
            A = "A100-80G"
            B = "A100-80G"
            C = "A100-80G"
            D = "A100-80G"
            with open(os.devnull) as A:
                pass
            try:
                pass
            except OSError as B:
                pass
            match os.environ.get("G", "").split():
                case [str() as C]:
                    pass
                case [first, *D]:
                    pass
            app.function(gpu=A, timeout=60)(print)
            app.function(gpu=B, timeout=60)(print)
            app.function(gpu=C, timeout=60)(print)
            app.function(gpu=D, timeout=60)(print)
            """
        ),
        [CONTROLLED],
    ),
    "match patterns without a name bind nothing": (
        """\
        GPU = "A100-80G"
        match os.environ.get("G", "").split():
            case [_, *_]:
                pass
        app.function(gpu=GPU, timeout=60)(print)
        """,
        [("MGL001", 5, 14, TYPO)],
    ),
    "tuple and list unpacking bind each name to its value": (
        """\
        SMALL, BIG = "T4", "A100-80G"
        [ONE, (TWO, THREE)] = ["T4", ("L4", "L4!")]
        LEFT, RIGHT = os.environ["LEFT"], "H200!"
        app.function(gpu=BIG, timeout=60)(print)
        app.function(gpu=THREE, timeout=60)(print)
        app.function(gpu=RIGHT, timeout=60)(print)
        """,
        [
            ("MGL001", 4, 14, f"{TYPO} (value from BIG {at(1)})"),
            ("MGL004", 5, 14, "'L4!': the suffix '!' pins the exact type"),
            ("MGL004", 6, 14, "'H200!': the suffix '!' pins the exact type"),
        ],
    ),
    "unpacking whose values cannot be paired": (
        controlled(
            """\
            REST = ["A100-80G"]
            A, B = ("T4", "A100-80G", "L4")
            C, D = ["T4", *REST]
            E, *F = "A100-80G", "T4"
            *G, H = "T4", "A100-80G"
            app.function(gpu=B, timeout=60)(print)
            app.function(gpu=D, timeout=60)(print)
            app.function(gpu=E, timeout=60)(print)
            app.function(gpu=F, timeout=60)(print)
            app.function(gpu=H, timeout=60)(print)
            """
        ),
        [CONTROLLED],
    ),
    "loop targets other than a name": (
        controlled(
            """\
            A = "A100-80G"
            B = "A100-80G"
            for A, n in [("T4", 1)]:
                pass
            for first, *B in [("T4", 1)]:
                pass
            app.function(gpu=A, timeout=60)(print)
            app.function(gpu=B, timeout=60)(print)
            """
        ),
        [CONTROLLED],
    ),
    "annotated and augmented assignments": (
        """\
        GPU: str = "A100-80G"
        COUNT: int
        GROWN = "A100"
        GROWN += "-80G"
        app.function(gpu=GPU, timeout=60)(print)
        app.function(gpu=f"H100:{COUNT}", timeout=60)(print)
        app.function(gpu=GROWN, timeout=60)(print)
        """,
        [("MGL001", 5, 14, f"{TYPO} (value from GPU {at(1)})")],
    ),
    "an assignment expression at module level": (
        """\
        if (GPU := "A100-80G"):
            pass
        app.function(gpu=GPU, timeout=60)(print)
        """,
        [("MGL001", 3, 14, f"{TYPO} (value from GPU {at(1)})")],
    ),
    "names bound inside a lambda, a def or a class body stay there": (
        """\
        GPU = "A100-80G"
        pick = lambda GPU="T4": (GPU := "H100")
        ALL = [GPU for GPU in ["T4"]]
        SOME = {GPU for GPU in ["T4"]}
        BY = {GPU: 1 for GPU in ["T4"]}
        LAZY = list(GPU for GPU in ["T4"])
        with open(os.devnull):
            pass


        def helper():
            GPU = "T4"
            return GPU


        class Holder:
            GPU = "T4"


        app.function(gpu=GPU, timeout=60)(print)
        """,
        [("MGL001", 20, 14, f"{TYPO} (value from GPU {at(1)})")],
    ),
    "a method does not see the names of its class body; the class body does": (
        """\
        GPU = "T4"


        @app.function(timeout=60)
        def f() -> None: ...


        class Deployer:
            GPU = "A100-80G"

            def deploy(self):
                return f.with_options(gpu=GPU)

            small = f.with_options(gpu=GPU)
        """,
        [("MGL001", 14, 28, f"{TYPO} (value from GPU {at(9)})")],
    ),
    "a module imported under another name is no string": (
        controlled(
            """\
            import os.path as GPU

            app.function(gpu=GPU, timeout=60)(print)
            """
        ),
        [CONTROLLED],
    ),
    "a star import binds nothing the resolver can read": (
        controlled(
            """\
            from settings import *

            app.function(gpu=GPU, timeout=60)(print)
            """
        ),
        [CONTROLLED],
    ),
    "a function's own constant, its parameter and a global declaration": (
        """\
        GPU = "A100-80G"


        def local():
            CHOICE = "A100-80G"
            app.function(gpu=CHOICE, timeout=60)(print)


        def parameter(CHOICE="A100-80G"):
            app.function(gpu=CHOICE, timeout=60)(print)


        def declared():
            global GPU
            app.function(gpu=GPU, timeout=60)(print)


        def star(*GPU):
            app.function(gpu=GPU, timeout=60)(print)


        def double_star(**GPU):
            app.function(gpu=GPU, timeout=60)(print)


        def outer():
            CHOICE = "A100-80G"

            def inner():
                nonlocal CHOICE
                app.function(gpu=CHOICE, timeout=60)(print)
        """,
        [("MGL001", 6, 18, f"{TYPO} (value from CHOICE {at(5)})")],
    ),
}


@pytest.mark.parametrize("name", list(SCOPES))
def test_scopes(name: str) -> None:
    check(*SCOPES[name])


# ---- constants of the project's own modules, in-process ----------------------------------------------
def test_project_constants_through_modules_and_packages(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text('GPU = "A100-80G"\nKINDS = ["L4!"]\n')
    (tmp_path / "hardware.py").write_text('GPU = "H200!"\n')
    main = tmp_path / "main.py"
    source = """\
    import hardware
    import hardware as hw
    import json
    from pkg import settings
    from pkg.settings import KINDS


    @app.function(gpu=hardware.GPU, timeout=60)
    def a() -> None: ...


    @app.function(gpu=hw.GPU, timeout=60)
    def b() -> None: ...


    @app.function(gpu=settings.GPU, timeout=60)
    def c() -> None: ...


    @app.function(gpu=json.GPU, timeout=60)
    def d() -> None: ...


    @app.function(gpu=settings.MISSING, timeout=60)
    def e() -> None: ...


    for kind in KINDS:
        app.function(gpu=kind, timeout=60)(print)
    """
    found = lint(source, path=str(main))
    suffix = "the suffix '!' pins the exact type (no upgrade) and is accepted only on H100; Modal rejects 'H200!'"
    assert found == [
        ("MGL004", 8, 15, f"'H200!': {suffix} (value from hardware.GPU (hardware.py:1))"),
        ("MGL004", 12, 15, f"'H200!': {suffix} (value from hw.GPU (hardware.py:1))"),
        ("MGL001", 16, 15, f"{TYPO} (value from settings.GPU (settings.py:1))"),
    ]


def test_without_a_path_no_project_module_is_read(tmp_path: Path) -> None:
    """The language server analyses a buffer without its path: imports are then not followed."""
    (tmp_path / "hardware.py").write_text('GPU = "H200!"\n')
    text = PRELUDE + "import hardware\n\n\n@app.function(gpu=hardware.GPU, timeout=60)\ndef a() -> None: ...\n"
    source, module = parse(str(tmp_path / "main.py"), text.encode())
    codes = SETTINGS.codes_for("main.py")
    assert analyze(module, source.text, SETTINGS, codes).findings == []
    found = analyze(module, source.text, SETTINGS, codes, path=str(tmp_path / "main.py")).findings
    assert [f.code for f in found] == ["MGL004"]


# ---- launch commands read from a body ------------------------------------------------------------------
def body(code: str, *, gpu: str | None = "H100:2", params: str = "") -> str:
    """A Modal function with `gpu=` and `code` as its body (rows: the decorator is row 1, the body from 3)."""
    lines = textwrap.indent(textwrap.dedent(code).strip("\n"), "    ")
    return f"@app.function(gpu={gpu!r}, timeout=60)\ndef f({params}):\n{lines}\n"


def parallel(setting: str, size: int, gpus: int = 2) -> str:
    s = "" if gpus == 1 else "s"
    return f"{setting} uses {size} GPUs at once, but gpu='H100:{gpus}' gives {gpus} GPU{s}"


LAUNCHES: dict[str, tuple[str, list[Found]]] = {
    "torchrun run in-process with its argv": (
        body(
            """
            import torch.distributed.run

            torch.distributed.run.main(["--nproc-per-node=8", "train.py"])
            """
        ),
        [("MGL402", 5, 33, parallel("torchrun --nproc-per-node 8", 8))],
    ),
    "torchrun's parse_args given args=": (
        body(
            """
            from torch.distributed import run

            run.parse_args(args=["--nproc-per-node", "4", "train.py"])
            """
        ),
        [("MGL402", 5, 46, parallel("torchrun --nproc-per-node 4", 4))],
    ),
    "torchrun in-process reading sys.argv, or a splat": (
        body(
            """
            from torch.distributed import run

            ARGS = [["--nproc-per-node=8", "train.py"]]
            run.main()
            run.main(*ARGS)
            """
        ),
        [],
    ),
    "asyncio exec: keywords are not argv, a splat may be anything": (
        "import asyncio\n\n\n"
        + body(
            """
            argv = ["torchrun", "--nproc-per-node", "8", "t.py"]
            asyncio.create_subprocess_exec("torchrun", "--nproc-per-node", "8", "t.py", stdout=None)
            asyncio.create_subprocess_exec(*argv)
            """
        ),
        [("MGL402", 7, 68, parallel("torchrun --nproc-per-node 8", 8))],
    ),
    "subprocess with args=, without argv, or with a splat": (
        body(
            """
            ARGV = [["torchrun", "--nproc-per-node", "8", "t.py"]]
            subprocess.run(args=["torchrun", "--nproc-per-node", "8", "t.py"])
            subprocess.run(stdout=None)
            subprocess.run(*ARGV)
            """
        ),
        [("MGL402", 4, 58, parallel("torchrun --nproc-per-node 8", 8))],
    ),
    "shlex.split of a string, and a string shlex cannot split": (
        "import shlex\n\n\n"
        + body(
            """
            subprocess.run(shlex.split("torchrun --nproc-per-node 8 t.py"))
            subprocess.run(shlex.split("torchrun --nproc-per-node 8 't.py"))
            """
        ),
        [("MGL402", 6, 20, parallel("torchrun --nproc-per-node 8", 8))],
    ),
    "a list joined with something other than a space is not a command line": (
        body('subprocess.run(",".join(["torchrun", "--nproc-per-node", "8"]), shell=True)'),
        [],
    ),
    "os.popen and os.system": (
        body(
            """
            os.popen("torchrun --nproc-per-node 8 t.py")
            os.system("torchrun --nproc-per-node=8 t.py")
            """
        ),
        [
            ("MGL402", 3, 14, parallel("torchrun --nproc-per-node 8", 8)),
            ("MGL402", 4, 15, parallel("torchrun --nproc-per-node 8", 8)),
        ],
    ),
    "a command line built in an f-string bound to a name": (
        body(
            """
            n = 8
            cmd = f"torchrun --nproc-per-node {n} t.py"
            subprocess.run(cmd, shell=True)
            """
        ),
        [("MGL402", 4, 11, parallel("torchrun --nproc-per-node 8", 8))],
    ),
    "an f-string part with a format spec is not read": (
        body('subprocess.run(f"torchrun --nproc-per-node {8:d} t.py", shell=True)'),
        [],
    ),
    "a module-level argv is reported where it is run": (
        "CMD = ['torchrun', '--nproc-per-node', '8', 't.py']\n\n\n" + body("subprocess.run(CMD)"),
        [("MGL402", 6, 20, parallel("torchrun --nproc-per-node 8", 8))],
    ),
    "argv changed in place in ways that are not followed": (
        body(
            """
            a = ["torchrun", "--nproc-per-node", "8", "t.py"]
            a[2] = "2"
            subprocess.run(a)
            b = ["torchrun", "--nproc-per-node", "8", "--x", "t.py"]
            del b[3]
            subprocess.run(b)
            c = ["torchrun", "--nproc-per-node", "8", "t.py"]
            c.insert(1, "--nproc-per-node=2")
            subprocess.run(c)
            d = ["torchrun", "--nproc-per-node", "8", "t.py"]
            d *= 2
            subprocess.run(d)
            e = ["torchrun", "--nproc-per-node", "8", "t.py"]
            e[2] += "0"
            subprocess.run(e)
            """
        ),
        [],
    ),
    "argv grown in place before it runs": (
        body(
            """
            a = ["torchrun"]
            a += ["--nproc-per-node", "8", "t.py"]
            subprocess.run(a)
            b = ["vllm", "serve", "m/x"]
            b.append("-tp")
            b.append("4")
            subprocess.run(b)
            c = "vllm serve m/x"
            c += " --tensor-parallel-size 8"
            subprocess.run(c, shell=True)
            """
        ),
        [
            ("MGL402", 4, 31, parallel("torchrun --nproc-per-node 8", 8)),
            ("MGL402", 8, 14, parallel("vllm serve -tp 4", 4)),
            ("MGL402", 11, 10, parallel("vllm serve --tensor-parallel-size 8", 8)),
        ],
    ),
    "growth that may change the command: a glued word, a flag that counts, a later growth": (
        body(
            """
            a = "vllm serve m/x -tp "
            a += "8"
            subprocess.run(a, shell=True)
            b = ["vllm", "serve", "m/x", "-tp", "8"]
            if os.environ.get("SMALL"):
                b += ["-tp", "2"]
            subprocess.run(b)
            c = ["vllm", "serve", "m/x", "-tp", "8"]
            subprocess.run(c)
            c += ["--port", "8001"]
            """
        ),
        [],
    ),
    "a conditional growth that adds only harmless flags": (
        body(
            """
            cmd = ["vllm", "serve", "m/x", "-tp", "8"]
            if os.environ.get("KEY"):
                cmd += ["--api-key", os.environ["KEY"]]
            for port in ["8000"]:
                cmd.extend(["--port", port])
            subprocess.run(cmd)
            """
        ),
        [("MGL402", 3, 43, parallel("vllm serve -tp 8", 8))],
    ),
    "conditional growths that are not harmless": (
        body(
            """
            a = ["vllm", "serve", "m/x", "-tp", "8"]
            if os.environ.get("A"):
                a += [os.environ["A"]]
            subprocess.run(a)
            b = ["vllm", "serve", "m/x", "-tp", "8"]
            if os.environ.get("B"):
                b += ["--api-key", os.environ["B"], os.environ["B2"]]
            subprocess.run(b)
            c = ["vllm", "serve", "m/x", "-tp", "8"]
            if os.environ.get("C"):
                c.append(os.environ["C"])
            subprocess.run(c)
            """
        ),
        [],
    ),
    "an argv rebound, a parameter, or grown under another binding": (
        body(
            """
            a = ["torchrun", "--nproc-per-node", "8", "t.py"]
            if os.environ.get("A"):
                a = ["echo"]
            subprocess.run(a)
            subprocess.run(cmd)
            b = ["torchrun", "--nproc-per-node", "8", "t.py"]

            def helper():
                b = []
                b += ["--nproc-per-node", "2"]

            subprocess.run(b)
            """,
            params="cmd",
        ),
        [],
    ),
}


@pytest.mark.parametrize("name", list(LAUNCHES))
def test_launch_commands(name: str) -> None:
    check(*LAUNCHES[name])


def shell(command: str, *, gpu: str = "H100:2") -> str:
    return body(f"subprocess.run({command!r}, shell=True)", gpu=gpu)


LAUNCHERS: dict[str, tuple[str, list[Found]]] = {
    "accelerate counts processes over every machine": (
        shell("accelerate launch --num_machines 2 --num_processes 8 train.py"),
        [("MGL402", 3, 20, "accelerate launch --num_processes 8 uses 8 GPUs at once, but gpu='H100:2' gives 4 GPUs")],
    ),
    "accelerate: a boolean flag takes no value": (
        shell("accelerate launch --multi_gpu --num_processes 8 train.py"),
        [("MGL402", 3, 20, parallel("accelerate launch --num_processes 8", 8))],
    ),
    "accelerate: an unknown machine count, another subcommand, flags of the script": (
        body(
            """
            subprocess.run(["accelerate", "launch", "--num_machines", n, "--num_processes", "8", "train.py"])
            subprocess.run("accelerate config --num_processes 8", shell=True)
            subprocess.run("accelerate launch train.py --num_processes 8", shell=True)
            """,
            params="n",
        ),
        [],
    ),
    "sglang: tensor and data parallel multiply": (
        shell("python -m sglang.launch_server --model-path m/x-7b --tp 2 --dp 2"),
        [("MGL402", 3, 20, parallel("sglang --tp 2 x --dp 2", 4))],
    ),
    "sglang: DP attention shares the tensor-parallel GPUs": (
        shell("python -m sglang.launch_server --model-path m/x-7b --tp 2 --dp 4 --enable-dp-attention"),
        [],
    ),
    "vllm: data parallel alone, and with pipeline stages": (
        body(
            """
            subprocess.run("vllm serve m/x-7b --data-parallel-size 4", shell=True)
            subprocess.run("vllm serve m/x-7b -tp 2 -pp 2", shell=True)
            subprocess.run("vllm serve m/x-7b -tp 4 -pp 1", shell=True)
            """
        ),
        [
            ("MGL402", 3, 20, parallel("vllm serve --data-parallel-size 4", 4)),
            ("MGL402", 4, 20, parallel("vllm serve -tp 2 x -pp 2", 4)),
            ("MGL402", 5, 20, parallel("vllm serve -tp 4", 4)),
        ],
    ),
    "vllm: replicas spread over nodes count tensor parallelism only": (
        shell("vllm serve m/x-7b -tp 2 -dp 4 --data-parallel-size-local 1"),
        [],
    ),
    "trl vllm-serve": (
        shell("trl vllm-serve --model m/x-7b --tensor-parallel-size 4"),
        [("MGL402", 3, 20, parallel("trl vllm-serve --tensor-parallel-size 4", 4))],
    ),
    "torchrun: a value that is not a number, a flag after the script, a word not known": (
        body(
            """
            subprocess.run("torchrun --nproc-per-node gpu t.py", shell=True)
            subprocess.run("torchrun t.py --nproc-per-node 8", shell=True)
            subprocess.run(["torchrun", "--nproc-per-node", n, "t.py"])
            subprocess.run([exe, "torchrun", "--nproc-per-node", "8", "t.py"])
            subprocess.run("torchrun --nproc-per-node", shell=True)
            """,
            params="n, exe",
        ),
        [],
    ),
    "torchrun behind wrappers, and after a shell operator": (
        body(
            """
            os.system("env A=1 python3.11 -u -m torch.distributed.launch --standalone --nproc_per_node=8 t")
            subprocess.run("&& torchrun --nproc-per-node 8 t.py", shell=True)
            """
        ),
        [
            ("MGL402", 3, 15, parallel("torchrun --nproc_per_node 8", 8)),
            ("MGL402", 4, 20, parallel("torchrun --nproc-per-node 8", 8)),
        ],
    ),
    "nvidia-smi run by its path needs a GPU": (
        body('subprocess.run(["/usr/bin/nvidia-smi", "-L"])', gpu=None),
        [("MGL401", 1, 2, "function f uses CUDA (runs nvidia-smi) but requests no GPU")],
    ),
    "LaunchConfig(nproc_per_node=...)": (
        body(
            """
            from torch.distributed import launcher
            from torch.distributed.launcher.api import LaunchConfig

            LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=8)
            LaunchConfig(nproc_per_node=1)
            LaunchConfig(nproc_per_node=n)
            launcher.LaunchConfig(min_nodes=1)
            """,
            params="n",
        ),
        [("MGL402", 6, 44, parallel("LaunchConfig(nproc_per_node=8)", 8))],
    ),
}


@pytest.mark.parametrize("name", list(LAUNCHERS))
def test_launchers(name: str) -> None:
    check(*LAUNCHERS[name])


# ---- model loads read from a body: MGL403 on an L4 (24 GB) ---------------------------------------------
def needs(model: str, params: int, precision: str, gb: int) -> str:
    return f"{model} has about {params}B parameters; {precision} its weights alone need about {gb} GB, but 1 x L4"


AUTO = (
    'loaded with dtype="auto" (the default: the checkpoint\'s own precision, which for an unquantized '
    "checkpoint is at least 2 bytes per parameter),"
)

LOADS: dict[str, tuple[str, list[Found]]] = {
    "vllm serve: the model, its dtype and quantization": (
        body(
            """
            subprocess.run("vllm serve m/x-40b", shell=True)
            subprocess.run("vllm serve --model m/x-40b --dtype bfloat16", shell=True)
            subprocess.run("vllm serve m/x-40b --quantization fp8", shell=True)
            subprocess.run("vllm serve m/x-20b --quantization fp8", shell=True)
            subprocess.run("python3 -m sglang.launch_server --model-path m/x-40b --dtype bfloat16", shell=True)
            subprocess.run("trl vllm-serve --model_name_or_path m/x-40b", shell=True)
            """,
            gpu="L4",
        ),
        [
            ("MGL403", 3, 20, needs("m/x-40b", 40, AUTO, 80)),
            ("MGL403", 4, 20, needs("m/x-40b", 40, "in bfloat16 (2 bytes per parameter)", 80)),
            ("MGL403", 5, 20, needs("m/x-40b", 40, "in fp8 quantization (1 byte per parameter)", 40)),
            ("MGL403", 7, 20, needs("m/x-40b", 40, "in bfloat16 (2 bytes per parameter)", 80)),
            ("MGL403", 8, 20, needs("m/x-40b", 40, AUTO, 80)),
        ],
    ),
    "vllm serve: what leaves the weights unknown": (
        body(
            """
            subprocess.run("vllm serve m/x-40b --dtype bfloat16 --quantization weird", shell=True)
            subprocess.run("vllm serve m/x-40b --dtype weird", shell=True)
            subprocess.run(["vllm", "serve", "m/x-40b", "--dtype", d])
            subprocess.run("vllm serve m/x-40b --cpu-offload-gb 64", shell=True)
            subprocess.run("vllm serve m/x-40b --load-format dummy", shell=True)
            subprocess.run(["vllm", "serve", "m/x-40b", d])
            subprocess.run("vllm serve --port 8000", shell=True)
            subprocess.run(["vllm", "serve", d])
            """,
            gpu="L4",
            params="d",
        ),
        [],
    ),
    "vLLM and SGLang engines": (
        body(
            """
            import sglang as sgl
            from vllm import LLM, AsyncEngineArgs

            LLM("m/x-40b")
            LLM(model="m/x-20b", dtype="bfloat16")
            LLM(model="m/x-20b", dtype="bfloat16", quantization="fp8")
            AsyncEngineArgs(model="m/x-40b", dtype="bfloat16")
            sgl.Engine(model_path="m/x-40b", dtype="bfloat16")
            LLM(model="m/x-40b", cpu_offload_gb=0)
            LLM(model="m/x-40b", dtype="bfloat16", quantization=None)
            """,
            gpu="L4",
        ),
        [
            ("MGL403", 6, 9, needs("m/x-40b", 40, AUTO, 80)),
            ("MGL403", 7, 9, needs("m/x-20b", 20, "in bfloat16 (2 bytes per parameter)", 40)),
            ("MGL403", 9, 21, needs("m/x-40b", 40, "in bfloat16 (2 bytes per parameter)", 80)),
            ("MGL403", 10, 16, needs("m/x-40b", 40, "in bfloat16 (2 bytes per parameter)", 80)),
            ("MGL403", 11, 9, needs("m/x-40b", 40, AUTO, 80)),
            ("MGL403", 12, 9, needs("m/x-40b", 40, "in bfloat16 (2 bytes per parameter)", 80)),
        ],
    ),
    "engine dtypes: torch attributes and alternatives": (
        body(
            """
            import numpy as np
            import torch
            from vllm import LLM

            D = "float32" if os.environ.get("WIDE") else "bfloat16"
            LLM(model="m/x-20b", dtype=torch.float16)
            LLM(model="m/x-20b", dtype=D)
            LLM(model="m/x-20b", dtype=torch.weird)
            LLM(model="m/x-20b", dtype=np.float16)
            LLM(model="m/x-20b", dtype="weird")
            """,
            gpu="L4",
        ),
        [
            ("MGL403", 8, 9, needs("m/x-20b", 20, "in torch.float16 (2 bytes per parameter)", 40)),
            ("MGL403", 9, 9, needs("m/x-20b", 20, "in bfloat16 (2 bytes per parameter)", 40)),
        ],
    ),
    "engines whose weights are not known": (
        body(
            """
            import sglang as sgl
            from vllm import LLM

            Q = "fp8" if os.environ.get("Q") else None
            KW = {}
            LLM(model=m)
            LLM(model="m/x-40b", dtype="bfloat16", quantization="weird")
            LLM(model="m/x-40b", dtype="bfloat16", quantization=Q)
            LLM(model="m/x-40b", dtype="bfloat16", quantization=4)
            LLM(model="m/x-40b", cpu_offload_gb=100)
            LLM(model="m/x-40b", offload_gb=m)
            LLM(model="m/x-40b", load_format="dummy")
            LLM(model="m/x-40b", **KW)
            LLM(model="m/x-40b", dtype=m)
            sgl.Engine("m/x-40b")
            """,
            gpu="L4",
            params="m",
        ),
        [],
    ),
    "engines that need CUDA": (
        body(
            """
            import sglang as sgl
            from vllm import AsyncLLMEngine

            AsyncLLMEngine.from_engine_args(args)
            sgl.Runtime(model_path=path)
            """,
            gpu=None,
            params="args, path",
        ),
        [("MGL401", 1, 2, "function f uses CUDA (vLLM AsyncLLMEngine.from_engine_args(...)) but requests no GPU")],
    ),
    "parallel keywords with pipeline stages": (
        body(
            """
            from vllm import LLM

            LLM(model="m/x-7b", tensor_parallel_size=2, pipeline_parallel_size=1)
            LLM(model="m/x-7b", tensor_parallel_size=2, pp_size=2)
            LLM(model="m/x-7b", tensor_parallel_size=n)
            """,
            gpu="H100",
            params="n",
        ),
        [
            ("MGL402", 5, 25, "tensor_parallel_size=2 uses 2 GPUs at once, but gpu='H100' gives 1 GPU"),
            ("MGL402", 6, 25, "tensor_parallel_size=2 x pp_size=2 uses 4 GPUs at once, but gpu='H100' gives 1 GPU"),
        ],
    ),
    "from_pretrained placed on one GPU": (
        body(
            """
            import torch
            import transformers
            from transformers import AutoModelForCausalLM

            AutoModelForCausalLM.from_pretrained("m/x-20b", torch_dtype=torch.bfloat16, device_map="cuda")
            AutoModelForCausalLM.from_pretrained(pretrained_model_name_or_path="m/x-20b", dtype="float16", device_map=0)
            AutoModelForCausalLM.from_pretrained("m/x-40b", load_in_8bit=True, device_map="cuda:0")
            AutoModelForCausalLM.from_pretrained("m/x-40b", load_in_8bit=False, dtype="bfloat16", device_map="cuda")
            transformers.AutoModel.from_pretrained(
                "m/x-40b", quantization_config=transformers.BitsAndBytesConfig(load_in_8bit=True), device_map="cuda"
            )
            """,
            gpu="L4",
        ),
        [
            ("MGL403", 7, 42, needs("m/x-20b", 20, "in torch.bfloat16 (2 bytes per parameter)", 40)),
            ("MGL403", 8, 42, needs("m/x-20b", 20, "in float16 (2 bytes per parameter)", 40)),
            ("MGL403", 9, 42, needs("m/x-40b", 40, "in load_in_8bit (1 byte per parameter)", 40)),
            ("MGL403", 10, 42, needs("m/x-40b", 40, "in bfloat16 (2 bytes per parameter)", 80)),
            (
                "MGL403",
                12,
                9,
                needs("m/x-40b", 40, "in BitsAndBytesConfig(load_in_8bit=True) (1 byte per parameter)", 40),
            ),
        ],
    ),
    "from_pretrained: 4-bit and 8-bit bounds below the dtype, a config bound to a name": (
        body(
            """
            from transformers import AutoModelForCausalLM as M
            from transformers import BitsAndBytesConfig

            four = BitsAndBytesConfig(load_in_4bit=True)
            eight = BitsAndBytesConfig(load_in_8bit=True)
            M.from_pretrained("m/x-40b", dtype="bfloat16", load_in_4bit=True, device_map="cuda")
            M.from_pretrained("m/x-40b", dtype="float16", quantization_config=four, device_map="cuda")
            M.from_pretrained("m/x-40b", dtype="float16", quantization_config=eight, device_map="cuda")
            M.from_pretrained("m/x-40b", dtype="bfloat16", device_map="cuda")
            """,
            gpu="L4",
        ),
        [
            (
                "MGL403",
                10,
                23,
                needs("m/x-40b", 40, "in BitsAndBytesConfig(load_in_8bit=True) (1 byte per parameter)", 40),
            ),
            ("MGL403", 11, 23, needs("m/x-40b", 40, "in bfloat16 (2 bytes per parameter)", 80)),
        ],
    ),
    "from_pretrained loads that are not known, or not placed on the GPU": (
        body(
            """
            import mylib
            from transformers import AutoConfig, BitsAndBytesConfig, GPTQConfig
            from transformers import AutoModelForCausalLM as A

            A.from_pretrained(device_map="cuda")
            A.from_pretrained(m, dtype="bfloat16", device_map="cuda")
            A.from_pretrained("m/x-20b", dtype="bfloat16", device_map=-1)
            A.from_pretrained("m/x-20b", dtype="bfloat16", device_map="auto")
            A.from_pretrained("m/x-40b", dtype="bfloat16", load_in_8bit=m, device_map="cuda")
            A.from_pretrained("m/x-40b", dtype="bfloat16", quantization_config=BitsAndBytesConfig(), device_map="cuda")
            A.from_pretrained("m/x-40b", dtype="bfloat16", quantization_config=GPTQConfig(bits=4), device_map="cuda")
            A.from_pretrained("m/x-40b", dtype="bfloat16", quantization_config=m, device_map="cuda")
            A.from_pretrained("m/x-40b", dtype="bfloat16", device_map="cuda", offload_folder="/tmp")
            A.from_pretrained("m/x-40b", dtype=m, device_map="cuda")
            AutoConfig.from_pretrained("m/x-40b", dtype="bfloat16", device_map="cuda")
            mylib.Model.from_pretrained("m/x-40b", dtype="bfloat16", device_map="cuda")
            m.from_pretrained("m/x-40b", dtype="bfloat16", device_map="cuda")
            A.from_pretrained("m/x-40b", dtype="bfloat16", device_map="cuda")
            """,
            gpu="L4",
            params="m",
        ),
        [("MGL403", 20, 23, needs("m/x-40b", 40, "in bfloat16 (2 bytes per parameter)", 80))],
    ),
    "diffusers moved to CUDA, and transformers pipelines": (
        body(
            """
            import torch
            from diffusers import DiffusionPipeline
            from transformers import pipeline

            pipe = DiffusionPipeline.from_pretrained("m/x-40b", torch_dtype="float16")
            pipe.to("cuda")
            dev = torch.device("cuda")
            pipeline("text-generation", model="m/x-40b", torch_dtype="bfloat16", device=0)
            pipeline("text-generation", model="m/x-40b", torch_dtype="bfloat16", device=dev)
            pipeline("text-generation", model="m/x-40b", torch_dtype="bfloat16", device_map=torch.device("cuda:0"))
            pipeline("text-generation", model="m/x-40b", torch_dtype="bfloat16")
            pipeline("text-generation", device=0)
            pipeline("text-generation", model=m, device=0)
            """,
            gpu="L4",
            params="m",
        ),
        [
            ("MGL403", 7, 46, needs("m/x-40b", 40, "in float16 (2 bytes per parameter)", 80)),
            ("MGL403", 10, 33, needs("m/x-40b", 40, "in bfloat16 (2 bytes per parameter)", 80)),
            ("MGL403", 11, 33, needs("m/x-40b", 40, "in bfloat16 (2 bytes per parameter)", 80)),
            ("MGL403", 12, 33, needs("m/x-40b", 40, "in bfloat16 (2 bytes per parameter)", 80)),
        ],
    ),
}


@pytest.mark.parametrize("name", list(LOADS))
def test_model_loads(name: str) -> None:
    check(*LOADS[name])


# ---- more of the resolver: depth limits, calls, `or`, `+`, the App as a call, with_options --------------
def test_a_chain_of_names_is_followed_to_a_depth_of_23() -> None:
    def chain(n: int) -> str:
        names = ['G0 = "A100-80G"'] + [f"G{i} = G{i - 1}" for i in range(1, n + 1)]
        return "\n".join(names) + f"\napp.function(gpu=G{n}, timeout=60)(print)\n"

    assert [f[:3] for f in lint(chain(23))] == [("MGL001", 25, 14)]
    assert lint(chain(24)) == []


def test_a_very_long_attribute_chain_is_not_named() -> None:
    attribute = "modal." + ".".join(["x"] * 30)
    check(f"app.function(gpu={attribute}, timeout=60)(print)\n" + CONTROL, [CONTROLLED])


MORE: dict[str, tuple[str, list[Found]]] = {
    "an App built in the decorator itself": (
        """\
        @modal.App("inline").function(gpu="A100-80G", timeout=60)
        def f() -> None: ...
        """,
        [("MGL001", 1, 31, TYPO)],
    ),
    "with_options on a function an App decorates, bare or called": (
        """\
        @app.function
        def bare() -> None: ...


        @app.function()
        def called() -> None: ...


        @staticmethod
        def plain() -> None: ...


        bare.with_options(gpu="A100-80G")
        called.with_options(gpu="L4!")
        plain.with_options(gpu="H200!")
        """,
        [
            ("MGL101", 13, 1, "with_options adds a GPU to a target that sets no timeout, and passes none"),
            ("MGL001", 13, 19, TYPO),
            ("MGL101", 14, 1, "with_options adds a GPU to a target that sets no timeout, and passes none"),
            ("MGL004", 14, 21, "'L4!': the suffix '!' pins the exact type"),
        ],
    ),
    "strings added with +": (
        """\
        TYPE = "A100"
        app.function(gpu=TYPE + "-80G", timeout=60)(print)
        """,
        [("MGL001", 2, 14, f"{TYPO} (value from TYPE {at(1)})")],
    ),
    "an environment variable or a default": (
        """\
        app.function(gpu=os.environ.get("GPU") or "A100-80G", timeout=60)(print)
        """,
        [("MGL001", 1, 14, TYPO)],
    ),
    "a bare modal.gpu class still requests a GPU": (
        """\
        app.function(gpu=modal.gpu.H100)(print)
        """,
        [
            ("MGL101", 1, 1, "app.function requests a GPU but sets no timeout"),
            ("MGL008", 1, 18, 'modal.gpu classes were removed in client 1.4.0: write gpu="H100"'),
        ],
    ),
    "calls the resolver does not evaluate": (
        controlled(
            """\
            import json


            def pick() -> str:
                return "A100-80G"


            app.function(gpu=pick(), timeout=60)(print)
            app.function(gpu=json.loads('"A100-80G"'), timeout=60)(print)
            """
        ),
        [CONTROLLED],
    ),
    "an f-string with more than 32 values is unknown": (
        controlled(
            """\
            A = "A" if os.environ.get("A") else "B"
            app.function(gpu=f"{A}{A}{A}{A}{A}{A}", timeout=60)(print)
            """
        ),
        [CONTROLLED],
    ),
    "Modal's own names are not project constants": (
        controlled(
            """\
            from modal import GPU_DEFAULT

            app.function(gpu=GPU_DEFAULT, timeout=60)(print)
            """
        ),
        [CONTROLLED],
    ),
}


@pytest.mark.parametrize("name", list(MORE))
def test_more_of_the_resolver(name: str) -> None:
    check(*MORE[name])


MORE_LAUNCHES: dict[str, tuple[str, list[Found]]] = {
    "argv followed through names to a depth of 7": (
        body(
            """
            a0 = ["torchrun", "--nproc-per-node", "8", "t.py"]
            a1 = a0
            a2 = a1
            a3 = a2
            a4 = a3
            a5 = a4
            a6 = a5
            a7 = a6
            a8 = a7
            subprocess.run(a7)
            subprocess.run(a8)
            """
        ),
        [("MGL402", 3, 43, parallel("torchrun --nproc-per-node 8", 8))],
    ),
    "argv elements: str() of a number, a splat, a name with two values": (
        body(
            """
            EXTRA = []
            n = "8" if os.environ.get("BIG") else "4"
            subprocess.run(["torchrun", "--nproc-per-node", str(8), "t.py"])
            subprocess.run(["torchrun", *EXTRA, "--nproc-per-node", "8", "t.py"])
            subprocess.run(["torchrun", "--nproc-per-node", str(b"8", "ascii"), "t.py"])
            subprocess.run(["torchrun", "--nproc-per-node", n, "t.py"])
            """
        ),
        [("MGL402", 5, 53, parallel("torchrun --nproc-per-node 8", 8))],
    ),
    "a joined list with an unknown word keeps the known flags": (
        body('subprocess.run(" ".join(["vllm", "serve", model, "-tp", "8"]), shell=True)', params="model"),
        [("MGL402", 3, 61, parallel("vllm serve -tp 8", 8))],
    ),
    "a name split on whitespace, and shlex.split of an f-string bound to a name": (
        "import shlex\n\n\n"
        + body(
            """
            CMD = "torchrun --nproc-per-node 8 t.py"
            n = 4
            line = f"torchrun --nproc-per-node {n} t.py"
            subprocess.run(CMD.split())
            subprocess.run(shlex.split(line))
            """
        ),
        [
            ("MGL402", 9, 20, parallel("torchrun --nproc-per-node 8", 8)),
            ("MGL402", 10, 20, parallel("torchrun --nproc-per-node 4", 4)),
        ],
    ),
    "a flag the reader does not know takes no value before another flag": (
        body('subprocess.run("vllm serve m/x --enforce-eager -tp 4", shell=True)'),
        [("MGL402", 3, 20, parallel("vllm serve -tp 4", 4))],
    ),
    "wrappers with no launcher after them, and torchrun given an unknown argv": (
        body(
            """
            from torch.distributed import run

            os.system("env A=1 nohup")
            run.main(argv)
            """,
            params="argv",
        ),
        [],
    ),
}


@pytest.mark.parametrize("name", list(MORE_LAUNCHES))
def test_more_launch_commands(name: str) -> None:
    check(*MORE_LAUNCHES[name])


@pytest.mark.parametrize(
    "rebinding",
    [
        'GPU = "L4!"\n_ = [GPU := kind for kind in ["T4", "L4"]]\n',  # a walrus binds in the enclosing scope
        'GPU = "A100-80G"\n\n\ndef configure():\n    global GPU\n    GPU = "A100-80GB"\n\n\nconfigure()\n',
        'GPU = "A100-80G"\n\n\nclass Setup:\n    def run(self):\n        global GPU\n        GPU = "H100"\n',
    ],
    ids=["walrus-in-comprehension", "global-in-function", "global-in-method"],
)
def test_a_name_rebound_from_a_nested_scope_is_unknown(rebinding: str) -> None:
    source = controlled(rebinding + "\n\n@app.function(gpu=GPU, timeout=60)\ndef f() -> None: ...\n")
    check(source, [CONTROLLED])


def test_a_name_rebound_with_nonlocal_is_unknown_in_its_function() -> None:
    source = controlled(
        """\
        def build():
            GPU = "A100-80G"

            def fix():
                nonlocal GPU
                GPU = "A100-80GB"

            fix()
            return app.function(gpu=GPU, timeout=60)(print)
        """
    )
    check(source, [CONTROLLED])


def test_a_global_read_without_rebinding_is_still_followed() -> None:
    source = 'GPU = "A100-80G"\n\n\ndef show():\n    print(GPU)\n\n\n'
    source += "@app.function(gpu=GPU, timeout=60)\ndef f() -> None: ...\n"
    check(source, [("MGL001", 8, 15, TYPO)])
