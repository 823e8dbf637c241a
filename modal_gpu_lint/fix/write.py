"""Writing a fixed file safely: all or nothing, same permissions, never over a concurrent edit."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile


class WriteError(Exception):
    """The file was not written (the message says why)."""


def write_atomic(path: str, data: bytes, *, expected: bytes | None = None) -> None:
    """Replace the contents of `path` with `data` atomically, only if the user may write it.

    The bytes go to a temporary file in the same folder, are flushed to disk, get the original
    file's permission bits and owner, and then replace it with `os.replace` (atomic on POSIX and
    Windows): a crash leaves either the old file or the new one, never half of one. A symbolic
    link is followed, so the link stays a link. Nothing is written (WriteError) when:

    - the file's mode has no owner-write bit (read-only, even for root), or `os.access` says the
      running user may not write it;
    - its owner or group cannot be given to the new file (it belongs to another user and the
      running user is not root): replacing it would hand it to the running user;
    - `expected` is given and the file no longer holds those bytes (someone edited it meanwhile).
    """
    target = os.path.realpath(path)
    folder = os.path.dirname(target) or "."
    info = os.stat(target)
    check_writable(target, info)
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
            try:
                os.chown(temporary, info.st_uid, info.st_gid)
            except OSError:
                raise WriteError(
                    f"it belongs to user {info.st_uid} (group {info.st_gid}); replacing it would give it to "
                    f"user {os.geteuid()}, so it was left as it was"
                ) from None
            if _owner(temporary) != (info.st_uid, info.st_gid):
                raise WriteError("its owner could not be kept, so it was left as it was")
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def check_writable(path: str, info: os.stat_result) -> None:
    """Raise WriteError when the rule above forbids writing `path` (ownership is checked later)."""
    if not info.st_mode & stat.S_IWUSR:
        raise WriteError(f"the file is read-only (mode {stat.S_IMODE(info.st_mode):04o}); it was left as it was")
    if not os.access(path, os.W_OK):
        raise WriteError("permission denied: the running user may not write it; it was left as it was")


def _owner(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_uid, info.st_gid
