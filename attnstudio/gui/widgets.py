"""Small Qt helpers shared by the panels."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import shiboken6
from PySide6 import QtGui
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt, QTimer
from PySide6.QtWidgets import QLabel, QLayout, QLayoutItem, QSizePolicy, QVBoxLayout, QWidget

from attnstudio.gui.errors import guard_overrides

__all__ = ["FlowLayout", "LazyPanel", "LiveLabelBox", "RepaintOnFocus", "name_widget", "same_key", "signals_blocked"]


@contextmanager
def signals_blocked(obj: QObject) -> Iterator[None]:
    """Update a widget from the model without it echoing an edit back (superqt's helper)."""
    previous = obj.blockSignals(True)
    try:
        yield
    finally:
        obj.blockSignals(previous)


def name_widget(widget: QWidget, object_name: str, accessible_name: str, tooltip: str = "") -> QWidget:
    """Give a widget the names a user (screen reader) and a test address it by, and a tooltip."""
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible_name)
    if tooltip:
        widget.setToolTip(tooltip)
    return widget


@guard_overrides
class FlowLayout(QLayout):
    """Lays widgets left to right and wraps to the next line, like words in a paragraph."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self.setContentsMargins(0, 0, 0, 0)
        self.setSpacing(spacing)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 (Qt name)
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._do_layout(QRect(0, 0, width, 0), test_only=True)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        self._do_layout(rect, test_only=False)

    def sizeHint(self) -> QSize:  # noqa: N802
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _do_layout(self, rect: QRect, test_only: bool) -> int:
        x, y, line_height = rect.x(), rect.y(), 0
        space = self.spacing()
        for item in self._items:
            hint = item.sizeHint()
            next_x = x + hint.width() + space
            if next_x - space > rect.right() and line_height > 0:
                x, y = rect.x(), y + line_height + space
                next_x = x + hint.width() + space
                line_height = 0
            if not test_only:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x = next_x
            line_height = max(line_height, hint.height())
        return y + line_height - rect.y()


@guard_overrides
class RepaintOnFocus:
    """Mixin for a widget that draws its own keyboard-focus frame: repaint when the focus comes or goes.

    Put it before the Qt class: ``class Canvas(RepaintOnFocus, QWidget)``.
    """

    def focusInEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.update()
        super().focusOutEvent(event)


@guard_overrides
class LiveLabelBox(QWidget):
    """Holds a label whose text changes at every edit (numbers of the focused row) and keeps the window still.

    A label's new text makes Qt lay out its panel, its dock and the whole main window again, and repaint what
    lies behind the label, even when nothing moves: at an edit that cost more than drawing the numbers. The
    box passes the label's size on to its layout only when the label's height at the current width changes
    (the preferred and minimum widths of wrapped text are not followed: its layout gives the width).
    The label fills its own background, so it is repainted alone. Address the label, not the box.

    A label with selectable or rich text lays its new text out when it paints, and that layout asks for a
    repaint of the label, which Qt posts for after the paint: every edit painted the label twice. Measuring
    its height lays it out at other widths and back, and asked for one more. Neither changes a pixel of what
    the paint shows (the text it paints is the text laid out), so the box ignores those requests.
    """

    def __init__(self, label: QLabel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = label
        self._control: QObject | None = None
        self._control_kind: tuple | None = None
        label.setParent(self)
        label.setAutoFillBackground(True)
        label.installEventFilter(self)
        self.setSizePolicy(label.sizePolicy())
        self.setFocusProxy(label)
        self._shape = self._measure()

    def _text_control(self) -> QObject | None:
        """The label's text control (Qt makes one for rich or selectable text), found once: listing a widget's
        children from Python costs ~0.1 ms."""
        control = self._control
        if control is not None and shiboken6.isValid(control):
            return control
        label = self.label
        text = label.text()
        # What makes Qt create one: rich text, or any interaction, with some text.
        kind = (label.textFormat(), label.textInteractionFlags(), label.openExternalLinks(), bool(text),
                QtGui.Qt.mightBeRichText(text))
        if control is None and kind == self._control_kind:  # looked for with these settings: there was none
            return None
        self._control_kind = kind
        self._control = next((child for child in self.label.children()
                              if child.metaObject().className() == "QWidgetTextControl"), None)
        return self._control

    @contextmanager
    def _layout_updates_ignored(self) -> Iterator[None]:
        """Calls within ignore the repaints the label's text control asks for (see the class)."""
        control = self._text_control()
        blocked = control is not None and control.blockSignals(True)
        try:
            yield
        finally:
            if control is not None:
                control.blockSignals(blocked)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if watched is self.label and event.type() == QEvent.Type.Paint:
            with self._layout_updates_ignored():
                self.label.event(event)  # the label's own paint, laying its text out
            return True
        return False

    def _measure(self) -> tuple:
        # Not the minimum size: for wrapped text Qt lays the text out at several widths to find it (~0.25 ms).
        label, width = self.label, self.width()
        with self._layout_updates_ignored():
            height = label.heightForWidth(width) if label.hasHeightForWidth() else label.sizeHint().height()
        return height, label.sizePolicy()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return self.label.sizeHint()

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self.label.minimumSizeHint()

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return self.label.hasHeightForWidth()

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self.label.heightForWidth(width)

    def _check(self) -> None:
        """Tell the layouts around when the label needs another height than the one last told, or more than it
        has: after new text, a new width (layouts remember heights by width), or text set while hidden."""
        shape = self._measure()
        if shape != self._shape or shape[0] > self.height():
            self._shape = shape
            self.setSizePolicy(shape[1])
            self.updateGeometry()

    def resizeEvent(self, event) -> None:  # noqa: N802
        self.label.setGeometry(self.rect())
        self._check()
        super().resizeEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802
        self._check()  # no layout request reaches a hidden box: its label's text may have changed meanwhile
        super().showEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # the label's text (or font) changed
            self._check()
            return True
        return super().event(event)


def same_key(a: tuple, b: tuple) -> bool:
    """Whether two keys of a cached drawing are equal: the same objects are not compared field by field again
    (a theme's colours, a tuple of every word), which at every paint would cost more than the lookup saves."""
    return len(a) == len(b) and all(x is y or x == y for x, y in zip(a, b))


class LazyPanel(QWidget):
    """A dock's content made the first time its dock is really shown or the panel is asked for (``widget()``).

    For panels that start behind another dock's tab: building them at start costs every start-up for something
    nobody sees yet. Qt counts a dock behind a tab as visible (QMainWindow parks it off-screen), so the dock's
    ``visibilityChanged`` is what says it was shown: connect it to :meth:`build_when_visible`.
    """

    def __init__(self, object_name: str, make: Callable[[], QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        QVBoxLayout(self).setContentsMargins(0, 0, 0, 0)
        self._make = make
        self._widget: QWidget | None = None

    @property
    def built(self) -> bool:
        return self._widget is not None

    def widget(self) -> QWidget:
        if self._widget is None:
            self._widget = self._make()
            self.layout().addWidget(self._widget)
            self._widget.show()  # now, not at the next turn of the event loop (when its dock is shown)
        return self._widget

    def build_when_visible(self, visible: bool) -> None:
        """Connected to the dock's ``visibilityChanged``: build once the dock is really on screen.

        Checked at the next turn of the event loop: ``restoreState`` (model mode's way back, a saved layout) also
        says "visible" for a dock it then parks behind another tab, where nobody sees it.
        """
        if visible and self._widget is None:
            QTimer.singleShot(0, self._build_if_on_screen)

    def _build_if_on_screen(self) -> None:
        if self._widget is None and self.isVisible() and not self.visibleRegion().isEmpty():
            self.widget()
