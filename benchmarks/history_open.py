"""Opening a large history and searching it: the figures the window depends on.

Builds a history of 1,000 conversations and 20,000 messages (questions of a
few hundred characters, answers of a couple of thousand, reasoning of a few
thousand to tens of thousands, like s1's), then measures, each against a
baseline measured in the same run:

- opening the store and listing the first page of conversations (what the
  window needs to be usable; target well under 1 s), against opening the
  file with plain sqlite3 and running ``SELECT count(*) FROM messages``;
- full-text search (target < 100 ms), against the same words found with a
  ``LIKE`` scan of the questions, answers and reasoning;
- one recorder flush while an answer with long reasoning streams (it runs on
  the GUI thread; target well under 10 ms), against the same flushes with
  SQLite's default in-commit checkpoints.

What each side does and does not do: opening runs the store's migrations check,
lists a page of 50 conversations and reads the first one's messages; the
baseline only connects and counts. Search finds the newest page of 20 through
FTS5 and cuts the snippets in Python; the ``LIKE`` baseline counts every match
with no index and no snippets (what search costs without FTS5), and a third
side cuts the same page's snippets with FTS5's ``snippet()`` instead (what the
store's Python snippets save). Every pair runs in rounds, the first rotating.

Usage: .venv/bin/python benchmarks/history_open.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import median, parse_args, report, rotated
from s1desk.chat.recording import Recording, start_recording
from s1desk.events import AnswerText, Done, Stats, ThinkingEnd, ThinkingText, WaitInjected
from s1desk.sampling import SamplerSettings
from s1desk.store import (
    Conversation,
    HistoryStore,
    Message,
    MessageStatus,
    WaitMark,
)
from s1desk.store.records import ThinkingEndMark
from s1desk.store.search import fts_query as search_query
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.thinking.policy import BudgetPolicy

CONVERSATIONS = 1_000
EXCHANGES = 10  # 20 messages per conversation
PAGE = 50
SEARCH_PAGE = 20  # results the sidebar shows at once
QUERIES = ["eigenvalue", "integral converges", "prime factor", "wavefunc", "zebra"]
RARE = "zebra"  # planted in a few reasoning texts only

WORDS = [
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "be",
    "by",
    "on",
    "not",
    "this",
    "are",
    "or",
    "we",
    "let",
    "so",
    "then",
    "if",
    "but",
    "check",
    "wait",
    "number",
    "sum",
    "value",
    "function",
    "equation",
    "integral",
    "derivative",
    "limit",
    "series",
    "converges",
    "prime",
    "factor",
    "divisor",
    "modulo",
    "matrix",
    "eigenvalue",
    "vector",
    "space",
    "probability",
    "expected",
    "variance",
    "triangle",
    "angle",
    "radius",
    "circle",
    "area",
    "volume",
    "polynomial",
    "root",
    "coefficient",
    "sequence",
    "recurrence",
    "induction",
    "proof",
    "lemma",
    "assume",
    "therefore",
    "hence",
    "compute",
    "simplify",
    "substitute",
    "case",
    "odd",
    "even",
    "square",
    "cube",
    "energy",
    "momentum",
    "wavefunction",
    "entropy",
    "temperature",
    "reaction",
    "molecule",
    "electron",
    "orbital",
    "bond",
    "acid",
    "base",
    "python",
    "code",
    "loop",
    "array",
    "index",
    "return",
    "answer",
    "final",
    "maybe",
    "actually",
    "hmm",
    "right",
    "correct",
    "mistake",
    "again",
]


def text(rng: random.Random, chars: int) -> str:
    words: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
        if rng.random() < 0.08:
            words[-1] += "."
    return " ".join(words)


def build(path: Path, seed: int = 1) -> float:
    rng = random.Random(seed)
    policy = BudgetPolicy(max_thinking=8000, min_thinking=1000)
    sampler = SamplerSettings()
    start = time.perf_counter()
    base = datetime(2025, 1, 1, tzinfo=UTC)
    with HistoryStore.open(path) as store:
        for c in range(CONVERSATIONS):
            when = base + timedelta(hours=8 * c)
            messages: list[Message] = []
            for e in range(EXCHANGES):
                at = when + timedelta(minutes=3 * e)
                question = text(rng, rng.randint(60, 600))
                reasoning = text(rng, rng.randint(2_000, 24_000))
                if rng.random() < 0.002:
                    reasoning += f" {RARE}"
                wait_at = len(reasoning) // 2
                reasoning = reasoning[:wait_at] + "Wait" + reasoning[wait_at:]
                tokens = len(reasoning) // 4
                messages.append(Message(0, 0, 2 * e, "user", question, at, at))
                messages.append(
                    Message(
                        0,
                        0,
                        2 * e + 1,
                        "assistant",
                        text(rng, rng.randint(300, 4_000)),
                        at,
                        at + timedelta(seconds=tokens / 40),
                        MessageStatus.COMPLETE,
                        reasoning,
                        (WaitMark(1, tokens // 2, wait_at, "Wait"),),
                        ThinkingEndMark(CloseReason.NATURAL, tokens, len(reasoning)),
                        policy,
                        sampler,
                        Stats(200, 0, tokens, 300, 1, 0.2, tokens / 40, tokens / 35, 38.0),
                        None,
                        "local",
                        "s1.1-7B-Q4_K_M.gguf",
                        FinishReason.STOP,
                    )
                )
            title = f"Conversation {c}: {messages[0].text[:40]}"
            store.insert_conversation(Conversation(0, title, when, messages[-1].updated), messages)
    return time.perf_counter() - start


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def alternated(sides: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Time each side once a round, ``repeat`` rounds, the first rotating."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    for r in range(repeat):
        for name in rotated(list(sides), r):
            times[name] += timed(sides[name], 1)
    return times


def fts5_snippets(db: sqlite3.Connection, query: str, ids: list[int]) -> None:
    """The page's snippets cut by FTS5's ``snippet()`` (one query a message, both columns)."""
    fts = search_query(query)
    assert fts is not None
    tags = "'[', ']', '…', 12"
    for message_id in ids:
        db.execute(
            f"SELECT snippet(messages_search, 0, {tags}), snippet(messages_search, 1, {tags}) "
            "FROM messages_search WHERE messages_search MATCH ? AND rowid = ?",
            (fts, message_id),
        ).fetchone()


def open_first_page(path: Path) -> None:
    with HistoryStore.open(path) as store:
        page = store.list_conversations(0, PAGE)
        assert len(page) == PAGE
        store.messages(page[0].id)  # the conversation the window shows first


def count_scan(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("SELECT count(*) FROM messages").fetchone()
    db.close()


def like_search(db: sqlite3.Connection, words: list[str]) -> int:
    """The search without an index: every question, answer and reasoning scanned."""
    clause = " AND ".join("(text LIKE ? OR reasoning LIKE ?)" for _ in words)
    args = [f"%{w}%" for w in words for _ in range(2)]
    (count,) = db.execute(f"SELECT count(*) FROM messages WHERE {clause}", args).fetchone()
    return int(count)


def flush_costs(path: Path, *, inline_checkpoints: bool = False) -> list[float]:
    """Time each recorder write while a 24,000-character reasoning streams.

    ``inline_checkpoints`` restores SQLite's default, where the commit that
    crosses the log threshold checkpoints: the baseline for the store's
    checkpoint thread.
    """
    costs: list[float] = []
    with HistoryStore.open(path) as store:
        if inline_checkpoints:
            store._db.execute("PRAGMA wal_autocheckpoint = 1000")
        conversation = store.create_conversation()
        store.add_question(conversation.id, "A long one")

        class Timed:
            def save_answer(self, message_id: int, snapshot: Any) -> None:
                start = time.perf_counter()
                store.save_answer(message_id, snapshot)
                costs.append(time.perf_counter() - start)

        first = start_recording(store, conversation.id)
        # Flush every 16 tokens: far more often than the 0.5 s default, to get many samples.
        recorder = Recording(Timed(), first.message_id, first.message, flush_events=16)
        rng = random.Random(2)
        for i in range(6_000):
            recorder.feed(ThinkingText(rng.choice(WORDS) + " "))
            if i == 3_000:
                recorder.feed(WaitInjected("Wait", i, 1))
        recorder.feed(ThinkingEnd(CloseReason.NATURAL, 6_001))
        for _ in range(600):
            recorder.feed(AnswerText(rng.choice(WORDS) + " "))
        recorder.feed(Done(FinishReason.STOP))
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the history in DIR and keep it")
    args = parse_args(parser)
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "history.sqlite3"
        path.unlink(missing_ok=True)
        build_s = build(path)
        size_mb = path.stat().st_size / 1e6
        with sqlite3.connect(path) as db:
            (messages,) = db.execute("SELECT count(*) FROM messages").fetchone()
            (conversations,) = db.execute("SELECT count(*) FROM conversations").fetchone()
            (chars,) = db.execute(
                "SELECT sum(length(text) + length(reasoning)) FROM messages"
            ).fetchone()
        db.close()

        opened = alternated(
            {"open": lambda: open_first_page(path), "count": lambda: count_scan(path)}, 15
        )
        open_times, count_times = opened["open"], opened["count"]

        searches: dict[str, dict[str, float]] = {}
        with HistoryStore.open(path) as store:
            like_db = sqlite3.connect(path)
            for query in QUERIES:
                found = store.search(query, limit=SEARCH_PAGE)
                ids = [hit.message_id for hit in found]
                words = query.split()
                ts = alternated(
                    {
                        "fts": lambda q=query: store.search(q, limit=SEARCH_PAGE),  # type: ignore[misc]
                        "fts5_snippet": lambda q=query, i=ids: fts5_snippets(like_db, q, i),  # type: ignore[misc]
                        "like": lambda w=words: like_search(like_db, w),  # type: ignore[misc]
                    },
                    5,
                )
                fts, like = ts["fts"], ts["like"]
                searches[query] = {
                    "hits_on_first_page": len(found),
                    "fts_ms_median": round(median(fts) * 1000, 2),
                    "fts5_snippet_page_ms_median": round(median(ts["fts5_snippet"]) * 1000, 2),
                    "like_scan_ms_median": round(median(like) * 1000, 1),
                    "fts_over_like": round(median(fts) / median(like), 4),
                }
            like_db.close()
        flushes: dict[str, list[float]] = {"thread": [], "inline": []}
        for r in range(2):
            for side in rotated(["thread", "inline"], r):
                flushes[side] += flush_costs(path, inline_checkpoints=side == "inline")
        costs, inline = sorted(flushes["thread"]), sorted(flushes["inline"])

    fts_worst = max(s["fts_ms_median"] for s in searches.values())
    report(
        "history_open",
        {
            "history": {
                "conversations": conversations,
                "messages": messages,
                "text_and_reasoning_mb": round(chars / 1e6, 1),
                "database_mb": round(size_mb, 1),
                "build_s": round(build_s, 1),
            },
            "open_and_first_page_ms_median": round(median(open_times) * 1000, 2),
            "open_and_first_page_ms_max": round(max(open_times) * 1000, 2),
            "baseline_connect_and_count_ms_median": round(median(count_times) * 1000, 2),
            "open_over_baseline": round(median(open_times) / median(count_times), 2),
            "search": searches,
            "search_ms_worst_median": fts_worst,
            "recorder_flush": {
                "flushes": len(costs),
                "ms_median": round(median(costs) * 1000, 3),
                "ms_p99": round(costs[int(len(costs) * 0.99)] * 1000, 3),
                "ms_max": round(costs[-1] * 1000, 3),
                "baseline_inline_checkpoint_ms_p99": round(
                    inline[int(len(inline) * 0.99)] * 1000, 3
                ),
                "baseline_inline_checkpoint_ms_max": round(inline[-1] * 1000, 3),
            },
        },
    )


if __name__ == "__main__":
    main()
