"""A conversation written out as Markdown or as versioned JSON (with its reasoning or not)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from s1desk.store import codec
from s1desk.store.records import Conversation, Message, MessageStatus
from s1desk.store.versions import answer_groups, with_choice

#: Identifies an s1desk conversation export; ``version`` changes with its layout.
SCHEMA = "s1desk.conversation"
#: 2: answers say whether they are the ``chosen`` version (1 had no such field).
VERSION = 2


def _time(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def message_to_plain(message: Message, *, reasoning: bool) -> dict[str, Any]:
    """One message as JSON-ready data; without reasoning, its marks go too."""
    out: dict[str, Any] = {
        "role": message.role,
        "text": message.text,
        "status": message.status.value,
        "created": _time(message.created),
        "updated": _time(message.updated),
    }
    if message.role == "assistant":
        if reasoning:
            end = message.thinking_end
            out["reasoning"] = message.reasoning
            out["waits"] = [codec.to_plain(w) for w in message.waits]
            out["thinking_end"] = None if end is None else codec.to_plain(end)
        out["policy"] = None if message.policy is None else codec.to_plain(message.policy)
        out["sampler"] = None if message.sampler is None else codec.to_plain(message.sampler)
        out["stats"] = None if message.stats is None else codec.to_plain(message.stats)
        adjusted = message.budget_adjusted
        out["budget_adjusted"] = None if adjusted is None else codec.to_plain(adjusted)
        out["backend"] = message.backend
        out["model"] = message.model
        finish = message.finish_reason
        out["finish_reason"] = None if finish is None else finish.value
        out["error"] = None if message.error is None else codec.to_plain(message.error)
        out["chosen"] = message.chosen
    return out


def to_json(conversation: Conversation, messages: Sequence[Message], *, reasoning: bool) -> str:
    """The conversation as a JSON document that :func:`~s1desk.store.importer` reads back;
    each answer says whether it is the version chosen among its question's answers."""
    messages = with_choice(messages)
    document = {
        "schema": SCHEMA,
        "version": VERSION,
        "reasoning_included": reasoning,
        "conversation": {
            "title": conversation.title,
            "created": _time(conversation.created),
            "updated": _time(conversation.updated),
            "backend": conversation.backend,
            "model": conversation.model,
        },
        "messages": [message_to_plain(m, reasoning=reasoning) for m in messages],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _thinking_note(message: Message) -> str:
    bits: list[str] = []
    end = message.thinking_end
    if end is not None:
        bits.append(f"{end.at_token} thinking tokens")
        if end.reason.value == "cap":
            bits.append("cut at the budget")
    if message.waits:
        bits.append(f"extended {len(message.waits)}× with “{message.waits[0].text}”")
    return f" ({', '.join(bits)})" if bits else ""


def _marked_reasoning(message: Message) -> str:
    """The reasoning with each Wait and the cut marked where it happened, as the window
    marks them (``⟲ Wait #1 (at 401 tokens)``, ``✂ Budget reached at 500 tokens``)."""
    text = message.reasoning
    marks: list[tuple[int, str]] = []
    for w in message.waits:
        marks.append((w.offset, f"\n\n**⟲ Wait #{w.index} (at {w.at_token:,} tokens)** "))
    end = message.thinking_end
    if end is not None and end.reason.value == "cap":
        marks.append((end.offset, f"\n\n**✂ Budget reached at {end.at_token:,} tokens**"))
    out: list[str] = []
    last = 0
    for offset, mark in sorted(marks, key=lambda m: m[0]):
        at = max(last, min(offset, len(text)))
        out += [text[last:at].rstrip(" "), mark]
        last = at
    out.append(text[last:])
    return "".join(out)


def _stats_line(message: Message) -> str:
    s = message.stats
    if s is None:
        return ""
    parts = [
        f"{s.tokens_per_second:.1f} tokens/s",
        f"{s.thinking_tokens:,} thinking + {s.answer_tokens:,} answer tokens",
        f"{s.total_s:.1f} s in all",
    ]
    where = " · ".join(x for x in (message.model, message.backend) if x)
    return " · ".join([*parts, where] if where else parts)


def _finish_note(message: Message) -> str:
    finish = message.finish_reason
    value = finish.value if finish is not None else ""
    if value == "length":
        return "*The answer reached its token limit.*"
    if value == "context_full":
        return "*The context window was full.*"
    if value == "cancelled" and message.status is not MessageStatus.INTERRUPTED:
        return "*Stopped.*"
    if value == "stop" and not message.text.strip() and message.status is MessageStatus.COMPLETE:
        return "*The model ended without an answer.*"
    return ""


_STATUS_NOTE = {
    MessageStatus.INTERRUPTED: "*This answer was interrupted before it finished.*",
    MessageStatus.STREAMING: "*This answer was still being written.*",
}


def _answer_versions(messages: Sequence[Message]) -> dict[int, tuple[int, int, bool]]:
    """For each answer (by position in ``messages``): which version of its question's
    answers it is, how many there are (a regenerated answer is stored after the earlier
    one), and whether it is the chosen one."""
    out: dict[int, tuple[int, int, bool]] = {}
    for group in answer_groups(messages):
        for k, i in enumerate(group.answers):
            out[i] = (k + 1, len(group.answers), k == group.chosen)
    return out


def _answer_heading(version: int, count: int, chosen: bool) -> str:
    if count == 1:
        return "## Answer"
    return f"## Answer (version {version} of {count}{', chosen' if chosen else ''})"


def to_markdown(conversation: Conversation, messages: Sequence[Message], *, reasoning: bool) -> str:
    """The conversation as Markdown: questions and answers, reasoning as quoted blocks; the
    versions of a regenerated answer are numbered and the chosen one is said."""
    lines = [f"# {conversation.display_title}", ""]
    model = conversation.model or next((m.model for m in messages if m.model), None)
    about = f"Exported from s1desk · started {conversation.created:%Y-%m-%d %H:%M} UTC"
    lines += [f"*{about}{f' · {model}' if model else ''}*", ""]
    versions = _answer_versions(messages)
    for i, message in enumerate(messages):
        if message.role == "user":
            lines += ["## Question", "", message.text, ""]
            continue
        lines += [_answer_heading(*versions[i]), ""]
        if reasoning and message.reasoning:
            lines += [
                f"> **Reasoning**{_thinking_note(message)}",
                ">",
                _quote(_marked_reasoning(message)),
                "",
            ]
        if message.text:
            lines += [message.text, ""]
        if message.status in _STATUS_NOTE:
            lines += [_STATUS_NOTE[message.status], ""]
        if message.status is MessageStatus.ERROR and message.error is not None:
            lines += [f"*The answer failed: {message.error.message}*", ""]
        note = _finish_note(message)
        if note:
            lines += [note, ""]
        stats = _stats_line(message)
        if stats:
            lines += [f"*{stats}*", ""]
    return "\n".join(lines).rstrip("\n") + "\n"
