"""How an engine process ended, in words a person can act on."""

from __future__ import annotations

import signal
from collections.abc import Sequence

_SIGNALS: dict[int, tuple[str, str]] = {
    signal.SIGILL: (
        "used a processor instruction this CPU cannot run (SIGILL, illegal instruction)",
        "rebuild llama-cpp-python for this CPU (the README's CPU notes say how)",
    ),
    signal.SIGSEGV: (
        "crashed (SIGSEGV, segmentation fault)",
        "the model file may be damaged or too new for this llama.cpp; try another file or a "
        "newer llama-cpp-python",
    ),
    signal.SIGBUS: (
        "crashed reading memory (SIGBUS): the model file may have changed or shrunk on disk",
        "check the file and load it again",
    ),
    signal.SIGABRT: (
        "stopped on a failed internal check (SIGABRT)",
        "the model file may be damaged or unsupported by this llama.cpp, or the GPU ran out of "
        "memory; try a smaller context or fewer GPU layers",
    ),
    signal.SIGKILL: (
        "was killed (SIGKILL), usually by the system when memory runs out",
        "try a smaller model, a smaller context or fewer GPU layers, or close other programs",
    ),
    signal.SIGTERM: ("was stopped from outside (SIGTERM)", "ask again to start it anew"),
    signal.SIGFPE: (
        "crashed on an arithmetic fault (SIGFPE)",
        "the model file may be damaged; try another file",
    ),
}

#: Lines of the engine's own output worth quoting (llama.cpp's asserts and errors).
_TELLING = ("GGML_ASSERT", "error", "Error", "ERROR", "failed", "out of memory", "CUDA")


def killed_by(returncode: int | None) -> int | None:
    """The signal that ended a process, from ``Popen.returncode``."""
    if returncode is not None and returncode < 0:
        return -returncode
    return None


def describe_exit(model: str, returncode: int | None, output: Sequence[str]) -> str:
    """One message for an engine that ended while it was needed."""
    sig = killed_by(returncode)
    if sig is not None and sig in _SIGNALS:
        what, advice = _SIGNALS[sig]
    elif sig is not None:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else sig
        what, advice = f"ended on signal {name}", "ask again to start it anew"
    else:
        what, advice = f"exited unexpectedly (code {returncode})", "ask again to start it anew"
    message = f"The llama.cpp engine running {model} {what}."
    telling = [line for line in output if any(word in line for word in _TELLING)]
    if telling:
        message += f" It said: {telling[-1].strip()[:300]}"
    return f"{message} What was written so far is kept. To try: {advice}."
