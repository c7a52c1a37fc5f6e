"""The command line: the same engine as the app, headless."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from s1desk import __version__
from s1desk.backends.base import GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import DEFAULT_CONTEXT, LocalModelConfig
from s1desk.backends.remote import RemoteBackend
from s1desk.backends.remote_config import DEFAULT_READ_TIMEOUT, ApiKey, RemoteServerConfig
from s1desk.cli_args import (
    INT32_MAX,
    MAX_CONTEXT,
    MAX_SEED,
    finite,
    int_in,
    read_stdin_text,
    safe_output,
    server_url,
    text,
)
from s1desk.cli_eval import add_eval_parser, run_eval
from s1desk.cli_models import add_models_parser, run_models
from s1desk.errors import S1DeskError
from s1desk.events import Done, ErrorEvent
from s1desk.models.file_check import check_model_file
from s1desk.sampling import SamplerSettings
from s1desk.terminal import JsonRenderer, TextRenderer, safe_text
from s1desk.thinking.format import DEFAULT_SYSTEM_PROMPT
from s1desk.thinking.machine import FinishReason
from s1desk.thinking.policy import DEFAULT_MAX_WAITS, BudgetPolicy

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CANCELLED = 130

_DEFAULT_POLICY = BudgetPolicy()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s1desk",
        description="Chat with the s1 reasoning model and control how long it thinks.",
    )
    parser.add_argument("--version", action="version", version=f"s1desk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", description="without a COMMAND, the desktop app opens"
    )

    ask = sub.add_parser(
        "ask",
        help="ask one question and stream the thinking and the answer",
        description="Ask one question; thinking streams first (dimmed), then the answer.",
    )
    ask.add_argument("question", type=text, help="the question; '-' reads it from standard input")
    ask.add_argument(
        "--model",
        default=None,
        help="path of a GGUF model (default: $S1DESK_MODEL); with --remote, the served "
        "model name (default: the server's only model)",
    )
    remote = ask.add_argument_group("remote server (vLLM or another OpenAI-compatible server)")
    remote.add_argument(
        "--remote", metavar="URL", type=server_url, help="run on the server at URL, not locally"
    )
    remote.add_argument(
        "--api-key-env",
        metavar="VAR",
        type=text,
        default=None,
        help="read the API key from environment variable VAR (default: S1DESK_API_KEY if set)",
    )
    remote.add_argument(
        "--no-verify-tls", action="store_true", help="accept any TLS certificate (trusted servers)"
    )
    remote.add_argument(
        "--read-timeout",
        type=finite(0, above=True),
        default=DEFAULT_READ_TIMEOUT,
        help="seconds without data before a stream counts as stalled (default: %(default)s)",
    )
    budget = ask.add_argument_group("thinking budget (tokens)")
    budget.add_argument(
        "--max-think",
        type=int_in(0, INT32_MAX),
        default=_DEFAULT_POLICY.max_thinking,
        help="cap on thinking tokens; 0 answers at once (default: %(default)s)",
    )
    budget.add_argument(
        "--min-think",
        type=int_in(0, INT32_MAX),
        default=0,
        help="think at least this long, appending 'Wait' (default: 0)",
    )
    budget.add_argument(
        "--waits",
        type=int_in(0, INT32_MAX),
        default=DEFAULT_MAX_WAITS,
        help="most 'Wait' extensions (default: %(default)s)",
    )
    budget.add_argument(
        "--wait-text",
        type=text,
        default=_DEFAULT_POLICY.wait_text,
        help="the extension text (default: %(default)s)",
    )
    budget.add_argument(
        "--max-answer",
        type=int_in(1, INT32_MAX),
        default=_DEFAULT_POLICY.max_answer,
        help="cap on answer tokens (default: %(default)s)",
    )
    sampling = ask.add_argument_group("sampling")
    sampling.add_argument(
        "--temperature",
        type=finite(0),
        default=0.0,
        help="0 is greedy decoding, the paper's setting (default: 0)",
    )
    sampling.add_argument("--top-p", type=finite(0, 1, above=True), default=1.0)
    sampling.add_argument("--top-k", type=int_in(0, INT32_MAX), default=0)
    sampling.add_argument("--min-p", type=finite(0, 1), default=0.0)
    sampling.add_argument("--repeat-penalty", type=finite(0, above=True), default=1.0)
    sampling.add_argument("--seed", type=int_in(0, MAX_SEED), default=None)
    model = ask.add_argument_group("model")
    model.add_argument(
        "--ctx",
        type=int_in(1, MAX_CONTEXT),
        default=DEFAULT_CONTEXT,
        help="context size in tokens (default: %(default)s)",
    )
    model.add_argument(
        "--gpu-layers",
        type=int_in(-1, INT32_MAX),
        default=-1,
        help="layers to offload to the GPU; -1 is all (default: -1)",
    )
    model.add_argument(
        "--threads",
        type=int_in(1, 4096),
        default=None,
        help="CPU threads for decoding (default: chosen and adapted while decoding, so a "
        "busy machine does not slow it down)",
    )
    model.add_argument(
        "--threads-batch",
        type=int_in(1, 4096),
        default=None,
        help="CPU threads for reading the prompt (default: all cores, up to half on big machines)",
    )
    ask.add_argument("--system", type=text, default=DEFAULT_SYSTEM_PROMPT, help="system prompt")
    ask.add_argument("--json", action="store_true", help="write one JSON object per event per line")
    ask.add_argument(
        "--hide-thinking", action="store_true", help="print only the answer (text mode)"
    )
    add_models_parser(sub)
    add_eval_parser(sub)
    return parser


async def _ask(args: argparse.Namespace) -> int:
    question = args.question
    policy = BudgetPolicy(
        max_thinking=args.max_think,
        min_thinking=args.min_think,
        max_waits=args.waits,
        wait_text=args.wait_text,
        max_answer=args.max_answer,
    )
    sampler = SamplerSettings(
        temperature=args.temperature,
        top_p=args.top_p,
        top_k=args.top_k,
        min_p=args.min_p,
        repeat_penalty=args.repeat_penalty,
        seed=args.seed,
    )
    renderer: JsonRenderer | TextRenderer
    if args.json:
        renderer = JsonRenderer(sys.stdout)
    else:
        renderer = TextRenderer(
            sys.stdout, sys.stderr, color=sys.stdout.isatty(), show_thinking=not args.hide_thinking
        )
    cancel = CancelToken()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGINT, cancel.cancel)
    request = GenerationRequest(
        question=question, system_prompt=args.system, policy=policy, sampler=sampler
    )
    code = EXIT_ERROR
    backend = await open_backend(args)
    async with backend:
        async for event in backend.stream(request, cancel):
            renderer.show(event)
            if isinstance(event, Done):
                code = EXIT_CANCELLED if event.reason is FinishReason.CANCELLED else EXIT_OK
            elif isinstance(event, ErrorEvent):
                code = EXIT_ERROR
    return code


async def open_backend(args: argparse.Namespace) -> LocalBackend | RemoteBackend:
    """The backend ``ask`` and ``eval`` run on: the server at ``--remote``, else the local model."""
    if args.remote:
        remote = RemoteServerConfig(
            base_url=args.remote,
            model=args.model or "",
            verify_tls=not args.no_verify_tls,
            read_timeout=args.read_timeout,
            context_length=args.ctx,
        )
        return await RemoteBackend.connect(remote, args.api_key)
    config = LocalModelConfig(
        path=Path(args.model),
        n_ctx=args.ctx,
        n_gpu_layers=args.gpu_layers,
        n_threads=args.threads,
        n_threads_batch=getattr(args, "threads_batch", None),
    )
    local = await LocalBackend.load(config)
    notice = local.take_notice()
    if notice:
        sys.stderr.write(f"Note: {safe_text(notice)}\n")
    return local


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    safe_output()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command is None:
        # The desktop app. Imported by name so the headless CLI never loads Qt
        # (the core's import contract forbids it); s1desk.ui is optional here.
        app = importlib.import_module("s1desk.ui.app")
        code: int = app.main(sys.argv[:1])
        return code
    if args.command == "models":
        return run_models(args)
    if args.command not in ("ask", "eval"):
        parser.print_help()
        return EXIT_OK
    if args.remote:
        args.api_key = _api_key(parser, args.api_key_env)
        if args.model is not None:
            args.model = _utf8(parser, "--model", args.model)
    else:
        args.model = args.model or os.environ.get("S1DESK_MODEL")
        if args.model is None:
            parser.error("no model: pass --model PATH or set S1DESK_MODEL (or --remote URL)")
    if args.command == "eval":
        return run_eval(args, open_backend)
    try:
        if args.question == "-":
            args.question = read_stdin_text()
        if args.model is not None and not args.remote:
            check_model_file(Path(args.model))
        return asyncio.run(_ask(args))
    except S1DeskError as exc:
        if args.json:
            JsonRenderer(sys.stdout).show(ErrorEvent(message=str(exc), kind=type(exc).__name__))
        else:
            sys.stderr.write(f"Error: {safe_text(str(exc))}\n")
        return EXIT_ERROR


def _utf8(parser: argparse.ArgumentParser, option: str, value: str) -> str:
    try:
        return text(value)
    except argparse.ArgumentTypeError as exc:
        parser.error(f"argument {option}: {exc}")


def _api_key(parser: argparse.ArgumentParser, variable: str | None) -> ApiKey | None:
    """The key from ``variable`` (an error if unset or empty), else ``S1DESK_API_KEY``."""
    value = os.environ.get(variable or "S1DESK_API_KEY", "")
    if variable and not value:
        parser.error(f"--api-key-env: the environment variable {variable} is not set or empty")
    return ApiKey(value) if value else None


if __name__ == "__main__":
    sys.exit(main())
