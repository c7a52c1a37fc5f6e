"""The window's actions, menus and keyboard shortcuts, in one table."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from s1desk.chat.controller import ChatController


@dataclass(frozen=True, slots=True)
class ActionSpec:
    key: str
    text: str
    shortcut: str
    menu: str
    checkable: bool = False


SPECS = (
    # File: what goes in and out of the app, and leaving it (desktop convention).
    ActionSpec("new_chat", "&New chat", "Ctrl+N", "&File"),
    ActionSpec("export", "&Export conversation…", "Ctrl+Shift+E", "&File"),
    ActionSpec("import", "&Import conversation…", "Ctrl+Shift+I", "&File"),
    ActionSpec("quit", "&Quit", "Ctrl+Q", "&File"),
    # Edit: copying, finding, and the preferences.
    ActionSpec("copy_answer", "Copy &answer", "Ctrl+Shift+C", "&Edit"),
    ActionSpec("copy_reasoning", "Copy r&easoning", "Ctrl+Alt+C", "&Edit"),
    ActionSpec("find", "Searc&h conversations", "Ctrl+F", "&Edit"),
    ActionSpec("settings", "&Settings…", "Ctrl+,", "&Edit"),
    ActionSpec("focus_composer", "&Write a message", "Ctrl+K", "&Chat"),
    ActionSpec("stop", "&Stop", "Esc", "&Chat"),
    ActionSpec("regenerate", "&Regenerate", "Ctrl+R", "&Chat"),
    ActionSpec("think_longer", "Think &longer", "Ctrl+L", "&Chat"),
    ActionSpec("compare_budgets", "Compare &budgets…", "Ctrl+Shift+L", "&Chat"),
    ActionSpec("edit_last", "&Edit last message", "Ctrl+E", "&Chat"),
    ActionSpec("models", "&Models…", "Ctrl+M", "&Model"),
    ActionSpec("open_model", "&Open model…", "Ctrl+O", "&Model"),
    ActionSpec("servers", "&Remote servers…", "Ctrl+Shift+S", "&Model"),
    ActionSpec("cancel_load", "&Cancel loading", "", "&Model"),
    ActionSpec("toggle_reasoning", "&Reasoning pane", "Ctrl+T", "&View", checkable=True),
    ActionSpec("auto_collapse", "&Collapse reasoning when the answer starts", "", "&View", True),
    ActionSpec("scaling", "&Scaling…", "Ctrl+Shift+B", "&View"),
    ActionSpec("shortcuts", "&Keyboard shortcuts", "F1", "&Help"),
)


def build_actions(window: QMainWindow) -> tuple[dict[str, QAction], dict[str, QMenu]]:
    """Create every action with its shortcut and put it in its menu."""
    actions: dict[str, QAction] = {}
    menus: dict[str, QMenu] = {}
    bar = window.menuBar()
    for spec in SPECS:
        menu = menus.get(spec.menu)
        if menu is None:
            menu = bar.addMenu(spec.menu)
            menus[spec.menu] = menu
        action = QAction(spec.text, window)
        action.setObjectName(spec.key)
        if spec.shortcut:
            action.setShortcut(QKeySequence(spec.shortcut))
        action.setCheckable(spec.checkable)
        menu.addAction(action)
        window.addAction(action)  # shortcuts work wherever the focus is
        actions[spec.key] = action
    for name, before in (
        ("&Model", "cancel_load"),
        ("&File", "quit"),
        ("&Edit", "find"),
        ("&Edit", "settings"),
    ):
        menus[name].insertSeparator(actions[before])
    actions["quit"].setMenuRole(QAction.MenuRole.QuitRole)
    actions["settings"].setMenuRole(QAction.MenuRole.PreferencesRole)
    return actions, menus


def shortcuts_text() -> str:
    """A table of the shortcuts, for the Help menu."""
    rows = [
        ("Enter", "Send"),
        ("Shift+Enter", "New line in the message"),
        *((s.shortcut, s.text.replace("&", "").rstrip("…")) for s in SPECS if s.shortcut),
    ]
    return "\n".join(f"{k:<14} {v}" for k, v in rows)


def update_chat_actions(
    actions: dict[str, QAction], controller: ChatController, editing: bool, current: int | None
) -> None:
    """Enable what can be done now: Stop while a reply streams (or to leave editing);
    Regenerate, Think longer and Edit once idle with something to act on; the copies when
    the reply shown (``current``) has an answer or reasoning to copy."""
    idle, has_reply = not controller.busy, controller.session.last_reply is not None
    shown = controller.message(current) if current is not None else None
    actions["copy_answer"].setEnabled(shown is not None and bool(shown.answer.strip()))
    actions["copy_reasoning"].setEnabled(shown is not None and bool(shown.reasoning.strip()))
    actions["stop"].setEnabled(controller.busy or editing)
    actions["regenerate"].setEnabled(idle and has_reply)
    actions["think_longer"].setEnabled(idle and has_reply)
    actions["compare_budgets"].setEnabled(has_reply)
    actions["edit_last"].setEnabled(idle and len(controller.session) > 0)
