"""The canvas's right-click menus: for a node, a group, a note, or the empty canvas.

Every entry calls the window or the Editor, so each is one undoable step like the same edit from a menu bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QMenu

from app.editor.canvas import style
from app.editor.canvas.group_item import GroupItem
from app.editor.canvas.node_item import NodeItem
from app.editor.canvas.note_item import NoteItem

if TYPE_CHECKING:
    from app.editor.main_window import MainWindow


def swatch(color: str | QColor) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


def add_colour_menu(menu: QMenu, current: str | None, default: QColor, choose: Callable[[str | None], None]) -> QMenu:
    """A Colour submenu: Default (no colour of its own) and the shared palette; the current one is checked."""
    sub = menu.addMenu("&Colour")
    entries: list[tuple[str, str | None, QIcon]] = [("Default", None, swatch(default))]
    entries += [(name, value, swatch(value)) for name, value in style.PALETTE]
    for name, value, icon in entries:
        action = sub.addAction(icon, name)
        action.setCheckable(True)
        action.setChecked((current or "").lower() == (value or "").lower())
        action.triggered.connect(lambda _c=False, v=value: choose(v))
    return sub


def build_context_menu(window: MainWindow, scene_pos: QPointF) -> QMenu:
    """The menu for whatever is under `scene_pos`. A right-click on an unselected item selects it alone."""
    menu = QMenu(window.view)
    item = window.scene.item_at(scene_pos)
    if item is not None and not item.isSelected():
        window.scene.clearSelection()
        item.setSelected(True)
    if isinstance(item, NodeItem):
        _node_menu(window, menu, item.node_id)
    elif isinstance(item, NoteItem):
        _note_menu(window, menu, item.note_id)
    elif isinstance(item, GroupItem):
        _group_menu(window, menu, item.group_id)
    else:
        _canvas_menu(window, menu, scene_pos)
    return menu


def _node_menu(window: MainWindow, menu: QMenu, node_id: str) -> None:
    node = window.workflow.nodes[node_id]
    node_type = window.model.node_type(node_id)
    targets = window.scene.selected_node_ids() or [node_id]
    menu.addAction("&Rename…", lambda: window.scene.edit_node_title(node_id))

    def colour(value: str | None) -> None:
        with window.editor.macro("Node colour", len(targets)):
            for target in targets:
                window.editor.set_node_color(target, value)

    add_colour_menu(menu, node.color, style.node_color(node_type), colour)
    collapse = not node.collapsed

    def fold() -> None:
        with window.editor.macro("Collapse" if collapse else "Expand", len(targets)):
            for target in targets:
                window.editor.set_collapsed(target, collapse)

    menu.addAction("C&ollapse" if collapse else "&Expand", fold)
    menu.addSeparator()
    menu.addAction("&Duplicate", window.duplicate)
    menu.addAction("De&lete", window.delete_selection)
    menu.addSeparator()
    menu.addAction("Show re&quest for this node…", lambda: window.show_request(node_id))


def _group_menu(window: MainWindow, menu: QMenu, group_id: str) -> None:
    group = window.model.group(group_id)
    assert group is not None
    menu.addAction("&Rename…", lambda: window.scene.edit_group_title(group_id))
    add_colour_menu(menu, group.color, style.GROUP_BASE, lambda v: window.editor.set_group_color(group_id, v))
    menu.addSeparator()
    menu.addAction("De&lete group (keep its nodes)", lambda: window.editor.delete(group_ids=[group_id]))


def _note_menu(window: MainWindow, menu: QMenu, note_id: str) -> None:
    menu.addAction("&Edit text", lambda: window.scene.edit_note(note_id))
    menu.addSeparator()
    menu.addAction("&Duplicate", window.duplicate)
    menu.addAction("De&lete", window.delete_selection)


def _canvas_menu(window: MainWindow, menu: QMenu, scene_pos: QPointF) -> None:
    menu.addAction("Add &Node…", lambda: window.open_palette(scene_pos))
    menu.addAction("Add N&ote", lambda: window.add_note(scene_pos))
    paste = menu.addAction("&Paste", lambda: window.paste(scene_pos))
    paste.setEnabled(window.clipboard_fragment() is not None)
