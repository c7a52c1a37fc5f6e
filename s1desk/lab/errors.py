"""Errors of the scaling lab, part of s1desk's one exception tree."""

from __future__ import annotations

from s1desk.errors import S1DeskError


class LabError(S1DeskError):
    """An evaluation could not be set up or continued; the message says why."""


class SourceError(LabError):
    """A question set is missing, malformed or cannot be fetched."""


class RunDirectoryError(LabError):
    """The output directory holds another run, or a run that does not match this one."""
