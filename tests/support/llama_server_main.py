"""Run ``llama_cpp.server`` with llama.cpp's extra buffer types off.

On CPUs whose AMX kernel faults (the CI machine among them) llama.cpp dies with
SIGILL on its first evaluation; the app's engine finds this out and falls back
by itself, and the test server, a third-party program, is started this way.
Usage: ``python tests/support/llama_server_main.py [llama_cpp.server arguments]``.
"""

from __future__ import annotations

import runpy
from typing import Any

import llama_cpp
import llama_cpp.llama_cpp as capi

_default = capi.llama_model_default_params


def _params() -> Any:
    params = _default()
    params.use_extra_bufts = False
    return params


capi.llama_model_default_params = _params
assert llama_cpp.llama_cpp is capi
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
