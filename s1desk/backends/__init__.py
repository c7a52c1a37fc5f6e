"""Backends that run a generation request and stream events back (no Qt)."""
