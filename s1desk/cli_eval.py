"""``s1desk eval``'s options: sweep thinking budgets over a question set, plot the scaling curve."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from s1desk.backends.local_config import DEFAULT_CONTEXT
from s1desk.backends.remote_config import DEFAULT_READ_TIMEOUT
from s1desk.cli_args import INT32_MAX, MAX_CONTEXT, MAX_SEED, finite, int_in, server_url, text
from s1desk.lab.plan import DEFAULT_BUDGETS, EvalPlan, Mode
from s1desk.lab.sources import builtin_names
from s1desk.thinking.format import DEFAULT_SYSTEM_PROMPT
from s1desk.thinking.formats import FORMAT_CHOICES, FormatName

#: In flight by default: a remote server batches what it is sent (vLLM). The
#: local engine decodes the samples of a question together instead (--parallel).
DEFAULT_REMOTE_PARALLEL = 8


def _budgets(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"budgets are whole numbers separated by commas, e.g. 0,512,1024 (not {text!r})"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("give at least one budget")
    return values


def add_format_option(parser: argparse.ArgumentParser) -> None:
    """``--format``: the model's thinking format, local or remote."""
    parser.add_argument(
        "--format",
        choices=FORMAT_CHOICES,
        default=FormatName.AUTO.value,
        help="the model's thinking format: s1 (<|im_start|>think), think-tags (<think>: "
        "DeepSeek-R1, Qwen3, QwQ), gpt-oss, or auto to tell it from the model "
        "(default: %(default)s)",
    )


def add_eval_parser(sub: Any) -> None:
    """Add the ``eval`` command to the CLI's subcommands."""
    p = sub.add_parser(
        "eval",
        help="sweep thinking budgets over a question set: accuracy against thinking",
        description="Run every question at every budget (and sample), score the answers as s1's "
        "evaluation does, and write results.json, results.csv and a scaling plot.",
    )
    p.add_argument(
        "source",
        metavar="SOURCE",
        help=f"a JSONL file of {{'question', 'answer'[, 'choices']}}, or a built-in set: "
        f"{', '.join(builtin_names())}",
    )
    p.add_argument(
        "--model",
        default=None,
        help="path of a GGUF model (default: $S1DESK_MODEL); with --remote, the served model",
    )
    remote = p.add_argument_group("remote server (vLLM or another OpenAI-compatible server)")
    remote.add_argument("--remote", metavar="URL", type=server_url, help="run on the server at URL")
    remote.add_argument("--api-key-env", metavar="VAR", default=None)
    remote.add_argument("--no-verify-tls", action="store_true")
    remote.add_argument(
        "--read-timeout", type=finite(0, 86_400, above=True), default=DEFAULT_READ_TIMEOUT
    )
    sweep = p.add_argument_group("the sweep")
    sweep.add_argument(
        "--budgets",
        type=_budgets,
        default=DEFAULT_BUDGETS,
        help="thinking budgets in tokens, comma-separated; 0 = no thinking "
        f"(default: {','.join(map(str, DEFAULT_BUDGETS))})",
    )
    sweep.add_argument(
        "--mode",
        choices=[m.value for m in Mode],
        default=Mode.CAP.value,
        help="cap: think at most the budget; force: exactly the budget, appending 'Wait' "
        "when the model stops early (default: cap)",
    )
    sweep.add_argument(
        "--samples", type=int_in(1, 1024), default=1, help="answers per question (maj@K)"
    )
    sweep.add_argument(
        "--temperature", type=finite(0, 100), default=0.0, help="0 is greedy, the paper's setting"
    )
    sweep.add_argument(
        "--seed", type=int_in(0, MAX_SEED - 1024), default=0, help="sample k uses seed SEED+k"
    )
    sweep.add_argument(
        "--max-answer",
        type=int_in(1, INT32_MAX),
        default=EvalPlan().max_answer,
        help="cap on answer tokens",
    )
    sweep.add_argument(
        "--parallel",
        type=int_in(1, 256),
        default=None,
        help=f"on a server: requests in flight (default: {DEFAULT_REMOTE_PARALLEL}); locally: "
        "samples of a question decoded together in one batch (default: all --samples, in "
        "groups that fit the context; 1 runs them one after another)",
    )
    sweep.add_argument(
        "--limit", type=int_in(1, INT32_MAX), default=None, help="a reproducible subset of N"
    )
    sweep.add_argument("--system", type=text, default=DEFAULT_SYSTEM_PROMPT, help="system prompt")
    out = p.add_argument_group("results")
    out.add_argument("--out", type=Path, default=None, help="results directory")
    out.add_argument(
        "--resume", action="store_true", help="continue the run in --out (default: the latest)"
    )
    out.add_argument("--json", action="store_true", help="one JSON event per line on stdout")
    model = p.add_argument_group("local model")
    model.add_argument(
        "--ctx", type=int_in(1, MAX_CONTEXT), default=DEFAULT_CONTEXT, help="context size in tokens"
    )
    model.add_argument("--gpu-layers", type=int_in(-1, 100_000), default=-1)
    model.add_argument("--threads", type=int_in(1, 4096), default=None)
    model.add_argument("--threads-batch", type=int_in(1, 4096), default=None)
    add_format_option(p)
