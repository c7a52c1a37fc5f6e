"""A conversation as data: turns, live assistant messages, the requests they make (no Qt)."""
