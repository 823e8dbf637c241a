"""The one table of Modal calls that take `gpu=`, shared by the linter and the mypy plugin.

Source: ../shared/modal-facts.md ("Every call that takes gpu=", client 1.6.4) and the
signatures of the installed `modal` package (the drift test in tests/ checks them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Keyword renames that raise since client 1.4.0 (MGL201): old name -> new name.
RENAMED_AUTOSCALER = {
    "keep_warm": "min_containers",
    "concurrency_limit": "max_containers",
    "container_idle_timeout": "scaledown_window",
}

MAX_TIMEOUT = 86400  # 24 h, docs: modal.com/docs/guide/timeouts
SCALEDOWN_RANGE = (2, 3600)  # client-enforced
DEFAULT_TIMEOUT = 300


@dataclass(frozen=True)
class ModalCall:
    """One kind of Modal call that takes `gpu=`."""

    kind: str  # how users name it: "app.function", "image.pip_install", ...
    method: str  # the attribute called
    accepts_list: bool  # fallback lists allowed
    timeout_param: str | None  # the parameter that bounds run time, if any
    default_timeout: int | None  # seconds when `timeout_param` is not given
    decorator: bool  # an App decorator (function, cls, server)
    parameters: frozenset[str]  # keywords the call accepts (for rename fixes)
    # What mypy calls the method (from the installed .pyi stubs; tests/test_modal_api_drift.py checks).
    mypy_fullnames: tuple[str, ...]


_AUTOSCALER = frozenset({"min_containers", "max_containers", "buffer_containers", "scaledown_window"})
_WITH_OPTIONS = frozenset({"max_containers", "buffer_containers", "scaledown_window", "timeout"})


def _image(method: str, *, accepts_list: bool = False, timeout: int | None = None) -> ModalCall:
    return ModalCall(
        kind=f"image.{method}",
        method=method,
        accepts_list=accepts_list,
        timeout_param="timeout" if timeout else None,
        default_timeout=timeout,
        decorator=False,
        parameters=frozenset({"gpu", "timeout"} if timeout else {"gpu"}),
        mypy_fullnames=(f"modal.image.Image.{method}",),
    )


APP_CALLS: dict[str, ModalCall] = {
    "function": ModalCall(
        "app.function",
        "function",
        True,
        "timeout",
        DEFAULT_TIMEOUT,
        True,
        _AUTOSCALER | {"timeout", "startup_timeout", "single_use_containers"},
        ("modal.app.App.function",),
    ),
    "cls": ModalCall(
        "app.cls",
        "cls",
        True,
        "timeout",
        DEFAULT_TIMEOUT,
        True,
        _AUTOSCALER | {"timeout", "startup_timeout", "single_use_containers"},
        ("modal.app.App.cls",),
    ),
    "server": ModalCall(
        "app.server",
        "server",
        True,
        None,
        None,
        True,
        _AUTOSCALER | {"startup_timeout"},
        ("modal.app.App.server",),
    ),
}

WITH_OPTIONS = ModalCall(
    "with_options",
    "with_options",
    False,
    "timeout",
    None,
    False,
    _WITH_OPTIONS,
    ("modal.cls.Cls.with_options", "modal.functions.Function.with_options"),
)

SANDBOX_CREATE = ModalCall(
    "sandbox.create",
    "create",
    False,
    "timeout",
    DEFAULT_TIMEOUT,
    False,
    frozenset({"timeout"}),
    (
        "modal.sandbox.sandbox.Sandbox.__create_spec.__call__",
        "modal.sandbox.sandbox.Sandbox.__create_spec.aio",
    ),
)

IMAGE_CALLS: dict[str, ModalCall] = {
    call.method: call
    for call in (
        _image("run_function", accepts_list=True, timeout=3600),
        *(
            _image(m)
            for m in (
                "pip_install",
                "pip_install_private_repos",
                "pip_install_from_requirements",
                "pip_install_from_pyproject",
                "uv_pip_install",
                "uv_sync",
                "poetry_install_from_file",
                "micromamba_install",
                "apt_install",
                "run_commands",
                "dockerfile_commands",
                "from_dockerfile",
            )
        ),
    )
}

ALL_CALLS: tuple[ModalCall, ...] = (
    *APP_CALLS.values(),
    WITH_OPTIONS,
    SANDBOX_CREATE,
    *IMAGE_CALLS.values(),
)

# Modules whose objects have `.function(...)` or similar but are not Modal Apps.
NOT_MODAL = re.compile(
    r"^(fastapi|flask|starlette|gradio|sglang|beam|celery|prefect|ray|dagster|airflow|typer|click|"
    r"django|litestar|sanic|quart|runpod|replicate|banana_dev|cerebrium|baseten|truss)(\.|$)"
)
APP_LIKE_NAME = re.compile(r"app|stub", re.IGNORECASE)


def project_app(module: str, name: str) -> bool:
    """Whether `from MODULE import NAME` plausibly imports the project's own Modal App (an App
    defined in a sibling module: its name says app or stub, and the module is not a web framework's)."""
    if module.split(".")[0] == "modal" or NOT_MODAL.match(module):
        return False
    return APP_LIKE_NAME.search(name) is not None
