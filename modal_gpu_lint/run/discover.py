"""Which files to lint: explicit files as given; in folders, `*.py` and `*.ipynb` files, walked without
following links."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

from modal_gpu_lint.run.config import Settings


def python_files(paths: Sequence[str], settings: Settings) -> Iterator[str]:
    """Files to lint, sorted within each folder; folders named `*.py` are walked, not read."""
    seen: set[str] = set()
    for path in paths:
        if os.path.isdir(path):
            for found in _walk(path, settings):
                if found not in seen:
                    seen.add(found)
                    yield found
        elif path not in seen:
            seen.add(path)
            yield path  # an explicit file is linted even when excluded (as ruff does)


def _walk(root: str, settings: Settings) -> Iterator[str]:
    # os.walk does not follow symlinked folders, so link loops cannot hang the walk.
    for folder, dirs, files in os.walk(root, onerror=None):
        dirs[:] = sorted(
            d
            for d in dirs
            if not settings.is_excluded(os.path.join(folder, d))
            and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))
        )
        for name in sorted(files):
            if name.endswith((".py", ".ipynb")):
                path = os.path.join(folder, name)
                # Only regular files (or links to one): FIFOs, sockets and dangling links are skipped.
                if not settings.is_excluded(path) and os.path.isfile(path):
                    yield path
