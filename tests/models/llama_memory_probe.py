"""Load the test model in a fresh process and print what llama.cpp allocated and what is resident.

Run as ``python llama_memory_probe.py MODEL N_CTX``; prints one JSON object.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile

import psutil

_BUFFER = re.compile(r"(\S+)\s+(model|KV|compute|output) buffer size =\s+([\d.]+) MiB")


def main() -> None:
    model, n_ctx = sys.argv[1], int(sys.argv[2])
    proc = psutil.Process()
    with tempfile.TemporaryFile(mode="w+") as log:
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)  # llama.cpp writes its allocation report to stderr
        try:
            import llama_cpp
            import llama_cpp.llama_cpp as llama_lib

            _defaults = llama_lib.llama_model_default_params

            def _plain_buffers() -> object:
                # llama.cpp's extra (repacking/AMX) CPU buffer types off, as s1desk loads
                # models: the AMX kernel dies on the first evaluation on this CPU.
                params = _defaults()
                params.use_extra_bufts = False
                return params

            llama_lib.llama_model_default_params = _plain_buffers

            before = proc.memory_info().rss
            llm = llama_cpp.Llama(
                model_path=model, n_ctx=n_ctx, n_gpu_layers=0, n_threads=2, n_batch=512,
                flash_attn=False, verbose=True,
            )  # fmt: skip
            llm.eval(llm.tokenize(b"The quick brown fox jumps over the lazy dog. " * 30))
            after = proc.memory_info().rss
            del llm
        finally:
            os.dup2(saved, 2)
        log.seek(0)
        text = log.read()
    buffers: dict[str, float] = {}
    for _where, kind, mib in _BUFFER.findall(text):
        buffers[kind] = buffers.get(kind, 0.0) + float(mib) * 2**20
    result = {"n_ctx": n_ctx, "rss_growth": after - before, "buffers": buffers}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
