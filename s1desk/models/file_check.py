"""What a path given as a model is, said plainly before anything opens it (a FIFO would hang)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from s1desk.errors import ModelLoadError

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def check_model_file(path: Path) -> Path:
    """``path`` if it is a regular file this process can read, else :class:`ModelLoadError`.

    Only ``stat`` and ``access`` are used: nothing is opened, so a FIFO or a
    device cannot block the caller.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise ModelLoadError(
                f"Model file not found: {path} is a link to {os.readlink(path)}, which is missing."
            ) from None
        raise ModelLoadError(f"Model file not found: {path}") from None
    except PermissionError:
        raise ModelLoadError(
            f"Cannot read the model {path}: permission denied on a folder on its path."
        ) from None
    except (OSError, ValueError) as exc:  # a name too long, a loop of links, a NUL byte
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ModelLoadError(f"Cannot open the model {path}: {reason}.") from None
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
        hint = " Give the .gguf file inside it." if stat.S_ISDIR(info.st_mode) else ""
        raise ModelLoadError(f"{path} is {kind}, not a GGUF model file.{hint}")
    if not os.access(path, os.R_OK):
        raise ModelLoadError(
            f"Cannot read the model {path}: permission denied (the file's mode is "
            f"{stat.filemode(info.st_mode)}). Make it readable, e.g. chmod a+r."
        )
    return path


def explain_open_error(path: Path, exc: OSError) -> ModelLoadError:
    """An :class:`OSError` from opening or reading a model, as a message for people."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ModelLoadError(f"Cannot read the model {path}: permission denied.")
    return ModelLoadError(f"Cannot read the model {path}: {exc.strerror or exc}.")
