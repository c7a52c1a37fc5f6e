"""Turning model output into safe HTML for the transcript (no Qt)."""
