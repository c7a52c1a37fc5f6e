"""Write a GGUF shaped like a Hugging Face model config, with random weights.

On a GPU machine that cannot download models, this gives llama.cpp a model of
the real shape (layers, widths, vocabulary, tokenizer) to time: speed depends on
the shape and the quantization, not on what the weights say.
Usage: python make_model.py CONFIG_DIR LLAMA_CPP_DIR OUT.gguf [--outtype q8_0]
       [--layers N --hidden N --intermediate N --heads N --kv-heads N] (a larger shape)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config_dir", type=Path, help="config.json and the tokenizer files")
    parser.add_argument("llama_cpp", type=Path, help="llama.cpp's source (its converter)")
    parser.add_argument("out", type=Path)
    parser.add_argument("--outtype", default="q8_0")
    parser.add_argument("--layers", type=int)
    parser.add_argument("--hidden", type=int)
    parser.add_argument("--intermediate", type=int)
    parser.add_argument("--heads", type=int)
    parser.add_argument("--kv-heads", type=int)
    args = parser.parse_args()

    import torch  # type: ignore[import-not-found]  # on the GPU machine only
    from transformers import (  # type: ignore[import-not-found]
        AutoConfig,
        AutoModelForCausalLM,
    )

    config = AutoConfig.from_pretrained(args.config_dir)
    for field, value in (
        ("num_hidden_layers", args.layers),
        ("hidden_size", args.hidden),
        ("intermediate_size", args.intermediate),
        ("num_attention_heads", args.heads),
        ("num_key_value_heads", args.kv_heads),
    ):
        if value is not None:
            setattr(config, field, value)
    if args.layers is not None and hasattr(config, "layer_types"):
        config.layer_types = ["full_attention"] * args.layers
    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.bfloat16)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
            if (args.config_dir / name).is_file():
                shutil.copy(args.config_dir / name, tmp)
        subprocess.run(
            [
                sys.executable,
                str(args.llama_cpp / "convert_hf_to_gguf.py"),
                tmp,
                "--outtype",
                args.outtype,
                "--outfile",
                str(args.out),
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
