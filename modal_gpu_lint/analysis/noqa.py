"""`# noqa` comments, matched exactly as flake8 matches them."""

from __future__ import annotations

import re

# flake8's own pattern (flake8/defaults.py), so the CLI and the plugin agree.
NOQA = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
_SPLIT = re.compile(r"[,\s]+")


def suppressed(line: str, code: str) -> bool:
    """Whether `# noqa` on `line` silences `code` (a bare `# noqa` silences everything)."""
    if "noqa" not in line.lower():
        return False
    match = NOQA.search(line)
    if match is None:
        return False
    codes = match.group("codes")
    if not codes:
        return True
    listed = tuple(c.upper() for c in _SPLIT.split(codes) if c)
    return code in listed or code.startswith(listed)
