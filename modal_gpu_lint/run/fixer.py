"""The fix loop on one file: lint, apply compatible fixes, re-parse, repeat; read, write, diff."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import libcst as cst

from modal_gpu_lint.analysis.cst_parse import parse_module
from modal_gpu_lint.analysis.notebook import NotebookError, is_notebook, write_back
from modal_gpu_lint.findings import Diagnostic, Finding, Fix
from modal_gpu_lint.fix.apply import apply, compatible, same_changes
from modal_gpu_lint.fix.write import WriteError, write_atomic
from modal_gpu_lint.run.config import Settings
from modal_gpu_lint.run.engine import (
    FileError,
    FileErrorException,
    FileResult,
    analyze,
    in_cell,
    lint_bytes,
    notebook_view,
    parse_selected,
    to_diagnostics,
)

MAX_ROUNDS = 10


@dataclass
class FixResult:
    """What fixing one file gave: the new bytes (None when nothing changes) and what remains."""

    path: str
    fixed: int = 0  # findings whose fix was applied
    diagnostics: list[Diagnostic] = field(default_factory=list)  # what remains after the fixes
    error: FileError | None = None
    suppressed: int = 0
    new_bytes: bytes | None = None
    written: bool = False
    diff: bytes = b""

    @property
    def changed(self) -> bool:
        """Whether fixing changes the file."""
        return self.new_bytes is not None

    def as_file_result(self) -> FileResult:
        """The remaining findings, as a lint result for the output formats."""
        return FileResult(self.path, self.diagnostics, self.error, self.suppressed)


def applicable(findings: Iterable[Finding], unsafe: bool) -> list[Fix]:
    """The fixes of `findings` that may be applied (safe ones, and unsafe ones when asked)."""
    return [f.fix for f in findings if f.fix is not None and (f.fix.applicability == "safe" or unsafe)]


def fix_bytes(path: str, data: bytes, settings: Settings, *, unsafe: bool = False, edits: bool = False) -> FixResult:
    """Fix one file's bytes (a notebook's JSON when `path` ends with `.ipynb`: its code cells are
    fixed as one program and written back into the same JSON, outputs and metadata kept)."""
    if not is_notebook(path):
        return fix_python(path, data, settings, unsafe=unsafe, edits=edits)
    try:
        notebook, error = notebook_view(path, data, settings)
    except FileErrorException as problem:
        return FixResult(path, error=problem.error)
    if notebook is None:
        return FixResult(path)
    result = fix_python(path, notebook.text.encode("utf-8"), settings, unsafe=unsafe, edits=edits)
    result.diagnostics = [notebook.to_cells(d) for d in result.diagnostics]
    result.error = error or in_cell(notebook, result.error)
    if result.new_bytes is not None:
        try:
            result.new_bytes = write_back(notebook, result.new_bytes.decode("utf-8"))
        except NotebookError as problem:  # never write a notebook that lost something
            lint = lint_bytes(path, data, settings, edits=edits)
            return FixResult(path, diagnostics=lint.diagnostics, error=FileError(path, problem.message))
    return result


def fix_python(path: str, data: bytes, settings: Settings, *, unsafe: bool = False, edits: bool = False) -> FixResult:
    """Fix one Python file's bytes: lint, apply compatible fixes, re-parse, repeat until nothing changes.

    Returns the new bytes only when they differ, decode to text that libcst parses and (when the
    original compiles under this interpreter) that `compile` accepts. A file that cannot be
    decoded or parsed gets an error and no bytes. `# noqa` and the rule selection apply to fixes
    exactly as to findings (`engine.analyze` drops a fix shared with a suppressed finding).
    """
    result = FixResult(path)
    try:
        parsed = parse_selected(path, data, settings)
    except FileErrorException as error:
        result.error = error.error
        return result
    if parsed is None:
        return result
    codes, source, module = parsed
    text = original = source.text
    lost = _lost_by_parser(original, module)
    if lost is None:
        result.error = FileError(
            path, "left unchanged: libcst does not reproduce this file exactly; please report this"
        )
        return result
    original_module = module
    analysis = original_analysis = analyze(module, text, settings, codes)
    fixed = 0
    for _ in range(MAX_ROUNDS):
        fixes = applicable(analysis.findings, unsafe)
        if not fixes:
            break
        accepted, _deferred = compatible(fixes)
        try:
            new_text = apply(module, accepted).code
            if new_text == text:
                break
            new_module = parse_module(new_text)
        except Exception as error:  # a fix built an invalid tree or code: a bug; never write it
            culprits = ", ".join(sorted({f.code for f in analysis.findings if f.fix in accepted}))
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            result.error = FileError(
                path, f"left unchanged: the fixes for {culprits} did not give valid code ({reason}); please report this"
            )
            module, text, analysis, fixed = original_module, original, original_analysis, 0
            break
        done = {same_changes(f) for f in accepted}
        ids = {id(f) for f in accepted} | {id(f) for f in _deferred if same_changes(f) in done}
        fixed += sum(1 for f in analysis.findings if f.fix is not None and id(f.fix) in ids)
        module, text = new_module, new_text
        analysis = analyze(module, text, settings, codes)
    if text != original and lost:
        text += lost  # libcst drops a CR-only file's last `\r`: the fixed text gets it back
    if text != original and result.error is None:
        problem = _compile_problem(original, text, path)
        new_bytes: bytes | None = None
        if problem is None:
            try:
                new_bytes = source.encode(text)
            except UnicodeEncodeError as error:
                problem = f"the fixed text cannot be encoded as {source.encoding}: {error.reason}"
        if problem is not None or new_bytes is None:
            result.error = FileError(path, f"left unchanged: {problem}")
            module, text, analysis, fixed = original_module, original, original_analysis, 0
        else:
            result.new_bytes = new_bytes
    result.fixed = fixed
    result.suppressed = analysis.suppressed
    result.diagnostics = to_diagnostics(path, module, text, analysis, edits=edits)
    return result


def _lost_by_parser(text: str, module: cst.Module) -> str | None:
    """What libcst's code for `module` lacks at the end of `text`, a file ending in a lone `\\r`
    ("" when nothing; None when it differs in another way, which no fix may build on)."""
    if not text.endswith("\r") or text.endswith("\r\n"):
        return ""  # (the round trip is only known to fail there; writing the code costs a second)
    code = module.code
    if code == text:
        return ""
    if text.startswith(code) and not text[len(code) :].strip():
        return text[len(code) :]
    return None


def _compile_problem(original: str, new: str, path: str) -> str | None:
    """Why `new` must not be written, by the compiler's judgement (None: fine).

    Only consulted when the original compiles under this interpreter (a file using syntax newer
    than the running Python is guarded by libcst's parser alone).
    """
    try:
        compile(original, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    try:
        compile(new, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        return f"the fixed code does not compile ({error}; please report this)"
    return None


def fix_file(
    path: str, settings: Settings, *, unsafe: bool = False, write: bool = True, diff: bool = False, edits: bool = False
) -> FixResult:
    """Fix one file on disk: write it atomically when `write`, make a unified diff when `diff`."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return FixResult(path, error=FileError(path, f"cannot read: {error.strerror or error}"))
    result = fix_bytes(path, data, settings, unsafe=unsafe, edits=edits)
    if result.new_bytes is None:
        return result
    if diff:
        result.diff = unified_diff(path, data, result.new_bytes)
    if write:
        try:
            write_atomic(path, result.new_bytes, expected=data)
        except (OSError, WriteError) as error:
            message = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            return _unwritten(result, data, settings, edits, f"cannot write: {message}")
        result.written = True
    return result


def _unwritten(result: FixResult, data: bytes, settings: Settings, edits: bool, message: str) -> FixResult:
    """The result for a file whose fixes could not be written: nothing fixed, its findings remain."""
    lint = lint_bytes(result.path, data, settings, edits=edits)
    return FixResult(
        result.path,
        diagnostics=lint.diagnostics,
        error=FileError(result.path, message),
        suppressed=lint.suppressed,
        diff=result.diff,
    )


def unified_diff(path: str, old: bytes, new: bytes) -> bytes:
    """A unified diff of two versions of a file, like `ruff --diff` (`--- path` / `+++ path`).

    It is made of the files' own bytes (their encoding, BOM and line endings), so `patch -p0` and
    `git apply -p0` apply it to the file; a relative path is written without a leading `./`.
    """
    name = os.fsencode(os.path.normpath(path) if not os.path.isabs(path) else path)
    out: list[bytes] = []
    lines = difflib.diff_bytes(
        difflib.unified_diff, old.splitlines(keepends=True), new.splitlines(keepends=True), name, name
    )
    for line in lines:
        if line.endswith((b"\n", b"\r")):
            out.append(line)
        else:
            out.append(line + b"\n\\ No newline at end of file\n")
    return b"".join(out)
