"""Full-text search over questions, answers and reasoning (SQLite FTS5)."""

from __future__ import annotations

import re
import sqlite3

from s1desk.store import codec
from s1desk.store.records import SearchField, SearchHit, SnippetPart

_OPEN = "\x02"
_CLOSE = "\x03"
#: Words around the match in a snippet.
SNIPPET_TOKENS = 12

_TERM = re.compile(r'"([^"]*)"?|(\w+)')
_WORD = re.compile(r"\w+")


def fts_query(text: str) -> str | None:
    """Turn what a person typed into a safe FTS5 query, or ``None`` if it has no words.

    Every word must appear (in any order); ``"double quotes"`` ask for a
    phrase; the last word matches as a prefix while it is being typed. FTS5
    operators and punctuation typed by the user are taken as plain text.
    """
    terms: list[str] = []
    for match in _TERM.finditer(text):
        phrase, word = match.groups()
        words = _WORD.findall(phrase if phrase is not None else word)
        if words:
            terms.append('"' + " ".join(words) + '"')
    if not terms:
        return None
    last_is_word = bool(re.search(r"\w$", text))
    if last_is_word:
        terms[-1] += "*"
    return " ".join(terms)


def _parts(snippet: str) -> tuple[SnippetPart, ...]:
    parts: list[SnippetPart] = []
    for i, chunk in enumerate(re.split(f"[{_OPEN}{_CLOSE}]", snippet)):
        if chunk:
            parts.append(SnippetPart(chunk, match=i % 2 == 1))
    return tuple(parts)


def search(
    db: sqlite3.Connection, text: str, *, limit: int = 50, offset: int = 0
) -> list[SearchHit]:
    """Messages matching ``text``, newest first, outside the trash, with snippets."""
    query = fts_query(text)
    if query is None:
        return []
    # Rank newest first with only ids, then build snippets for the page alone:
    # snippets cost far more than matching, and a common word matches thousands.
    ids = [
        row[0]
        for row in db.execute(
            """
            SELECT m.id FROM messages_search AS s
            JOIN messages AS m ON m.id = s.rowid
            JOIN conversations AS c ON c.id = m.conversation_id
            WHERE messages_search MATCH ? AND c.deleted IS NULL
            ORDER BY m.created DESC, m.id DESC
            LIMIT ? OFFSET ?
            """,
            (query, limit, offset),
        )
    ]
    if not ids:
        return []
    marks = f"'{_OPEN}', '{_CLOSE}', '…', {SNIPPET_TOKENS}"
    rows = db.execute(
        f"""
        SELECT s.rowid, m.conversation_id, c.title, m.role, m.created,
               snippet(messages_search, 0, {marks}), snippet(messages_search, 1, {marks})
        FROM messages_search AS s
        JOIN messages AS m ON m.id = s.rowid
        JOIN conversations AS c ON c.id = m.conversation_id
        WHERE messages_search MATCH ? AND s.rowid IN ({",".join("?" * len(ids))})
        """,
        (query, *ids),
    ).fetchall()
    by_id = {row[0]: row for row in rows}
    hits: list[SearchHit] = []
    for message_id in ids:
        row = by_id.get(message_id)
        if row is None:
            continue
        _, conversation_id, title, role, created, in_text, in_reasoning = row
        field: SearchField
        if _OPEN in in_text:
            field, snippet = ("question" if role == "user" else "answer"), in_text
        else:
            field, snippet = "reasoning", in_reasoning
        hits.append(
            SearchHit(
                message_id=message_id,
                conversation_id=conversation_id,
                conversation_title=title,
                role=role,
                field=field,
                snippet=_parts(snippet),
                created=codec.moment(created),
            )
        )
    return hits
