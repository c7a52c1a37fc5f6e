"""Full-text search over questions, answers and reasoning (SQLite FTS5)."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from s1desk.store import rows
from s1desk.store.records import SearchField, SearchHit, SnippetPart

_OPEN = "\x02"
_CLOSE = "\x03"
#: Words around the match in an FTS5 snippet; characters around it in ours.
SNIPPET_TOKENS = 12
SNIPPET_BEFORE = 50
SNIPPET_AFTER = 110

_TERM = re.compile(r'"([^"]*)"?|(\w+)')
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Query:
    """What a person typed, as FTS5 syntax and as a pattern that finds the words in text."""

    fts: str
    words: tuple[str, ...]

    @property
    def pattern(self) -> re.Pattern[str]:
        # Any word, as a word start (the last one may be half typed; a stem matches too).
        alternatives = "|".join(re.escape(w) for w in sorted(self.words, key=len, reverse=True))
        return re.compile(rf"\b(?:{alternatives})\w*", re.IGNORECASE)


def parse(text: str) -> Query | None:
    """Turn what a person typed into a safe FTS5 query, or ``None`` if it has no words.

    Every word must appear (in any order); ``"double quotes"`` ask for a
    phrase; the last word matches as a prefix while it is being typed. FTS5
    operators and punctuation typed by the user are taken as plain text.
    """
    terms: list[str] = []
    words: list[str] = []
    for match in _TERM.finditer(text):
        phrase, word = match.groups()
        found = _WORD.findall(phrase if phrase is not None else word)
        if found:
            terms.append('"' + " ".join(found) + '"')
            words += found
    if not terms:
        return None
    if re.search(r"\w$", text):
        terms[-1] += "*"
    return Query(" ".join(terms), tuple(words))


def fts_query(text: str) -> str | None:
    """The FTS5 query for ``text`` (see :func:`parse`)."""
    query = parse(text)
    return None if query is None else query.fts


def _parts(snippet: str) -> tuple[SnippetPart, ...]:
    parts: list[SnippetPart] = []
    for i, chunk in enumerate(re.split(f"[{_OPEN}{_CLOSE}]", snippet)):
        if chunk:
            parts.append(SnippetPart(chunk, match=i % 2 == 1))
    return tuple(parts)


def snippet(text: str, pattern: re.Pattern[str]) -> tuple[SnippetPart, ...] | None:
    """A window of ``text`` around the first match, matches marked; ``None`` if none.

    Done here rather than with FTS5's ``snippet()``, which tokenizes the whole
    column: reasoning runs to tens of thousands of characters.
    """
    first = pattern.search(text)
    if first is None:
        return None
    start = max(0, first.start() - SNIPPET_BEFORE)
    end = min(len(text), first.end() + SNIPPET_AFTER)
    if start > 0:
        space = text.find(" ", start, first.start())
        start = space + 1 if space >= 0 else start
    if end < len(text):
        space = text.rfind(" ", first.end(), end)
        end = space if space >= 0 else end
    window = " ".join(text[start:end].split())
    parts: list[SnippetPart] = []
    if start > 0:
        parts.append(SnippetPart("…", match=False))
    at = 0
    for match in pattern.finditer(window):
        if match.start() > at:
            parts.append(SnippetPart(window[at : match.start()], match=False))
        parts.append(SnippetPart(match.group(), match=True))
        at = match.end()
    if at < len(window):
        parts.append(SnippetPart(window[at:], match=False))
    if end < len(text):
        parts.append(SnippetPart("…", match=False))
    return tuple(parts)


def search(
    db: sqlite3.Connection, text: str, *, limit: int = 20, offset: int = 0
) -> list[SearchHit]:
    """Messages matching ``text``, newest first, outside the trash, with snippets."""
    query = parse(text)
    if query is None:
        return []
    # Newest first: walk the (created, id) index down and keep the messages
    # that matched, which stops after one page even when thousands match.
    found = db.execute(
        """
        SELECT m.id, m.conversation_id, m.role, m.created
        FROM messages AS m INDEXED BY messages_by_created
        WHERE m.id IN (SELECT rowid FROM messages_search WHERE messages_search MATCH ?)
          AND m.conversation_id NOT IN (SELECT id FROM conversations WHERE deleted IS NOT NULL)
        ORDER BY m.created DESC, m.id DESC
        LIMIT ? OFFSET ?
        """,
        (query.fts, limit, offset),
    ).fetchall()
    if not found:
        return []
    ids = [row[0] for row in found]
    conversations = sorted({row[1] for row in found})
    titles: dict[int, str] = dict(
        db.execute(
            f"SELECT id, title FROM conversations WHERE id IN ({_marks(conversations)})",
            conversations,
        ).fetchall()
    )
    texts: dict[int, tuple[str, str]] = {
        row[0]: (row[1], row[2])
        for row in db.execute(
            f"SELECT id, text, reasoning FROM messages WHERE id IN ({_marks(ids)})", ids
        )
    }
    pattern = query.pattern
    hits: list[SearchHit] = []
    for message_id, conversation_id, role, created in found:
        field: SearchField = "question" if role == "user" else "answer"
        message_text, reasoning = texts[message_id]
        parts = snippet(message_text, pattern)
        if parts is None:
            parts = snippet(reasoning, pattern)
            field = "reasoning" if parts is not None else field
        if parts is None:  # matched through stemming or folded accents: ask FTS5
            field, parts = _fts_snippet(db, query, message_id, field)
        hits.append(
            SearchHit(
                message_id=message_id,
                conversation_id=conversation_id,
                conversation_title=titles[conversation_id],
                role=role,
                field=field,
                snippet=parts,
                created=rows.safe_moment(created),
            )
        )
    return hits


def _fts_snippet(
    db: sqlite3.Connection, query: Query, message_id: int, text_field: SearchField
) -> tuple[SearchField, tuple[SnippetPart, ...]]:
    tags = f"'{_OPEN}', '{_CLOSE}', '…', {SNIPPET_TOKENS}"
    in_text, in_reasoning = db.execute(
        f"SELECT snippet(messages_search, 0, {tags}), snippet(messages_search, 1, {tags}) "
        "FROM messages_search WHERE messages_search MATCH ? AND rowid = ?",
        (query.fts, message_id),
    ).fetchone()
    if _OPEN in in_text:
        return text_field, _parts(in_text)
    return "reasoning", _parts(in_reasoning)


def _marks(values: list[int]) -> str:
    return ",".join("?" * len(values))
