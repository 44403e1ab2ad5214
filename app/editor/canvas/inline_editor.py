"""In-place text editing on the canvas: a note's text, a group's or a node's title.

The editor only reports the text it ends with; the scene turns that into one undoable edit. Enter (titles) or
Ctrl+Enter (notes) and losing focus commit; Esc cancels.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QKeySequence, QPainter, QPen, QTextCursor
from PySide6.QtWidgets import QGraphicsItem, QGraphicsTextItem, QStyle, QStyleOptionGraphicsItem, QWidget

from app.editor.canvas import style

#: Keys with Ctrl that belong to the text while editing rather than to the window's shortcuts.
_TEXT_KEYS = (
    QKeySequence.StandardKey.Undo,
    QKeySequence.StandardKey.Redo,
    QKeySequence.StandardKey.Copy,
    QKeySequence.StandardKey.Cut,
    QKeySequence.StandardKey.Paste,
    QKeySequence.StandardKey.SelectAll,
    QKeySequence.StandardKey.MoveToNextWord,
    QKeySequence.StandardKey.MoveToPreviousWord,
    QKeySequence.StandardKey.SelectNextWord,
    QKeySequence.StandardKey.SelectPreviousWord,
    QKeySequence.StandardKey.DeleteStartOfWord,
    QKeySequence.StandardKey.DeleteEndOfWord,
)
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class InlineEditor(QGraphicsTextItem):
    committed = Signal(str)
    cancelled = Signal()

    def __init__(
        self, text: str, rect: QRectF, font: QFont, background: QColor, *, multiline: bool, margin: float = 2.0
    ) -> None:
        super().__init__()
        self.multiline = multiline
        self.background = background
        self.min_height = rect.height()
        self.finished = False
        self.setFont(font)
        self.setDefaultTextColor(style.TEXT)
        self.document().setDocumentMargin(margin)  # the same inset as the text it covers: no jump
        self.setPlainText(text)
        self.setTextWidth(rect.width())
        self.setPos(rect.topLeft())
        self.setZValue(100)  # above nodes, wires and the item it edits
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsFocusable)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)

    def start(self) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        cursor = self.textCursor()
        cursor.select(QTextCursor.SelectionType.Document)
        self.setTextCursor(cursor)

    def text(self) -> str:
        return self.toPlainText()

    def finish(self, commit: bool) -> None:
        if self.finished:
            return
        self.finished = True
        if commit:
            self.committed.emit(self.text())
        else:
            self.cancelled.emit()

    # ------------------------------------------------------------------ keys and focus

    def sceneEvent(self, event: QEvent) -> bool:
        # Claim the keys a text field needs before the window's shortcuts (Delete, F, N, Ctrl+Enter) see them.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            mods = event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier)
            if not mods or event.key() in _ENTER or any(event.matches(k) for k in _TEXT_KEYS):
                event.accept()
                return True
        return super().sceneEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.finish(False)
            return
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if event.key() in _ENTER and (ctrl or not self.multiline):
            self.finish(True)
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QEvent) -> None:  # type: ignore[override]
        super().focusOutEvent(event)  # type: ignore[arg-type]
        self.finish(True)

    # ------------------------------------------------------------------ painting

    def boundingRect(self) -> QRectF:
        rect = super().boundingRect()
        rect.setHeight(max(rect.height(), self.min_height))  # at least as tall as what it covers
        return rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setPen(QPen(style.NODE_SELECTED, 1.0))
        painter.setBrush(self.background)
        painter.drawRect(self.boundingRect())
        option.state &= ~(QStyle.StateFlag.State_HasFocus | QStyle.StateFlag.State_Selected)  # no dashed frame
        super().paint(painter, option, widget)
