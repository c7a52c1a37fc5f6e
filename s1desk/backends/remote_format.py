"""A thinking format on one server: its markup and the token ids the server has for it."""

from __future__ import annotations

from dataclasses import dataclass

from s1desk.thinking.formats import ThinkingFormat


@dataclass(frozen=True, slots=True)
class ServerFormat:
    """A thinking format on one server: its markup and the ids it has for it.

    ``stop_ids`` are the format's control tokens on this server (they end a
    block, and plain text may never yield them); ``marker_ids`` the format's
    end-of-thinking markers that are one token there (``</think>`` in Qwen3's
    vocabulary). Markers that are several tokens are stop strings.
    """

    format: ThinkingFormat
    stop_ids: list[int]
    marker_ids: list[int]

    @property
    def control_ids(self) -> list[int]:
        return [*self.stop_ids, *self.marker_ids]
