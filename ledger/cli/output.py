"""Writing an output file of a command (``footprint -o``, ``proof --out``, ``report --out``).

One rule for every command: a regular file (or a path that does not exist yet) is written to a
temporary file beside it and renamed over it at the end, so a reader never sees half a file and
a failed run leaves the old file; anything else is written through, never replaced: a FIFO or
a device gets the bytes, a symlink keeps being a symlink and its target gets them. A new file's
permissions follow the umask; a replaced file keeps its permissions.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from ledger.errors import InputError

__all__ = ["write_output"]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _replace_regular(path: Path, data: bytes, mode: int) -> None:
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_output(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text is written as UTF-8) to ``path`` by the rule of this module;
    InputError names the path when it cannot be written."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    try:
        _write(Path(os.path.realpath(path)) if path.is_symlink() else path, content)
    except OSError as exc:
        raise InputError(f"{path}: cannot be written: {exc.strerror or exc}") from None


def _write(path: Path, content: bytes) -> None:
    try:
        found = path.stat()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace_regular(path, content, 0o666 & ~_umask())
        return
    if stat.S_ISDIR(found.st_mode):
        raise InputError(f"{path}: is a folder; give a file name")
    if stat.S_ISREG(found.st_mode):
        _replace_regular(path, content, stat.S_IMODE(found.st_mode))
    else:  # a FIFO, a device, a socket: written through
        with path.open("wb") as handle:
            handle.write(content)
