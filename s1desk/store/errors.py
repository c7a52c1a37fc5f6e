"""Errors of the conversation store, part of s1desk's one exception tree."""

from __future__ import annotations

from s1desk.errors import S1DeskError


class StoreError(S1DeskError):
    """The history database could not be read or written; the message says why."""


class StoreFullError(StoreError):
    """The disk (or the database's size limit) is full; nothing more can be saved."""


class StoreReadOnlyError(StoreError):
    """The database is read-only (file permissions, a read-only mount or open mode)."""


class StoreCorruptError(StoreError):
    """The file is not an s1desk history database, or it is damaged."""


class StoreVersionError(StoreError):
    """The database was written by a newer s1desk with migrations this one lacks."""


class NotFoundError(StoreError, LookupError):
    """No conversation or message with that id (or it was deleted)."""


class ImportFormatError(StoreError, ValueError):
    """A file to import is not a valid s1desk conversation export; says where and why."""
