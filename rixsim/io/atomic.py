"""Atomic file writing: a temporary file beside the target, fsync, then a rename or a link that never
clobbers an existing file."""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Callable

from rixsim.errors import FileExistsRefusal, InputError
from rixsim.io._common import _path

logger = logging.getLogger(__name__)

__all__ = ["atomic_write", "write_text_atomic"]



# --------------------------------------------------------------------------------------------------------------
# Atomic writing
# --------------------------------------------------------------------------------------------------------------

def _fsync_dir(directory: Path) -> None:
    # Makes the rename durable on POSIX; not possible (nor needed) everywhere, so failures are ignored.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    # os.umask can only be read by setting it, which is not thread-safe; Linux shows it in /proc.
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def atomic_write(path, overwrite: bool, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, fsync it, and move it into place."""
    target = _path(path)
    if target.is_dir():
        raise InputError(f"output path '{target}' is a directory")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"output directory '{directory}' does not exist")
    if target.exists() and not overwrite:
        raise FileExistsRefusal(f"'{target}' exists; pass overwrite=True to replace it")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the permissions open() would
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(tmp, target)
        else:
            # os.link fails if the target appeared meanwhile: no clobbering even under a race.
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise FileExistsRefusal(f"'{target}' exists; pass overwrite=True to replace it") from None
            except OSError:  # file system without hard links
                if target.exists():
                    raise FileExistsRefusal(f"'{target}' exists; pass overwrite=True to replace it") from None
                os.replace(tmp, target)
            if os.path.exists(tmp):
                os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)
    logger.info("wrote %s", target)
    return target




def write_text_atomic(path, text: str, overwrite: bool = False) -> Path:
    """Write a UTF-8 text file atomically (see :func:`atomic_write`)."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
    return atomic_write(path, overwrite, write)
