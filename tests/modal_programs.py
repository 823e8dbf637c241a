"""A Hypothesis strategy for whole Modal programs with known findings planted at known places.

Every `gpu=` value comes from a pool whose verdict is written down here by hand (not computed by
the linter): valid values, and invalid ones with the code they must get and whether a fix is
offered when the value is written inline. Values go inline or through a module constant, into
`@app.function` / `@app.cls` / `@app.server`, `modal.Sandbox.create` and `with_options`, at any
nesting (if/for/while/with/try/def/class), among decorators, comments, blank lines and decoys
(strings that look like GPU values outside Modal calls, a `Registry().function(gpu=...)` that
is not Modal's). Each program also varies indentation (spaces or tabs), line endings (LF or
CRLF), a UTF-8 BOM, and the spelling of the modal import.

`Program.plants` lists (row, column, code, fix) for every finding the default rule set must
report; `Program.kept` lists the lines no fix may touch, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

Fixability = str | None  # "safe", "unsafe" or None


@dataclass(frozen=True)
class Case:
    """A `gpu=` value as source text, with what the default rules say about it."""

    source: str  # `{m}` stands for the modal module's name in this program
    codes: tuple[tuple[str, Fixability], ...] = ()  # (code, fix when inline) in a call that takes lists
    single: tuple[tuple[str, Fixability], ...] | None = None  # in a call that takes one GPU, if allowed there
    requests_gpu: bool = True  # a string or a list: MGL101 applies when the timeout is missing
    reported_at_value: bool = False  # MGL008: reported at the `modal.gpu...` call, not at `gpu=`


VALID = [
    Case('"T4"', single=()),
    Case('"L4:2"', single=()),
    Case('"A10"', single=()),
    Case('"A10:4"', single=()),
    Case('"L40S"', single=()),
    Case('"A100"', single=()),
    Case('"A100-40GB:2"', single=()),
    Case('"A100-80GB"', single=()),
    Case('"H100"', single=()),
    Case('"H100!"', single=()),
    Case('"H100:8"', single=()),
    Case('"H100!:8"', single=()),
    Case('"H200"', single=()),
    Case('"B200+"', single=()),
    Case('"B300:8"', single=()),
    Case('"any"', single=()),
    Case('"RTX-PRO-6000:4"', single=()),
    Case('"h100"', single=()),
    Case('"a10g"', single=()),
    Case("'L4'", single=()),  # valid spellings (MGL009 is off)
    Case('["H100", "A100-80GB"]', single=(("MGL006", None),)),
    Case('["H100!", "H200", "A100-80GB:2"]', single=(("MGL006", None),)),
    Case("None", single=(), requests_gpu=False),
]

INVALID = [
    Case('"A100-80G"', (("MGL001", "unsafe"),), (("MGL001", "unsafe"),)),
    Case('"Nvidia T4:2"', (("MGL001", "unsafe"),), (("MGL001", "unsafe"),)),
    Case('"GB200"', (("MGL001", None),), (("MGL001", None),)),
    Case('"V100"', (("MGL001", None),), (("MGL001", None),)),
    Case('"H100:two"', (("MGL002", None),), (("MGL002", None),)),
    Case('"H100:8!"', (("MGL002", None),), (("MGL002", None),)),
    Case('" H100"', (("MGL002", None),), (("MGL002", None),)),
    Case('""', (("MGL002", None),), (("MGL002", None),), requests_gpu=False),  # not a request: no MGL101
    Case('"A10:8"', (("MGL003", None),), (("MGL003", None),)),
    Case('"H100:16"', (("MGL003", None),), (("MGL003", None),)),
    Case('"L4:0"', (("MGL003", None),), (("MGL003", None),)),
    Case('"H200!"', (("MGL004", "unsafe"),), (("MGL004", "unsafe"),)),
    Case('"L40S+"', (("MGL004", "unsafe"),), (("MGL004", "unsafe"),)),
    Case('"A10G!:2"', (("MGL004", "unsafe"),), (("MGL004", "unsafe"),)),
    Case("True", (("MGL005", None),), (("MGL005", None),), requests_gpu=False),
    Case("2", (("MGL005", None),), (("MGL005", None),), requests_gpu=False),
    Case('("H100", "A100-80GB")', (("MGL005", None),), (("MGL005", None),), requests_gpu=False),
    Case('["H100", None]', (("MGL005", None),)),
    Case("[]", (("MGL007", None),), requests_gpu=False),
    Case('["H100", "h100"]', (("MGL007", "safe"),)),
    Case('["A10", "A10G", "T4"]', (("MGL007", "safe"),)),
    Case('["A100-80G", "T4"]', (("MGL001", "unsafe"),)),
    Case('{m}.gpu.A100(size="80GB")', (("MGL008", "safe"),), (("MGL008", "safe"),), False, True),
    Case("{m}.gpu.T4()", (("MGL008", "safe"),), (("MGL008", "safe"),), False, True),
]

# Keywords of the app decorators that the MGL2xx rules rename or remove (all with safe fixes).
REMOVED_KEYWORDS = [
    ("keep_warm=1", "MGL201"),
    ("concurrency_limit=4", "MGL201"),
    ("container_idle_timeout=60", "MGL201"),
    ("max_inputs=1", "MGL205"),
    ("allow_concurrent_inputs=8", "MGL202"),
]
RENAMED_TO = {
    "keep_warm": "min_containers",
    "concurrency_limit": "max_containers",
    "container_idle_timeout": "scaledown_window",
}
HARMLESS_KEYWORDS = ["image=image", "memory=1024", "retries=2", "min_containers=1", "max_containers=3", "cpu=2.0"]

# Statements that mention GPUs but are not Modal calls: never a finding.
DECOYS = [
    'CONFIG_{n} = {{"gpu": "A100-80G", "timeout": 0}}',
    'LABEL_{n} = "H100:16"  # a string, not a request',
    "print({n}, 'gpu', 'timeout')",
    "x_{n} = [{n}, {n} + 1]",
    '# gpu="A100-80G" in a comment, keep_warm=1 too',
]
DECOY_BLOCKS = [
    ['def helper_{n}(gpu="A100-80G", timeout=None):', "{i}return gpu, timeout"],
    ['@registry.function(gpu="A100-80G", keep_warm=1)', "def not_modal_{n}():", "{i}return {n}"],
    ['registry.function(gpu=["H100", "H100"])(print)'],
]
BLOCK_OPENERS = [
    "if FLAG:",
    "for _i{n} in range(1):",
    "while False:",
    "with contextlib.nullcontext():",
    "try:",
    "def factory_{n}():",
    "class Holder{n}:",
]


def _is_string(case: Case) -> bool:
    """A plain string literal: its fixes apply through a module constant too."""
    return case.source[:1] in ("'", '"')


@dataclass
class Plant:
    """A finding the linter must report."""

    row: int
    column: int
    code: str
    fix: Fixability


@dataclass
class Program:
    """A generated module, what must be reported in it, and the lines no fix may touch."""

    text: str  # with "\n" line ends; `data` applies the chosen line ending and BOM
    newline: str
    bom: bool
    plants: list[Plant] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    @property
    def data(self) -> bytes:
        """The file's bytes."""
        body = self.text.replace("\n", self.newline).encode("utf-8")
        return b"\xef\xbb\xbf" + body if self.bom else body


class _Writer:
    """Collects lines, tracks rows, remembers which lines must survive any fix."""

    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.lines: list[str] = []
        self.kept: list[bool] = []
        self.plants: list[Plant] = []

    @property
    def next_row(self) -> int:
        return len(self.lines) + 1

    def line(self, depth: int, text: str, *, keep: bool = True) -> int:
        row = self.next_row
        self.lines.append((self.unit * depth + text) if text else "")
        self.kept.append(keep)
        return row

    def plant(self, row: int, column: int, code: str, fix: Fixability) -> None:
        self.plants.append(Plant(row, column, code, fix))

    noqa: tuple[int, str | None] | None = None  # (row, code or None for a blanket noqa comment)

    def apply_noqa(self) -> None:
        """Drop the plants a `# noqa` silences; a line whose findings are all silenced is kept."""
        assert self.noqa is not None
        row, code = self.noqa
        self.plants = [p for p in self.plants if not (p.row == row and (code is None or p.code == code))]
        if not any(p.row == row for p in self.plants):
            self.kept[row - 1] = True
        self.noqa = None


@st.composite
def programs(draw: st.DrawFn) -> Program:
    """A Modal program with planted findings (see the module docstring)."""
    unit = draw(st.sampled_from(["    ", "  ", "\t"]))
    m = draw(st.sampled_from(["modal", "md"]))
    app = draw(st.sampled_from(["app", "application", "stub_app", "a"]))
    w = _Writer(unit)
    serial = iter(range(1, 10_000))

    if draw(st.booleans()):
        w.line(0, '"""A generated Modal program."""')
    w.line(0, "import contextlib")
    w.line(0, "import modal" if m == "modal" else "import modal as md")
    app_class = draw(st.sampled_from([f"{m}.App", "ModalApp"]))
    if app_class == "ModalApp":
        w.line(0, "from modal import App as ModalApp")
    w.line(0, "")
    w.line(0, "FLAG = True")
    w.line(0, "")
    w.line(0, "class Registry:")
    w.line(1, "def function(self, **options):")
    w.line(2, "return lambda f: f")
    w.line(0, "")
    w.line(0, "registry = Registry()")
    w.line(0, f'{app} = {app_class}("generated")')
    w.line(0, f'image = {m}.Image.debian_slim().pip_install("numpy")')
    if draw(st.booleans()):
        row = w.line(0, f'legacy = {m}.Stub("old-name")', keep=False)
        w.plant(row, len("legacy = ") + 1, "MGL203", "safe")

    # Module constants come first (values are followed through them); the units follow.
    units = draw(st.lists(_units(), min_size=1, max_size=6))
    constants: dict[int, str] = {}
    for index, unit_spec in enumerate(units):
        if unit_spec["through_constant"]:
            constants[index] = f"GPU_{index}"
            case: Case = unit_spec["case"]
            edited = case.reported_at_value or (
                _is_string(case) and any(fix for _, fix in case.codes + (case.single or ()))
            )
            row = w.line(0, f"GPU_{index} = {case.source.format(m=m)}", keep=not edited)
            if case.reported_at_value:  # `modal.gpu.X()` is reported where it is written
                for code, fix in case.codes:
                    w.plant(row, len(f"GPU_{index} = ") + 1, code, fix)
    w.line(0, "")
    for index, unit_spec in enumerate(units):
        _filler(draw, w, 0, serial)
        depth = 0
        closers = draw(st.lists(st.sampled_from(BLOCK_OPENERS), max_size=3))
        for opener in closers:
            w.line(depth, opener.format(n=next(serial)))
            depth += 1
            if draw(st.booleans()):
                _filler(draw, w, depth, serial)
        _write_unit(draw, w, depth, unit_spec, constants.get(index), m, app, serial)
        for opener in reversed(closers):
            depth -= 1
            if opener == "try:":
                w.line(depth, "except Exception:")
                w.line(depth + 1, "pass")
        w.line(0, "")
    _filler(draw, w, 0, serial)
    text = "\n".join(w.lines) + "\n"
    program = Program(text, draw(st.sampled_from(["\n", "\r\n"])), draw(st.booleans()), w.plants)
    program.kept = [line for line, keep in zip(w.lines, w.kept, strict=False) if keep]
    return program


@st.composite
def _units(draw: st.DrawFn) -> dict[str, object]:
    kind = draw(st.sampled_from(["function", "function", "cls", "server", "sandbox", "with_options", "image"]))
    single = kind in ("sandbox", "with_options", "image")
    pool = [c for c in VALID + INVALID if not single or c.single is not None]
    case = draw(st.sampled_from(pool))
    through_constant = draw(st.integers(0, 3)) == 0
    return {"kind": kind, "case": case, "through_constant": through_constant}


def _filler(draw: st.DrawFn, w: _Writer, depth: int, serial: object) -> None:
    """Unrelated lines: decoys, comments, blank lines. All of them must survive `--fix`."""
    for choice in draw(st.lists(st.integers(0, len(DECOYS) + len(DECOY_BLOCKS)), max_size=3)):
        n = next(serial)  # type: ignore[call-overload]
        if choice < len(DECOYS):
            w.line(depth, DECOYS[choice].format(n=n))
        elif choice < len(DECOYS) + len(DECOY_BLOCKS):
            for text in DECOY_BLOCKS[choice - len(DECOYS)]:
                inner = text.startswith("{i}")
                w.line(depth + inner, text.replace("{i}", "").format(n=n))
        else:
            w.line(depth, "")


def _noqa(draw: st.DrawFn, w: _Writer, row: int) -> str:
    """Sometimes a `# noqa` (blanket, or for one code planted on this row) at the end of the line."""
    choice = draw(st.integers(0, 5))
    codes = sorted({p.code for p in w.plants if p.row == row})
    if choice == 0:
        w.noqa = (row, None)
        return "  # noqa"
    if choice == 1 and codes:
        code = draw(st.sampled_from(codes))
        w.noqa = (row, code)
        return f"  # noqa: {code}"
    return ""


def _write_unit(
    draw: st.DrawFn,
    w: _Writer,
    depth: int,
    spec: dict[str, object],
    constant: str | None,
    m: str,
    app: str,
    serial: object,
) -> None:
    kind = str(spec["kind"])
    case = spec["case"]
    assert isinstance(case, Case)
    n = next(serial)  # type: ignore[call-overload]
    value = constant or case.source.format(m=m)
    single = kind in ("sandbox", "with_options", "image")
    codes = (case.single or ()) if single else case.codes
    inline = constant is None

    keywords: list[tuple[str, str | None, Fixability]] = [(f"gpu={value}", None, None)]  # (text, code, fix)
    timeout = True
    decorator = kind in ("function", "cls", "server")
    if kind in ("function", "cls"):
        timeout = not (case.requests_gpu and draw(st.integers(0, 3)) == 0)
        removed = draw(st.lists(st.sampled_from(REMOVED_KEYWORDS), unique_by=lambda k: k[1], max_size=2))
        if {code for _, code in removed} >= {"MGL202", "MGL205"}:  # max_inputs twice: a judgement, not a fix
            removed = removed[:1]
        for text, code in removed:
            keywords.append((text, code, "safe"))
    harmless = draw(st.lists(st.sampled_from(HARMLESS_KEYWORDS), unique=True, max_size=2)) if decorator else []
    names = {k.split("=")[0] for k in harmless}
    # A rename onto a keyword that is already there is reported without a fix.
    keywords = [(t, c, None if RENAMED_TO.get(t.split("=")[0]) in names else f) for t, c, f in keywords]
    if timeout and kind not in ("server", "image"):
        keywords.append((f"timeout={draw(st.sampled_from(['60', '3600', '30 * 60']))}", None, None))
    keywords += [(k, None, None) for k in harmless]
    keywords = draw(st.permutations(keywords))

    def plant_keyword(row: int, column: int, text: str, code: str | None, fix: Fixability) -> None:
        if code is not None:
            w.plant(row, column, code, fix)
        if text.startswith("gpu="):
            for value_code, value_fix in codes:
                if case.reported_at_value:
                    if inline:  # reported at the `modal.gpu...` call inside the argument
                        w.plant(row, column + len("gpu="), value_code, value_fix)
                else:  # a fix edits the string in the call or in the constant; list entries only inline
                    w.plant(row, column, value_code, value_fix if inline or _is_string(case) else None)

    if kind == "sandbox":
        head = f"sandbox_{n} = {m}.Sandbox.create("
        keywords = [("app=" + app, None, None), *keywords]
        w.line(depth, f"def run_{n}():")
        depth += 1
    elif kind == "image":
        head = f'image_{n} = image.pip_install("torch", '
    elif kind == "with_options":
        w.line(depth, f'@{app}.cls(gpu="T4", timeout=60)')
        w.line(depth, f"class Model{n}:")
        w.line(depth + 1, f"@{m}.method()")
        w.line(depth + 1, "def go(self):")
        w.line(depth + 2, f"return {n}")
        w.line(depth, "")
        head = f"Bigger{n} = Model{n}.with_options("
    else:
        head = f"@{app}.{kind}("
    multi_line = draw(st.booleans())
    trailing_comma = draw(st.booleans())
    if not multi_line:
        row = w.line(depth, "", keep=False)
        text = head
        for index, (kw, code, fix) in enumerate(keywords):
            column = len(w.unit * depth) + len(text) + 1
            plant_keyword(row, column, kw, code, fix)
            text += kw + (", " if index < len(keywords) - 1 else "")
        text += (", " if trailing_comma else "") + ")"
        text += _noqa(draw, w, row)
        w.lines[row - 1] = w.unit * depth + text
    else:
        row = w.line(depth, head, keep=False)
        for index, (kw, code, fix) in enumerate(keywords):
            if draw(st.integers(0, 4)) == 0:
                w.line(depth + 1, f"# about {kw.split('=')[0]}", keep=False)
            comma = "," if index < len(keywords) - 1 or trailing_comma else ""
            row_kw = w.line(depth + 1, kw + comma, keep=False)
            plant_keyword(row_kw, len(w.unit * (depth + 1)) + 1, kw, code, fix)
        w.line(depth, ")", keep=False)
    # a web endpoint: MGL101 is silent on it (HTTP bounds each request)
    web = kind == "function" and draw(st.integers(0, 3)) == 0
    if decorator and not timeout and kind != "server" and not web:
        w.plant(row, len(w.unit * depth) + 2, "MGL101", "unsafe")
    if w.noqa is not None and w.noqa[0] == row:  # after every plant of the row is known
        w.apply_noqa()
    if kind == "sandbox":
        w.line(depth, f"return sandbox_{n}")
        return
    if kind in ("with_options", "image"):
        return
    if web:
        row_web = w.line(depth, f'@{m}.web_endpoint(method="POST")', keep=False)
        w.plant(row_web, len(w.unit * depth) + 2, "MGL204", "safe")
    if kind == "function":
        w.line(depth, f"def work_{n}(x: int = {n}) -> int:")
        if draw(st.booleans()):
            w.line(depth + 1, '"""Work."""')
        w.line(depth + 1, 'label = "A100-80G"  # a plain string in the body')
        w.line(depth + 1, "return x + len(label)")
    else:
        w.line(depth, f"class Service{n}:")
        w.line(depth + 1, f"@{m}.method()")
        w.line(depth + 1, "def run(self) -> int:")
        w.line(depth + 2, f"return {n}")
