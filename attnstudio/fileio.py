"""Atomic file writes: a save either fully happens or leaves the old file untouched."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["SaveError", "atomic_write_bytes", "atomic_write_text"]


class SaveError(OSError):
    """A file could not be written; the message names the path and the reason. The old file is intact."""


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, flush, fsync, then replace ``path`` with it."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:  # is_dir() swallows "no such file" but raises for a name too long or a folder we may not search
        is_folder, folder_exists = target.is_dir(), folder.is_dir()
    except OSError as exc:
        raise SaveError(f"cannot save to {target}: {exc.strerror or exc}") from exc
    if is_folder:
        raise SaveError(f"cannot save to {target}: it is a folder")
    if not folder_exists:
        raise SaveError(f"cannot save to {target}: the folder {folder} does not exist")
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:  # mkstemp makes the file private (0600); give it what a plain open() would have given
            mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
            os.chmod(tmp_name, mode)
        except OSError:
            pass
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise SaveError(f"cannot save to {target}: {reason}") from exc
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
