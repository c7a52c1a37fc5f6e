"""One-line texts about a message: the thinking summary and the statistics."""

from __future__ import annotations

from s1desk.chat.message import AssistantMessage
from s1desk.thinking.machine import CloseReason, FinishReason, Phase


def tokens(n: int) -> str:
    """``1530`` -> ``"1,530"``."""
    return f"{n:,}"


def thinking_summary(message: AssistantMessage) -> str:
    """``Thinking… 812 / 4,000 tokens`` while it thinks, then
    ``Thought for 12.4 s · 1,530 tokens · 2 × Wait``."""
    budget = message.policy.max_thinking
    if message.phase is Phase.THINKING:
        if message.waiting:
            return "Reading the prompt…"
        return f"Thinking… {tokens(message.thinking_tokens)} / {tokens(budget)} tokens"
    if message.close_reason is CloseReason.NONE or (
        message.close_reason is None and message.thinking_tokens == 0
    ):
        return "Answered without thinking"
    parts = [
        f"Thought for {message.thinking_seconds:.1f} s",
        f"{tokens(message.thinking_tokens)} tokens",
    ]
    if message.waits:
        parts.append(f"{message.waits} × Wait")
    if minimum_missed(message):
        parts.append(f"minimum not reached: all {message.waits} Waits used")
    if message.close_reason is CloseReason.CAP:
        parts.append("cut at budget")
    elif message.close_reason is None:
        parts.append("stopped" if message.finish_reason is FinishReason.CANCELLED else "unfinished")
    return " · ".join(parts)


def stats_line(message: AssistantMessage) -> str:
    """``23.5 tokens/s · 1,530 thinking + 212 answer tokens · first token 0.41 s``."""
    s = message.stats
    if s is None:
        return ""
    parts = [
        f"{s.tokens_per_second:.1f} tokens/s",
        f"{tokens(s.thinking_tokens)} thinking + {tokens(s.answer_tokens)} answer tokens",
        f"first token {s.time_to_first_token_s:.2f} s",
        f"{s.total_s:.1f} s in all",
    ]
    if s.cached_prompt_tokens:
        parts.append(f"{tokens(s.cached_prompt_tokens)} prompt tokens cached")
    return " · ".join(parts)


def answer_progress(message: AssistantMessage) -> str:
    """``Answering… 312 / 4,096 answer tokens · Esc stops`` while the answer streams."""
    if message.phase is not Phase.ANSWERING:
        return ""
    cap = message.policy.max_answer
    return f"Answering… {tokens(message.answer_tokens)} / {tokens(cap)} answer tokens · Esc stops"


def finish_note(message: AssistantMessage) -> str:
    """A short note when a message did not end normally, else ``""``."""
    if message.error:
        return f"Error: {message.error}"
    match message.finish_reason:
        case FinishReason.CANCELLED:
            return "Stopped."
        case FinishReason.LENGTH:
            return (
                f"The answer reached its limit of {tokens(message.policy.max_answer)} tokens "
                "(Settings, Most answer tokens)."
            )
        case FinishReason.CONTEXT_FULL:
            return "The context window is full."
        case FinishReason.STOP if not message.answer.strip():
            if message.close_reason is CloseReason.CAP:
                return (
                    "The model ended without an answer after its thinking was cut at the "
                    "budget; Think longer may help."
                )
            used, cap = message.thinking_tokens, message.policy.max_thinking
            where = "well within its budget" if used * 2 <= cap else "before its budget"
            return (
                f"The model ended without an answer after thinking {tokens(used)} of "
                f"{tokens(cap)} tokens, {where}: a larger minimum (“at least”) makes it "
                "think more; a larger budget alone does not."
            )
    return ""


def minimum_missed(message: AssistantMessage) -> bool:
    """Thinking ended below its minimum because every Wait was used."""
    p = message.policy
    return (
        message.close_reason is CloseReason.NATURAL
        and p.min_thinking > 0
        and message.thinking_tokens < p.min_thinking
        and message.waits >= p.max_waits
    )
