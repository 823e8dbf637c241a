"""Nothing is ever lost by `--fix`: bad input, bad fixes, failed writes, noqa, selection, exit codes."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import libcst as cst
import pytest
from conftest import FIXTURES, json_findings, run_cli

from modal_gpu_lint.doors import cli
from modal_gpu_lint.findings import Finding, Fix, Remove, Replace
from modal_gpu_lint.fix import write
from modal_gpu_lint.fix.apply import compatible
from modal_gpu_lint.fix.write import WriteError, write_atomic
from modal_gpu_lint.rules import registry as rules
from modal_gpu_lint.rules.registry import Context
from modal_gpu_lint.run import fixer as fix
from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.engine import lint_bytes
from modal_gpu_lint.run.fixer import fix_bytes, fix_file

FIX = FIXTURES / "fix"
SETTINGS = load_settings(start=None)
OLD = (
    b'import modal\n\napp = modal.App("x")\n\n\n@app.function(gpu="T4", timeout=60, keep_warm=1)\ndef f():\n    pass\n'
)
NEW = OLD.replace(b"keep_warm", b"min_containers")
QUIET = b'import modal\napp = modal.App("x")\n@app.function(gpu="T4", timeout=60)\ndef f(): ...\n'  # no finding


def _folder_listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---- files that cannot be read, decoded or parsed are never touched -------------------------
def test_unparsable_file_is_left_alone_and_others_are_fixed(tmp_path: Path) -> None:
    broken = b'import modal\napp = modal.App("x")\n@app.function(gpu="T4", keep_warm=1\ndef f(:\n'
    (tmp_path / "broken.py").write_bytes(broken)
    (tmp_path / "good.py").write_bytes(OLD)
    result = run_cli("--fix", "--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert (tmp_path / "broken.py").read_bytes() == broken
    assert (tmp_path / "good.py").read_bytes() == NEW
    assert "broken.py:" in result.stderr
    assert "cannot parse" in result.stderr
    assert "Traceback" not in result.stderr
    assert _folder_listing(tmp_path) == ["broken.py", "good.py"]


def test_undecodable_file_is_left_alone(tmp_path: Path) -> None:
    data = OLD.replace(b'"x"', b'"\xff\xfe"')  # not UTF-8 and no coding cookie
    (tmp_path / "bad.py").write_bytes(data)
    result = run_cli("--fix", "--no-cache", "bad.py", cwd=tmp_path)
    assert result.returncode == 2
    assert (tmp_path / "bad.py").read_bytes() == data
    assert "bad.py:3:" in result.stderr
    assert "cannot decode" in result.stderr


def test_diff_reports_unparsable_files_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_bytes(b'import modal\n@app.function(gpu="T4"\ndef f(:\n')
    result = run_cli("--diff", "--no-cache", "broken.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""


# ---- a fix that would produce invalid code is never written ---------------------------------
def _inject(monkeypatch: pytest.MonkeyPatch, make: object) -> None:
    """Add a checker that yields one finding with the fix `make(module)` builds."""

    def checker(ctx: Context) -> Iterator[Finding]:
        module = ctx.facts.module
        node, new = make(module)  # type: ignore[operator]
        yield Finding("MGL201", "injected", node, node, Fix("safe", "injected", (Replace(node, new),)))

    monkeypatch.setattr(rules, "CHECKERS", (*rules.CHECKERS, checker))  # the engine reads it per call


def test_fix_that_does_not_parse_is_not_written(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def make(module: cst.Module) -> tuple[cst.CSTNode, cst.CSTNode]:
        statement = module.body[0]  # `import modal` becomes the keyword `if`: not Python
        assert isinstance(statement, cst.SimpleStatementLine)
        return statement, statement.with_changes(body=[cst.Expr(cst.Name("if"))])

    _inject(monkeypatch, make)
    result = fix_bytes("app.py", OLD, SETTINGS)
    assert result.new_bytes is None
    assert result.fixed == 0
    assert result.error is not None
    assert "left unchanged" in result.error.message
    assert {d.code for d in result.diagnostics} == {"MGL201"}  # what the original has, still reported
    path = tmp_path / "app.py"
    path.write_bytes(OLD)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--fix", "--no-cache", "app.py"]) == 2
    assert path.read_bytes() == OLD


def test_fix_that_does_not_compile_is_not_written(monkeypatch: pytest.MonkeyPatch) -> None:
    def make(module: cst.Module) -> tuple[cst.CSTNode, cst.CSTNode]:
        statement = module.body[0]  # libcst parses a module-level `return`; the compiler does not
        assert isinstance(statement, cst.SimpleStatementLine)
        return statement, statement.with_changes(body=[cst.Return()])

    _inject(monkeypatch, make)
    result = fix_bytes("app.py", OLD, SETTINGS)
    assert result.new_bytes is None
    assert result.error is not None
    assert "does not compile" in result.error.message


def test_text_that_the_encoding_cannot_hold_is_not_written(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"# -*- coding: ascii -*-\n" + OLD

    def make(module: cst.Module) -> tuple[cst.CSTNode, cst.CSTNode]:
        statement = module.body[0]
        assert isinstance(statement, cst.SimpleStatementLine)
        return statement, statement.with_changes(body=[cst.Expr(cst.SimpleString('"\u00e9"'))])

    _inject(monkeypatch, make)
    result = fix_bytes("app.py", data, SETTINGS)
    assert result.new_bytes is None
    assert result.error is not None
    assert "cannot be encoded as ascii" in result.error.message


def test_a_fix_that_cannot_be_applied_has_no_edits_in_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fix whose tree cannot even be printed gives no edits (JSON), and the rest of the report stays."""

    def make(module: cst.Module) -> tuple[cst.CSTNode, cst.CSTNode]:
        function = module.body[2]  # `@app.function(gpu="T4", timeout=60, keep_warm=1)`: an argument becomes a bare name
        assert isinstance(function, cst.FunctionDef)
        assert isinstance(function.decorators[0].decorator, cst.Call)
        return function.decorators[0].decorator.args[2], cst.Name("oops")

    _inject(monkeypatch, make)
    result = lint_bytes("app.py", OLD, SETTINGS, edits=True)
    assert result.error is None
    edits = {d.message: d.edits for d in result.diagnostics}  # the injected one, and keep_warm's own MGL201
    assert len(edits) == 2
    assert edits.pop("injected") == ()
    assert [[(e.row, e.content) for e in found] for found in edits.values()] == [[(6, "min_containers")]]


def test_a_fix_that_changes_nothing_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fix that gives back the same text: no new bytes, no error, no edits, the finding stays."""
    data = QUIET

    def make(module: cst.Module) -> tuple[cst.CSTNode, cst.CSTNode]:
        return module.body[1], module.body[1]

    _inject(monkeypatch, make)
    result = fix_bytes("app.py", data, SETTINGS)
    assert result.new_bytes is None
    assert result.error is None
    assert result.fixed == 0
    assert [d.code for d in result.diagnostics] == ["MGL201"]
    assert [d.edits for d in lint_bytes("app.py", data, SETTINGS, edits=True).diagnostics] == [()]


def test_a_fix_that_never_settles_stops_after_max_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fix that applies again to its own result (`x = 0` -> `x = 1` -> ...) stops after MAX_ROUNDS."""

    def make(module: cst.Module) -> tuple[cst.CSTNode, cst.CSTNode]:
        statement = module.body[1]
        assert isinstance(statement, cst.SimpleStatementLine)
        assert isinstance(statement.body[0], cst.Assign)
        value = statement.body[0].value
        assert isinstance(value, cst.Integer)
        return value, cst.Integer(str(int(value.value) + 1))

    _inject(monkeypatch, make)
    result = fix_bytes("app.py", QUIET.replace(b"app =", b"x = 0\napp ="), SETTINGS)
    assert result.error is None
    assert result.fixed == fix.MAX_ROUNDS
    assert result.new_bytes == QUIET.replace(b"app =", f"x = {fix.MAX_ROUNDS}\napp =".encode())
    assert [d.code for d in result.diagnostics] == ["MGL201"]  # still there: reported, not looped on


def test_py312_syntax_is_fixed_even_on_older_interpreters() -> None:
    """The compile guard only applies when the original compiles under this interpreter."""
    data = OLD + b"\n\ndef first[T](items: list[T]) -> T:\n    return items[0]\n"
    result = fix_bytes("app.py", data, SETTINGS)
    assert result.error is None
    assert result.new_bytes == data.replace(b"keep_warm", b"min_containers")


# ---- atomic writes --------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_permissions_are_kept_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(OLD)
    path.chmod(0o751)
    result = fix_file(str(path), SETTINGS)
    assert result.written
    assert result.error is None
    assert path.read_bytes() == NEW
    assert stat.S_IMODE(path.stat().st_mode) == 0o751
    assert _folder_listing(tmp_path) == ["app.py"]


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")
def test_a_symbolic_link_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.py"
    real.write_bytes(OLD)
    link = tmp_path / "link.py"
    link.symlink_to(real)
    assert fix_file(str(link), SETTINGS).written
    assert link.is_symlink()
    assert real.read_bytes() == NEW


def test_a_failed_replace_leaves_the_original_and_no_temporary_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(OLD)

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write.os, "replace", fail)
    result = fix_file(str(path), SETTINGS)
    assert not result.written
    assert result.error is not None
    assert "cannot write: No space left on device" in result.error.message
    assert path.read_bytes() == OLD
    assert _folder_listing(tmp_path) == ["app.py"]


def test_a_cleanup_that_fails_too_reports_the_first_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """os.replace fails, then removing the temporary file fails: the user sees why the write failed."""
    path = tmp_path / "app.py"
    path.write_bytes(OLD)

    def fail_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    def fail_unlink(path: str) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(write.os, "replace", fail_replace)
    monkeypatch.setattr(write.os, "unlink", fail_unlink)
    result = fix_file(str(path), SETTINGS)
    assert not result.written
    assert result.error is not None
    assert result.error.message == "cannot write: No space left on device"
    assert path.read_bytes() == OLD
    leftover = [name for name in _folder_listing(tmp_path) if name != "app.py"]
    assert len(leftover) == 1
    assert leftover[0].startswith(".app.py.")
    assert leftover[0].endswith(".mgl-tmp")


def test_write_atomic_without_an_expected_content(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(OLD + b"# whatever is there\n")
    path.chmod(0o640)
    write_atomic(str(path), NEW)
    assert path.read_bytes() == NEW
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert _folder_listing(tmp_path) == ["app.py"]


@pytest.mark.skipif(not hasattr(os, "chown"), reason="POSIX owners")
def test_a_file_whose_owner_cannot_be_kept_is_left_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The file belongs to someone else (simulated) and chown is refused, as for a user who is not
    root: replacing it would give it to the running user, so it is not written."""
    path = tmp_path / "app.py"
    path.write_bytes(OLD)
    path.chmod(0o664)

    def refuse(path: str, uid: int, gid: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(write, "_owner", lambda path: (-1, -1))  # the new file's owner differs
    monkeypatch.setattr(write.os, "chown", refuse)
    result = fix_file(str(path), SETTINGS)
    assert not result.written
    assert result.error is not None
    assert result.error.message.startswith("cannot write: it belongs to user ")
    assert result.fixed == 0
    assert [d.code for d in result.diagnostics] == ["MGL201"]  # the finding is still there
    assert path.read_bytes() == OLD
    assert stat.S_IMODE(path.stat().st_mode) == 0o664
    assert _folder_listing(tmp_path) == ["app.py"]


def test_a_file_the_user_may_not_write_is_left_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`os.access` says no (another user's file, a user who is not root): nothing is written."""
    path = tmp_path / "app.py"
    path.write_bytes(OLD)
    monkeypatch.setattr(write.os, "access", lambda path, mode: False)
    result = fix_file(str(path), SETTINGS)
    assert not result.written
    assert result.error is not None
    assert "cannot write: permission denied" in result.error.message
    assert path.read_bytes() == OLD
    assert _folder_listing(tmp_path) == ["app.py"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_a_read_only_file_is_left_alone_even_for_root(tmp_path: Path) -> None:
    """Mode 0444 in a writable folder: the file is not replaced, the run names it and exits 2, and
    the summary counts nothing as fixed there; the other file is fixed."""
    (tmp_path / "ro.py").write_bytes(OLD)
    (tmp_path / "ro.py").chmod(0o444)
    (tmp_path / "rw.py").write_bytes(OLD)
    result = run_cli("--fix", "--no-cache", "ro.py", "rw.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "ro.py: cannot write: the file is read-only (mode 0444); it was left as it was" in result.stderr
    assert "Found 2 errors (1 fixed, 1 remaining)." in result.stdout
    assert "ro.py:6:37: MGL201" in result.stdout
    assert (tmp_path / "ro.py").read_bytes() == OLD
    assert stat.S_IMODE((tmp_path / "ro.py").stat().st_mode) == 0o444
    assert (tmp_path / "rw.py").read_bytes() == NEW
    assert _folder_listing(tmp_path) == ["ro.py", "rw.py"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_file_of_another_user_keeps_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(OLD)
    os.chown(path, 65534, 65534)
    assert fix_file(str(path), SETTINGS).written
    assert path.read_bytes() == NEW
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)
    assert _folder_listing(tmp_path) == ["app.py"]


def test_a_file_changed_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(OLD + b"# edited by someone else\n")
    with pytest.raises(WriteError):
        write_atomic(str(path), NEW, expected=OLD)
    assert path.read_bytes() == OLD + b"# edited by someone else\n"
    assert _folder_listing(tmp_path) == ["app.py"]


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="needs POSIX permissions, not root")
def test_a_read_only_folder_gives_an_error_not_a_traceback(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "app.py").write_bytes(OLD)
    folder.chmod(0o555)
    try:
        result = run_cli("--fix", "--no-cache", "app.py", cwd=folder)
    finally:
        folder.chmod(0o755)
    assert result.returncode == 2
    assert "app.py: cannot write:" in result.stderr
    assert "Traceback" not in result.stderr
    assert (folder / "app.py").read_bytes() == OLD


# ---- overlapping fixes ----------------------------------------------------------------------
def test_compatible_defers_a_fix_inside_another() -> None:
    module = cst.parse_module('f(gpu="a", x=1)\n')
    call = module.body[0].body[0].value  # type: ignore[attr-defined]
    outer = Fix("unsafe", "outer", (Replace(call, cst.Name("g")),))
    inner = Fix("safe", "inner", (Remove(call.args[1]),))
    other = Fix("safe", "other", (Replace(call.args[0].value, cst.SimpleString('"b"')),))
    accepted, deferred = compatible([outer, inner, outer, other])
    assert accepted == [outer]
    assert deferred == [inner, other]
    accepted, deferred = compatible([inner, other])
    assert accepted == [inner, other]
    assert deferred == []


def test_overlapping_fixes_are_applied_over_rounds(tmp_path: Path) -> None:
    data = b'import modal\napp = modal.App("x")\n\n\n@app.function(gpu="h100", keep_warm=1)\ndef f():\n    pass\n'
    path = tmp_path / "app.py"
    path.write_bytes(data)
    result = run_cli("--fix", "--no-cache", "--unsafe-fixes", "--extend-select", "MGL009", "app.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert b'@app.function(gpu="H100", min_containers=1, timeout=3600)\n' in path.read_bytes()
    assert "Found 3 errors (3 fixed, 0 remaining)." in result.stdout


# ---- noqa and selection ---------------------------------------------------------------------
def test_noqa_keeps_a_fix_from_being_applied(tmp_path: Path) -> None:
    lines = [
        b"import modal",
        b'app = modal.App("x")',
        b'@app.function(gpu="T4", timeout=60, keep_warm=1)  # noqa: MGL201',
        b"def a(): ...",
        b'@app.function(gpu="T4", timeout=60, keep_warm=1)  # noqa',
        b"def b(): ...",
        b'@app.function(gpu="T4", timeout=60, keep_warm=1)  # noqa: MGL001',
        b"def c(): ...",
        b"",
    ]
    path = tmp_path / "app.py"
    path.write_bytes(b"\n".join(lines))
    result = run_cli("--fix", "--no-cache", "app.py", cwd=tmp_path)
    fixed = path.read_bytes().split(b"\n")
    assert fixed[2] == lines[2]
    assert fixed[4] == lines[4]
    assert fixed[6] == lines[6].replace(b"keep_warm", b"min_containers")
    assert result.returncode == 0
    assert "Found 1 error (1 fixed, 0 remaining)." in result.stdout


def test_only_selected_rules_are_fixed(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes((FIX / "several_in_one_call.in.py").read_bytes())
    result = run_cli("--fix", "--no-cache", "--select", "MGL201", "app.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    after = path.read_bytes()
    assert b"keep_warm" not in after
    assert b"concurrency_limit" not in after
    assert b"container_idle_timeout" not in after
    assert b"modal.gpu.H100(count=2)" in after
    assert b"allow_concurrent_inputs=20" in after
    assert b"web_endpoint" in after
    assert b"max_inputs=1" in after


def test_per_file_ignores_apply_to_fixes(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.modal-gpu-lint]\nper-file-ignores = { "legacy/*" = ["MGL201"] }\n')
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "old.py").write_bytes(OLD)
    (tmp_path / "new.py").write_bytes(OLD)
    run_cli("--fix", "--no-cache", ".", cwd=tmp_path)
    assert (tmp_path / "legacy" / "old.py").read_bytes() == OLD
    assert (tmp_path / "new.py").read_bytes() == NEW


def test_safe_fix_only_runs_without_unsafe_flag(tmp_path: Path) -> None:
    data = b'import modal\napp = modal.App("x")\n@app.function(gpu="A100-80G", timeout=60)\ndef f(): ...\n'
    path = tmp_path / "app.py"
    path.write_bytes(data)
    plain = run_cli("--fix", "--no-cache", "app.py", cwd=tmp_path)
    assert path.read_bytes() == data
    assert plain.returncode == 1
    assert "Found 1 error (0 fixed, 1 remaining)." in plain.stdout
    assert "(1 fixable with `--fix --unsafe-fixes`.)" in plain.stdout
    unsafe = run_cli("--fix", "--unsafe-fixes", "--no-cache", "app.py", cwd=tmp_path)
    assert path.read_bytes() == data.replace(b"A100-80G", b"A100-80GB")
    assert unsafe.returncode == 0


def test_fix_timeout_comes_from_the_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.modal-gpu-lint]\nfix-timeout = 7200\n")
    path = tmp_path / "app.py"
    path.write_bytes(b'import modal\napp = modal.App("x")\n@app.function(gpu="L4")\ndef f(): ...\n')
    result = run_cli("--fix", "--unsafe-fixes", "--no-cache", "app.py", cwd=tmp_path)
    assert result.returncode == 0
    assert b'@app.function(gpu="L4", timeout=7200)\n' in path.read_bytes()


# ---- what the user sees: exit codes, summary, formats ---------------------------------------
def test_exit_codes_and_summary(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(OLD)
    result = run_cli("--fix", "--no-cache", "app.py", cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "Found 1 error (1 fixed, 0 remaining).")
    again = run_cli("--fix", "--no-cache", "app.py", cwd=tmp_path)
    assert (again.returncode, again.stdout.strip()) == (0, "All checks passed!")
    diff = run_cli("--diff", "--no-cache", "app.py", cwd=tmp_path)
    assert (diff.returncode, diff.stdout) == (0, "")
    assert "No errors would be fixed." in diff.stderr


def test_remaining_findings_exit_1_unless_exit_zero(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(OLD.replace(b'gpu="T4"', b'gpu="A10:8"'))
    result = run_cli("--fix", "--no-cache", "app.py", cwd=tmp_path)
    assert result.returncode == 1
    assert "Found 2 errors (1 fixed, 1 remaining)." in result.stdout
    assert "app.py:6:15: MGL003" in result.stdout  # the remaining finding, at its place in the new text
    path.write_bytes(OLD.replace(b'gpu="T4"', b'gpu="A10:8"'))
    assert run_cli("--fix", "--no-cache", "--exit-zero", "app.py", cwd=tmp_path).returncode == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(OLD)
    result = run_cli("--diff", "--no-cache", "app.py", cwd=tmp_path)
    assert result.returncode == 1
    assert path.read_bytes() == OLD
    assert result.stdout.splitlines()[:3] == ["--- app.py", "+++ app.py", "@@ -3,6 +3,6 @@"]
    assert '-@app.function(gpu="T4", timeout=60, keep_warm=1)' in result.stdout.splitlines()
    assert '+@app.function(gpu="T4", timeout=60, min_containers=1)' in result.stdout.splitlines()
    assert "Would fix 1 error." in result.stderr


def test_diff_of_a_file_without_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(OLD.rstrip(b"\n"))
    result = run_cli("--diff", "--no-cache", "app.py", cwd=tmp_path)
    assert result.returncode == 1
    assert "\\ No newline at end of file" in result.stdout


def test_json_after_fix_lists_only_what_remains(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(OLD.replace(b'gpu="T4"', b'gpu="A10:8"'))
    result = run_cli("--fix", "--no-cache", "--format", "json", "app.py", cwd=tmp_path)
    assert [d["code"] for d in json_findings(result)] == ["MGL003"]
    assert result.returncode == 1


def test_text_output_marks_fixable_findings(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(OLD)
    result = run_cli("--no-cache", "--format", "concise", "app.py", cwd=tmp_path)
    assert "app.py:6:37: MGL201 [*] keep_warm=" in result.stdout
    assert "[*] 1 fixable with the `--fix` option." in result.stdout


def test_fixing_every_lint_fixture_keeps_them_valid(tmp_path: Path) -> None:
    """The realistic lint fixtures, fixed with everything on: valid code, then a fixed point."""
    lint = sorted((FIXTURES / "lint").glob("*.py"))
    for path in lint:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    first = run_cli("--fix", "--unsafe-fixes", "--select", "ALL", "--no-cache", ".", cwd=tmp_path)
    assert first.returncode in (0, 1), first.stderr
    assert "Traceback" not in first.stderr
    assert "left unchanged" not in first.stderr
    # Only the Python files: a coverage run's subprocesses may leave data files beside them.
    fixed = {p.name: p.read_bytes() for p in tmp_path.glob("*.py")}
    assert len(fixed) == len(lint)
    for _name, data in fixed.items():
        cst.parse_module(data)  # raises if a fix broke a file
    second = run_cli("--fix", "--unsafe-fixes", "--select", "ALL", "--no-cache", ".", cwd=tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.py")} == fixed
    assert "(0 fixed," in second.stdout or "All checks passed!" in second.stdout
    assert any(fixed[p.name] != p.read_bytes() for p in lint)  # the fixtures did have fixable findings


def test_fix_module_has_no_import_cycle() -> None:
    """`modal_gpu_lint.run.fixer` can be imported first (it imports the engine)."""
    import subprocess

    code = "import modal_gpu_lint.run.fixer, modal_gpu_lint.run.engine; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr
    assert fix.MAX_ROUNDS >= 2


def test_advice_fixes_go_through_the_same_machinery(tmp_path: Path) -> None:
    """MGL302's unsafe fix (rules/advice.py) is applied by `--fix --unsafe-fixes` like any other."""
    lines = [
        "import modal",
        "import torch",
        'app = modal.App("x")',
        '@app.function(gpu="H100", timeout=600)',
        "def bench():",
        '    assert torch.cuda.get_device_name().startswith("NVIDIA H100")',
        "",
    ]
    path = tmp_path / "app.py"
    path.write_text("\n".join(lines))
    result = run_cli("--fix", "--unsafe-fixes", "--no-cache", "--select", "MGL302", "app.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert path.read_text().splitlines()[3] == '@app.function(gpu="H100!", timeout=600)'


def test_json_edits_are_one_per_changed_region(tmp_path: Path) -> None:
    """A fix that renames an import and its uses is reported as several small edits, which,
    applied to the file, give valid code without the finding's old name at those places."""
    source = (FIX / "migrate_pre2025.in.py").read_text()
    (tmp_path / "app.py").write_text(source)
    items = json_findings(run_cli("--no-cache", "--format", "json", "app.py", cwd=tmp_path))
    stub = next(d for d in items if d["code"] == "MGL203" and d["location"]["row"] == 9)
    assert [(e["location"]["row"], e["content"]) for e in stub["fix"]["edits"]] == [(9, "App"), (22, "App")]
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    for item in items:
        if item["fix"] is None:
            continue
        text = source
        for edit in sorted(
            item["fix"]["edits"], key=lambda e: (e["location"]["row"], e["location"]["column"]), reverse=True
        ):
            begin = starts[edit["location"]["row"] - 1] + edit["location"]["column"] - 1
            end = starts[edit["end_location"]["row"] - 1] + edit["end_location"]["column"] - 1
            text = text[:begin] + edit["content"] + text[end:]
        assert text != source
        compile(text, "app.py", "exec")
