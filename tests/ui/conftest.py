"""The Qt fixtures (one QApplication with asyncio on it, windows, hygiene) for these tests."""

from support.qt_fixtures import (  # noqa: F401 (fixtures, found by pytest by name)
    _no_leftover_timers_or_tasks,
    arun,
    qapp,
    qloop,
    s1desk_home,
    windows,
)
