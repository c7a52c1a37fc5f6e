"""The cancel token wakes its waiters from any thread, once, and can be withdrawn from."""

from __future__ import annotations

import threading

from s1desk.backends.cancel import CancelToken


def test_callbacks_run_once_when_cancelled() -> None:
    token = CancelToken()
    calls: list[str] = []
    token.on_cancel(lambda: calls.append("a"))
    token.on_cancel(lambda: calls.append("b"))
    assert calls == []
    token.cancel()
    token.cancel()
    assert calls == ["a", "b"]
    assert token.cancelled


def test_a_callback_added_after_the_cancel_runs_at_once() -> None:
    token = CancelToken()
    token.cancel()
    calls: list[int] = []
    withdraw = token.on_cancel(lambda: calls.append(1))
    assert calls == [1]
    withdraw()  # harmless


def test_a_withdrawn_callback_never_runs() -> None:
    token = CancelToken()
    calls: list[str] = []
    withdraw = token.on_cancel(lambda: calls.append("gone"))
    token.on_cancel(lambda: calls.append("kept"))
    withdraw()
    token.cancel()
    assert calls == ["kept"]


def test_the_callback_runs_on_the_thread_that_cancels() -> None:
    token = CancelToken()
    seen: list[str] = []
    token.on_cancel(lambda: seen.append(threading.current_thread().name))
    worker = threading.Thread(target=token.cancel, name="canceller")
    worker.start()
    worker.join()
    assert seen == ["canceller"]


def test_a_callback_may_cancel_again_without_deadlock() -> None:
    token = CancelToken()
    calls: list[int] = []

    def again() -> None:
        token.cancel()  # e.g. a signal handler firing inside the callback
        calls.append(1)

    token.on_cancel(again)
    token.cancel()
    assert calls == [1]
