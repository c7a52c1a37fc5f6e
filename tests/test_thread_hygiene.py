"""The leaked-thread check (support.thread_fixtures) catches the app's own workers."""

from __future__ import annotations

import asyncio
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig
from support.threads import leaked_threads

pytest_plugins = ["pytester"]


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_a_running_app_daemon_thread_is_a_leak(stop: threading.Event) -> None:
    before = set(threading.enumerate())
    worker = threading.Thread(target=stop.wait, name="s1desk-store-checkpoint", daemon=True)
    worker.start()
    assert leaked_threads(before, grace=0.05) == ["s1desk-store-checkpoint"]
    stop.set()
    worker.join()
    assert leaked_threads(before, grace=0.05) == []


def test_other_daemon_threads_are_not_ours_to_judge(stop: threading.Event) -> None:
    before = set(threading.enumerate())
    threading.Thread(target=stop.wait, name="somebody-else", daemon=True).start()
    assert leaked_threads(before, grace=0.05) == []


def test_a_non_daemon_thread_is_a_leak(stop: threading.Event) -> None:
    before = set(threading.enumerate())
    worker = threading.Thread(target=stop.wait, name="anything")
    worker.start()
    assert leaked_threads(before, grace=0.05) == ["anything"]
    stop.set()
    worker.join()


@pytest.mark.model
def test_an_engine_backend_leaves_no_thread_once_closed(
    runner: asyncio.Runner, model_path: Path
) -> None:
    """The engine's output reader is a daemon, but the app's: open, it counts; closed, gone.
    (Replies are read on the event loop itself, with no thread.)"""
    before = set(threading.enumerate())
    backend = runner.run(LocalBackend.load(LocalModelConfig(path=model_path, n_ctx=512)))
    try:
        assert sorted(leaked_threads(before, grace=0.05)) == ["s1desk-engine-output"]
    finally:
        runner.run(backend.aclose())
    assert leaked_threads(before, grace=0.05) == []


def test_a_test_leaving_an_app_worker_fails_and_a_session_fixtures_worker_does_not(
    pytester: pytest.Pytester,
) -> None:
    # As here: the conftest in tests/, below the root; the session's fixture asked for by name.
    tests = pytester.mkdir("tests")
    (tests / "conftest.py").write_text((Path(__file__).parent / "conftest.py").read_text())
    (tests / "test_threads.py").write_text(
        textwrap.dedent(
            """
            import threading
            import pytest

            STOP = threading.Event()

            @pytest.fixture(scope="session")
            def session_backend():
                worker = threading.Thread(target=STOP.wait, name="s1desk-llama_0", daemon=True)
                worker.start()
                yield worker
                STOP.set()

            @pytest.fixture
            def backend(request):  # as tests/backends/conftest.py picks one, after the check began
                return request.getfixturevalue("session_backend")

            def test_uses_the_session_backend(backend):
                assert backend.is_alive()

            def test_leaves_a_worker():
                threading.Thread(target=STOP.wait, name="s1desk-download-x", daemon=True).start()
            """
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "tests")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.re_match_lines([r".*threads left running: \['s1desk-download-x'\]"])
