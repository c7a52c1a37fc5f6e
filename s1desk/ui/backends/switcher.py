"""Switching the chat between the local model and saved remote servers, keeping the chat."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal

from s1desk import connections
from s1desk.backends.base import Backend
from s1desk.chat.controller import ChatController
from s1desk.connections import KeyStore, SavedServer, ServersFileError, ServerStore
from s1desk.errors import S1DeskError
from s1desk.ui.backends.switch_box import (
    BUSY_TIP,
    LOCAL,
    MANAGE,
    BackendBox,
    BackendChoice,
    remote_key,
)
from s1desk.ui.kit.tasks import Tasks

log = logging.getLogger(__name__)


class BackendSwitcher(QObject):
    """Owns the local backend and one connection per saved server, and tells the
    controller which one answers.

    The conversation lives in the controller's session, so a switch keeps it:
    the next request carries the whole history to the other backend. The local
    model stays loaded while a server answers. Switching is refused while a
    reply is being written (the selector is disabled and says so); the user
    stops it first. Every backend here is closed by :meth:`shutdown`.
    """

    problem = Signal(str)  # for the window's banner
    connecting = Signal(str)  # the server's label; "" when done
    context_known = Signal(int)  # the new backend's maximum context, in tokens
    manage = Signal()  # "Remote servers…" was picked in the selector

    def __init__(
        self,
        controller: ChatController,
        servers: ServerStore | None = None,
        keys: KeyStore | Callable[[], KeyStore] = KeyStore,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.store = servers or ServerStore()
        self._keys = keys
        self.box = BackendBox()
        self.local: Backend | None = None
        self._remotes: dict[str, tuple[SavedServer, Backend]] = {}
        self._active = LOCAL
        self._connect_task: asyncio.Task[None] | None = None
        self._tasks = Tasks()
        self._servers: list[SavedServer] = []
        self.box.chosen.connect(self.choose)
        controller.busy_changed.connect(self._busy_changed)
        self.reload()

    # -- what is there -------------------------------------------------------------

    @property
    def keys(self) -> KeyStore:
        """The key store, made on first use (asking the system keyring takes a moment)."""
        if not isinstance(self._keys, KeyStore):
            self._keys = self._keys()
        return self._keys

    @property
    def servers(self) -> list[SavedServer]:
        return list(self._servers)

    @property
    def active(self) -> str:
        """The key of the backend in use: ``local`` or ``remote:<id>``."""
        return self._active

    @property
    def connecting_now(self) -> bool:
        return self._connect_task is not None and not self._connect_task.done()

    def reload(self) -> None:
        """Read the saved servers again and rebuild the selector."""
        try:
            self._servers = self.store.load()
        except ServersFileError as exc:
            self._servers = []
            self.problem.emit(str(exc))
        ids = {s.id: s for s in self._servers}
        if self._active != LOCAL and self._active not in {remote_key(i) for i in ids}:
            self._fall_back(edited=False)
        for server_id, (saved, backend) in list(self._remotes.items()):
            if ids.get(server_id) != saved:  # removed or edited: that connection is stale
                del self._remotes[server_id]
                if self._active == remote_key(server_id):
                    self._fall_back(edited=True)
                self._retire(backend)
        self._rebuild()

    def choices(self) -> list[BackendChoice]:
        local = self.local.name.split(" · ")[0] if self.local is not None else "no model loaded"
        items = [BackendChoice(LOCAL, f"Local: {local}")]
        for s in self._servers:
            model = s.model or "the server's model"
            items.append(BackendChoice(remote_key(s.id), f"Remote: {s.label} · {model}"))
        items.append(BackendChoice(MANAGE, "Remote servers…"))
        return items

    # -- switching -------------------------------------------------------------------

    def use_local(self, backend: Backend | None) -> None:
        """A newly loaded local model: it replaces the old one (closed once idle) and answers."""
        previous, self.local = self.local, backend
        if previous is not None and previous is not backend:
            self._retire(previous)
        self._active = LOCAL
        self._attach(backend)
        self._rebuild()

    def choose(self, key: str) -> None:
        """Switch to ``key`` (from the selector); refused while a reply is written."""
        if key == MANAGE:
            self.box.show_current(self._active)
            self.manage.emit()
            return
        if self.controller.busy:
            self.box.show_current(self._active)
            self.problem.emit(f"A reply is being written. {BUSY_TIP}")
            return
        if self.connecting_now:
            self.box.show_current(self._active)
            return
        if key == LOCAL:
            if self.local is None:
                self.box.show_current(self._active)
                self.problem.emit(
                    "No local model is loaded: open one (Model ▸ Open model…, Ctrl+O) "
                    "or get one (Ctrl+M)."
                )
                return
            self._active = LOCAL
            self._attach(self.local)
            self.box.show_current(LOCAL)
            return
        server = next((s for s in self._servers if remote_key(s.id) == key), None)
        if server is None:
            self.box.show_current(self._active)
            return
        cached = self._remotes.get(server.id)
        if cached is not None and cached[0] == server:
            self._active = key
            self._attach(cached[1])
            self.box.show_current(key)
            return
        self._connect_task = self._spawn(self._connect(server))

    async def switch_to(self, key: str) -> None:
        """Switch and wait until it is done (the connection made or refused)."""
        self.choose(key)
        task = self._connect_task
        if task is not None:
            await asyncio.shield(task)

    async def _connect(self, server: SavedServer) -> None:
        key = remote_key(server.id)
        self.box.setEnabled(False)
        self.connecting.emit(server.label)
        try:
            backend: Backend = await connections.connect(server, self.keys)
        except S1DeskError as exc:
            self.box.show_current(self._active)
            self.problem.emit(f"Could not switch to {server.label}: {exc}")
            return
        except Exception as exc:
            log.exception("connecting to %s failed", server.base_url)
            self.box.show_current(self._active)
            self.problem.emit(f"Could not switch to {server.label}: {exc}")
            return
        finally:
            self.connecting.emit("")
            self.box.set_busy(self.controller.busy)
        self._remotes[server.id] = (server, backend)
        if self.controller.busy:  # a reply started meanwhile: keep the connection for later
            self.box.show_current(self._active)
            return
        self._active = key
        self._attach(backend)
        self.box.show_current(key)

    def _attach(self, backend: Backend | None) -> None:
        self.controller.set_backend(backend)
        limit = _context_of(backend)
        if limit:
            self.context_known.emit(limit)

    def _fall_back(self, edited: bool) -> None:
        """The server in use was removed or edited: back to the local model (or none)."""
        self._active = LOCAL
        self._attach(self.local)
        what = "changed" if edited else "removed"
        self.problem.emit(
            f"The server in use was {what}: replies now come from the local model"
            + ("" if self.local else " (none is loaded)")
            + (". Pick it again to connect with the new settings." if edited else ".")
        )

    def _rebuild(self) -> None:
        self.box.set_choices(self.choices(), self._active)

    def _busy_changed(self, busy: bool) -> None:
        if not self.connecting_now:
            self.box.set_busy(busy)

    # -- lifetime -----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return self._tasks.spawn(coro)

    def _retire(self, backend: Backend) -> None:
        """Close ``backend`` once no reply uses it."""

        async def close() -> None:
            await self.controller.wait_idle()
            if self.controller.backend is not backend:
                await backend.aclose()

        self._spawn(close())

    def owns(self, backend: Backend | None) -> bool:
        return backend is not None and (
            backend is self.local or any(b is backend for _, b in self._remotes.values())
        )

    async def shutdown(self) -> None:
        """Detach from the controller and close the local model and every connection."""
        if self._connect_task is not None:
            self._connect_task.cancel()
        if self.owns(self.controller.backend):
            self.controller.set_backend(None)
        owned = [b for _, b in self._remotes.values()]
        if self.local is not None:
            owned.append(self.local)
        self._remotes.clear()
        self.local = None
        await self._tasks.wait()
        for backend in owned:
            await backend.aclose()


def _context_of(backend: Backend | None) -> int | None:
    """The backend's maximum context, where it says (local ``n_ctx``, remote max length)."""
    value = getattr(backend, "context_length", None)
    if value is None:
        try:
            value = getattr(getattr(backend, "session", None), "n_ctx", None)
        except S1DeskError:  # closed
            value = None
    return value if isinstance(value, int) and value > 0 else None
