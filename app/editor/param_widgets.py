"""One editor widget per parameter kind, generated from the Param declaration (ranges, choices, defaults).

Each editor shows a set value normally and an unset one greyed (the API default, or a hint), and reports
only edits a person makes: programmatic updates never echo back as edits.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.editor.document_model import UNSET
from graph_runtime.params import Kind, Param

INT32_MIN, INT32_MAX = -(2**31) + 1, 2**31 - 1  # QSpinBox holds a C int
UNSET_CHOICE = "(unset: API default)"


def _mark_unset(widget: QWidget, unset: bool) -> None:
    if widget.property("unset") != unset:
        widget.setProperty("unset", unset)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


class ParamEditor(QWidget):
    """Base: `edited(value, mergeable)` when a person changes the value (UNSET to clear it)."""

    edited = Signal(object, bool)

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self._updating = False
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(4)

    def set_value(self, value: Any, is_set: bool) -> None:
        self._updating = True
        try:
            self._show(value, is_set)
        finally:
            self._updating = False

    def _show(self, value: Any, is_set: bool) -> None:
        raise NotImplementedError

    def _emit(self, value: Any, mergeable: bool = True) -> None:
        if not self._updating:
            self.edited.emit(value, mergeable)

    def focus_widget(self) -> QWidget:
        return self


class IntEditor(ParamEditor):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spin = QSpinBox(self)
        self.spin.setKeyboardTracking(False)  # commit on Enter / focus-out, not on each digit
        self.spin.setSingleStep(param.multiple_of or 1)
        self._set_range(None)
        self.spin.valueChanged.connect(lambda v: self._emit(int(v)))
        self.layout_.addWidget(self.spin)

    def _set_range(self, value: Any, room_for_unset: bool = False) -> None:
        lo = int(self.param.minimum) if self.param.minimum is not None else INT32_MIN
        hi = int(self.param.maximum) if self.param.maximum is not None else INT32_MAX
        if isinstance(value, int):  # an out-of-range value in the file is shown as it is, not clamped
            lo, hi = min(lo, value), max(hi, value)
        # Unset with no API default: one step below the range reads "(unset)", so the first step sets it.
        self.spin.setSpecialValueText("(unset)" if room_for_unset else "")
        self.spin.setRange(max(lo - (1 if room_for_unset else 0), INT32_MIN - 1), min(hi, INT32_MAX))

    def _show(self, value: Any, is_set: bool) -> None:
        shown = value if is_set and isinstance(value, int) else self.param.default
        no_value = not isinstance(shown, int)
        self._set_range(shown, room_for_unset=no_value)
        self.spin.setValue(self.spin.minimum() if no_value else int(shown))
        _mark_unset(self.spin, not is_set)

    def focus_widget(self) -> QWidget:
        return self.spin


class FloatEditor(ParamEditor):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spin = QDoubleSpinBox(self)
        self.spin.setKeyboardTracking(False)
        lo = param.minimum if param.minimum is not None else -1e9
        hi = param.maximum if param.maximum is not None else 1e9
        span = hi - lo if param.minimum is not None and param.maximum is not None else 10.0
        step = 10 ** math.floor(math.log10(span)) / 20 if span > 0 else 0.1
        self.spin.setDecimals(3 if step < 0.05 else 2)
        self.spin.setSingleStep(step)
        self.spin.setRange(lo, hi)
        self.spin.valueChanged.connect(lambda v: self._emit(round(float(v), self.spin.decimals())))
        self.layout_.addWidget(self.spin)

    def _show(self, value: Any, is_set: bool) -> None:
        shown = value if is_set and isinstance(value, int | float) else self.param.default
        if isinstance(shown, int | float) and not isinstance(shown, bool):
            self.spin.setRange(min(self.spin.minimum(), shown), max(self.spin.maximum(), shown))
            self.spin.setValue(float(shown))
        else:
            self.spin.setValue(self.spin.minimum())
        _mark_unset(self.spin, not is_set)

    def focus_widget(self) -> QWidget:
        return self.spin


class SeedEditor(ParamEditor):
    """Seeds go up to 2^63-1, past QSpinBox's range: a validated line edit, plus a dice button."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.edit = QLineEdit(self)
        self.edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"^[0-9]{0,19}$"), self.edit))
        self.edit.setPlaceholderText("random each run")
        self.edit.textEdited.connect(self._typed)
        self.dice = QToolButton(self)
        self.dice.setText("Random")
        self.dice.setToolTip("Pick a random seed now")
        self.dice.clicked.connect(self._roll)
        self.layout_.addWidget(self.edit, 1)
        self.layout_.addWidget(self.dice)

    def _typed(self, text: str) -> None:
        if not text:
            self._emit(UNSET)
        else:
            self._emit(int(text))

    def _roll(self) -> None:
        lo = int(self.param.minimum) if self.param.minimum is not None else 1
        hi = int(self.param.maximum) if self.param.maximum is not None else 2**63 - 1
        value = random.randint(lo, hi)
        self.edit.setText(str(value))
        self._emit(value, False)

    def _show(self, value: Any, is_set: bool) -> None:
        text = str(value) if is_set and value is not None else ""
        if self.edit.text() != text:
            self.edit.setText(text)

    def focus_widget(self) -> QWidget:
        return self.edit


class EnumEditor(ParamEditor):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.combo = QComboBox(self)
        self.combo.setMaxVisibleItems(20)
        # long choices (scheduler names) must not widen the inspector past its dock
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(12)
        if param.default is None:
            unset = UNSET_CHOICE
        else:  # editor-only settings have a default of their own, not the API's
            unset = f"(unset: {'API default, ' if param.api else ''}{param.default})"
        self.combo.addItem(unset)
        self.combo.addItems(list(param.choices))
        self.combo.activated.connect(self._chosen)
        self.layout_.addWidget(self.combo)

    def _chosen(self, index: int) -> None:
        self._emit(UNSET if index == 0 else self.param.choices[index - 1], False)

    def _show(self, value: Any, is_set: bool) -> None:
        if is_set and value in self.param.choices:
            self.combo.setCurrentIndex(self.param.choices.index(value) + 1)
        elif is_set:  # a value the declaration does not allow: show it so the error makes sense
            if self.combo.findText(str(value)) < 0:
                self.combo.addItem(str(value))
            self.combo.setCurrentText(str(value))
        else:
            self.combo.setCurrentIndex(0)
        _mark_unset(self.combo, not is_set)

    def focus_widget(self) -> QWidget:
        return self.combo


class TextEditor(ParamEditor):
    """Multi-line text (prompts) with a live character count against the declared length."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        box = QVBoxLayout()
        box.setSpacing(2)
        self.text = QPlainTextEdit(self)
        self.text.setTabChangesFocus(True)
        self.text.setMinimumHeight(90)
        self.text.setPlaceholderText(str(param.default) if param.default else "(unset)")
        self.count = QLabel(self)
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.count.setObjectName("charCount")
        box.addWidget(self.text)
        box.addWidget(self.count)
        self.layout_.addLayout(box)
        self.text.textChanged.connect(self._changed)

    def _changed(self) -> None:
        value = self.text.toPlainText()
        self._update_count(value)
        self._emit(value)

    def _update_count(self, value: str) -> None:
        limit = f" / {self.param.max_length}" if self.param.max_length else ""
        n = len(value)
        bad = (self.param.min_length is not None and n < self.param.min_length) or (
            self.param.max_length is not None and n > self.param.max_length
        )
        self.count.setText(f"{n}{limit} characters")
        self.count.setStyleSheet("color: #e5484d;" if bad else "")

    def _show(self, value: Any, is_set: bool) -> None:
        text = str(value) if is_set and value is not None else ""
        if self.text.toPlainText() != text:
            self.text.setPlainText(text)
        self._update_count(text)

    def focus_widget(self) -> QWidget:
        return self.text


class LineEditor(ParamEditor):
    """One line of text (strings and model AIR ids); an unset field shows the default as a grey hint."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.edit = QLineEdit(self)
        hint = f"{param.default}" if param.default not in (None, "") else "(unset)"
        if param.kind is Kind.AIR:
            hint = "source:id@version, e.g. runware:101@1"
        self.edit.setPlaceholderText(hint)
        self.edit.textEdited.connect(lambda text: self._emit(text))
        self.layout_.addWidget(self.edit, 1)

    def _show(self, value: Any, is_set: bool) -> None:
        text = str(value) if is_set and value is not None else ""
        if self.edit.text() != text:
            self.edit.setText(text)

    def focus_widget(self) -> QWidget:
        return self.edit


class PathEditor(LineEditor):
    """A local file: typed, or picked with a file dialog (stored relative to the workflow's folder)."""

    def __init__(self, param: Param, base_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.base_dir = base_dir
        self.edit.setPlaceholderText("(unset) a PNG, JPG or WEBP file")
        self.browse = QToolButton(self)
        self.browse.setText("…")
        self.browse.setToolTip("Choose a file")
        self.browse.clicked.connect(self._pick)
        self.layout_.addWidget(self.browse)

    def _pick(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, f"Choose {self.param.name}", str(self.base_dir), "Images (*.png *.jpg *.jpeg *.webp);;All files (*)"
        )
        if path:
            self.choose(path)

    def choose(self, path: str) -> None:
        chosen = Path(path)
        try:
            value = chosen.resolve().relative_to(self.base_dir.resolve()).as_posix()
        except ValueError:
            value = str(chosen)
        self.edit.setText(value)
        self._emit(value, False)


class BoolEditor(ParamEditor):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.check = QCheckBox(self)
        self.check.clicked.connect(lambda checked: self._emit(bool(checked), False))
        self.layout_.addWidget(self.check)

    def _show(self, value: Any, is_set: bool) -> None:
        shown = value if is_set else self.param.default
        self.check.setChecked(bool(shown))
        self.check.setText("" if is_set else "(default)")
        _mark_unset(self.check, not is_set)

    def focus_widget(self) -> QWidget:
        return self.check


def make_editor(param: Param, base_dir: Path, parent: QWidget | None = None) -> ParamEditor:
    kind = param.kind
    if kind is Kind.INT:
        return IntEditor(param, parent)
    if kind is Kind.FLOAT:
        return FloatEditor(param, parent)
    if kind is Kind.SEED:
        return SeedEditor(param, parent)
    if kind is Kind.ENUM:
        return EnumEditor(param, parent)
    if kind is Kind.TEXT:
        return TextEditor(param, parent)
    if kind is Kind.PATH:
        return PathEditor(param, base_dir, parent)
    if kind is Kind.BOOL:
        return BoolEditor(param, parent)
    return LineEditor(param, parent)
