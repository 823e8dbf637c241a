"""Writing a fixed file safely: all or nothing, same permissions, never over a concurrent edit."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile


class WriteError(Exception):
    """The file was not written (the message says why)."""


def write_atomic(path: str, data: bytes, *, expected: bytes | None = None) -> None:
    """Replace the contents of `path` with `data` atomically.

    The bytes go to a temporary file in the same folder, are flushed to disk, get the original
    file's permission bits, and then replace it with `os.replace` (atomic on POSIX and Windows):
    a crash leaves either the old file or the new one, never half of one. A symbolic link is
    followed, so the link stays a link. When `expected` is given and the file no longer holds
    those bytes (someone edited it meanwhile), nothing is written and WriteError is raised.
    """
    target = os.path.realpath(path)
    folder = os.path.dirname(target) or "."
    info = os.stat(target)
    if expected is not None:
        with open(target, "rb") as handle:
            if handle.read() != expected:
                raise WriteError("the file changed on disk while it was being fixed; run again")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".mgl-tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        if hasattr(os, "chown") and (info.st_uid, info.st_gid) != _owner(temporary):
            # only the owner's own group or root can change it; keep the permission bits
            with contextlib.suppress(OSError):
                os.chown(temporary, info.st_uid, info.st_gid)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _owner(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_uid, info.st_gid
