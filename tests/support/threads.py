"""Which threads a test left running: the check behind tests/conftest.py's leak fixture."""

from __future__ import annotations

import threading

#: Prefix of every thread the app starts itself (llama.cpp worker, checkpointer, downloads).
APP_THREAD_PREFIX = "s1desk-"

#: Threads started while a fixture wider than one test was set up (a session's backend):
#: they belong to that fixture, not to the test that first asked for it.
FIXTURE_THREADS: set[threading.Thread] = set()


def leaked_threads(before: set[threading.Thread], grace: float = 5.0) -> list[str]:
    """Threads started since ``before`` that are still running after ``grace`` seconds.

    Any new non-daemon thread counts, and so does every thread of the app's own
    (named ``s1desk-…``), daemon or not: a worker left behind by a closed
    backend, store or download is a leak even when it would not block exit.
    """
    new = [
        t
        for t in threading.enumerate()
        if t not in before
        and t not in FIXTURE_THREADS
        and t.is_alive()
        and (not t.daemon or t.name.startswith(APP_THREAD_PREFIX))
    ]
    for t in new:
        t.join(timeout=grace)
    return [t.name for t in new if t.is_alive()]
