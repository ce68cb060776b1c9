"""What a running lesson does to the window around the lesson panel: which panels show, which draw the eye,
which are locked, and hiding every weight while the learner makes a prediction.

The panels are found by the objectNames the lesson files use (``attnstudio.lessons.PANELS``); nothing here
knows about sessions, so the lesson panel tells the stage what the open step asks for.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, QRectF, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QFontMetricsF, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QToolTip, QWidget

from attnstudio.gui.errors import guard_overrides
from attnstudio.lessons import PANELS, PanelSetup

__all__ = ["LOCKED_TIP", "PanelOverlay", "LessonStage", "accent_colour"]

LOCKED_TIP = "Locked during this step"
HIDDEN_TEXT = "Hidden until you have made your guess"
# Views that show a weight in some form (a line, a lit word, a cell, a dot size, a number). The alignment canvas
# hides its lines itself (it stays clickable for the guess); these get a veil.
VEILED = ("spotlightStrip", "heatmapView", "queryKeySpace", "computationPanel", "rowReadout")
# File commands that would replace or overwrite the learner's own document with the lesson's scene: paused while
# a lesson runs (leaving gives the learner their scene back; saving the lesson's scene over it would lose it).
PAUSED = ("actionNew", "actionOpen", "actionSave", "actionSaveAs", "menuRecent")
LESSON_WIDTH = 0.29  # of the window: the lesson text's column, at least MIN_LESSON_WIDTH px
MIN_LESSON_WIDTH = 300
SIDE_WIDTH = 0.28  # of the window: the right-hand panels, so the alignment canvas keeps the middle
STAGE_VERSION = 9  # saveState version of the layout kept while a lesson runs (never written to the settings)


def accent_colour(palette: QPalette) -> QColor:
    """The orange that draws the eye (the figures' highlight), a lighter one on a dark palette."""
    dark = palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5
    return QColor("#ff9a3c" if dark else "#d55e00")


@guard_overrides
class PanelOverlay(QWidget):
    """A child drawn over a panel and kept to its size.

    ``kind``: ``"veil"`` covers the panel and says why (the weights are hidden); ``"lock"`` washes it out,
    blocks the mouse and explains in a tooltip; ``"accent"`` draws a frame around it and lets the mouse through.
    """

    def __init__(self, target: QWidget, kind: str, text: str = "") -> None:
        super().__init__(target)
        if kind not in ("veil", "lock", "accent"):
            raise ValueError(f"unknown overlay kind {kind!r}")
        self.kind, self.text, self.target = kind, text, target
        self.setObjectName(f"lesson{kind.capitalize()}")
        self.setAccessibleName({"veil": HIDDEN_TEXT, "lock": LOCKED_TIP, "accent": "Look here"}[kind])
        if kind == "accent":
            self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        else:
            self.setToolTip(text or LOCKED_TIP)
            self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        target.installEventFilter(self)
        self.setGeometry(target.rect())
        self.show()
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if watched is self.target:
            if event.type() == QEvent.Type.Resize:
                self.setGeometry(self.target.rect())
            elif event.type() == QEvent.Type.ChildAdded:
                self.raise_()  # a child created after us would be drawn on top
        return False

    def remove(self) -> None:
        self.target.removeEventFilter(self)
        self.hide()
        self.deleteLater()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.kind != "accent":
            QToolTip.showText(event.globalPos(), self.toolTip(), self)
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        palette = self.palette()
        rect = QRectF(self.rect())
        if self.kind == "accent":
            painter.setPen(QPen(accent_colour(palette), 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(1.5, 1.5, -1.5, -1.5), 5, 5)
        elif self.kind == "veil":
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Window))
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(rect.adjusted(12, 8, -12, -8),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.text or HIDDEN_TEXT)
        else:
            wash = QColor(palette.color(QPalette.ColorRole.Window))
            wash.setAlphaF(0.35)
            painter.fillRect(rect, wash)
            self._paint_badge(painter, rect, palette)
        painter.end()

    def _paint_badge(self, painter: QPainter, rect: QRectF, palette: QPalette) -> None:
        """A small "Locked" label in the top-right corner, so the greyed panel says why it is grey."""
        font = self.font()
        font.setBold(True)
        painter.setFont(font)
        text = "Locked"
        fm = QFontMetricsF(font)
        box = QRectF(rect.right() - fm.horizontalAdvance(text) - 22, rect.top() + 4,
                     fm.horizontalAdvance(text) + 16, fm.height() + 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.ToolTipBase))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(palette.color(QPalette.ColorRole.ToolTipText))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def dock_of(widget: QWidget) -> QDockWidget | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QDockWidget):
        parent = parent.parentWidget()
    return parent


class LessonStage:
    """Shows, highlights and locks the window's panels as a step asks, and gives the window back afterwards."""

    def __init__(self, window: QMainWindow, lesson_dock: QDockWidget | None = None) -> None:
        self.window = window
        self.lesson_dock = lesson_dock
        self._saved_state: QByteArray | None = None
        self._saved_corner: Qt.DockWidgetArea | None = None
        self._enabled: dict[str, bool] = {}
        self._paused: list[tuple[QAction, bool]] = []
        self._overlays: list[PanelOverlay] = []
        self._veils: list[PanelOverlay] = []
        self._visible_docks: frozenset[str] | None = None  # refit the layout only when this changes

    @property
    def active(self) -> bool:
        return self._saved_state is not None

    def panel(self, name: str) -> QWidget | None:
        return self.window.findChild(QWidget, name)

    def _action(self, name: str) -> QAction | None:
        action = self.window.findChild(QAction, name)
        if action is None and (menu := self.window.findChild(QMenu, name)) is not None:
            action = menu.menuAction()
        return action

    # -- beginning and ending -------------------------------------------------------------------------
    def begin(self) -> None:
        """Remember the learner's layout; give the lesson the full height of the left column."""
        if self.active:
            return
        ensure_panels = getattr(self.window, "ensure_panels", None)
        if ensure_panels is not None:  # panels built on first use must exist to be shown, locked or veiled
            ensure_panels()
        self._saved_state = self.window.saveState(STAGE_VERSION)
        self._enabled = {name: widget.isEnabled() for name in PANELS if (widget := self.panel(name)) is not None}
        self._paused = [(action, action.isEnabled()) for action in map(self._action, PAUSED) if action is not None]
        for action, _ in self._paused:
            action.setEnabled(False)
        self._saved_corner = self.window.corner(Qt.Corner.BottomLeftCorner)
        self.window.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        if self.lesson_dock is not None:
            self.lesson_dock.show()
            self.lesson_dock.raise_()

    def end(self) -> None:
        """Every panel back as the learner had it: visible, enabled, where it was."""
        if not self.active:
            return
        self.hide_weights(False)
        self._clear_overlays()
        for name, enabled in self._enabled.items():
            widget = self.panel(name)
            if widget is not None:
                widget.setEnabled(enabled)
        for action, enabled in self._paused:
            action.setEnabled(enabled)
        self._paused = []
        if self._saved_corner is not None:
            self.window.setCorner(Qt.Corner.BottomLeftCorner, self._saved_corner)
        self.window.restoreState(self._saved_state, STAGE_VERSION)
        self._saved_state = None
        self._visible_docks = None

    def _clear_overlays(self) -> None:
        for overlay in self._overlays:
            overlay.remove()
        self._overlays = []

    # -- one step -------------------------------------------------------------------------------------
    def apply(self, panels: PanelSetup) -> None:
        """Show only the panels the step names (all, if it names none), frame the highlighted, lock the locked."""
        self._clear_overlays()
        if panels.shown is not None:  # "only these panels": every other dock (undo history, …) steps aside too
            keep = {dock_of(w) for name in panels.shown if (w := self.panel(name)) is not None}
            for dock in self.window.findChildren(QDockWidget):
                if dock is not self.lesson_dock and dock not in keep:
                    dock.hide()
        for name in PANELS:
            widget = self.panel(name)
            if widget is None:
                continue
            dock = dock_of(widget)
            holder = dock or widget
            holder.setVisible(panels.is_shown(name))
            locked = panels.is_locked(name)
            widget.setEnabled(self._enabled.get(name, True) and not locked)
            if locked and panels.is_shown(name):
                self._overlays.append(PanelOverlay(widget, "lock", LOCKED_TIP))
        raised: list[QDockWidget] = []
        for name in panels.highlighted:  # in the lesson's order: of two tabbed panels the first named is raised
            widget = self.panel(name)
            if widget is None or not panels.is_shown(name):
                continue
            dock = dock_of(widget)
            if dock is not None and not self._tabbed_with_lesson(dock) \
                    and not set(raised) & set(self.window.tabifiedDockWidgets(dock)):
                dock.raise_()
                raised.append(dock)
            self._overlays.append(PanelOverlay(dock or widget, "accent"))
        visible = frozenset(d.objectName() for d in self.window.findChildren(QDockWidget) if not d.isHidden())
        if visible != self._visible_docks:
            self._visible_docks = visible
            QTimer.singleShot(0, self.fit)

    def fit(self) -> None:
        """Share the width between lesson text, canvas and side panels; give the lesson text the height."""
        if not self.active or self.lesson_dock is None:
            return
        window, lesson = self.window, self.lesson_dock
        width = window.width()
        window.resizeDocks([lesson], [max(MIN_LESSON_WIDTH, int(width * LESSON_WIDTH))], Qt.Orientation.Horizontal)
        docked = [d for d in window.findChildren(QDockWidget) if not d.isHidden() and not d.isFloating()]
        right = [d for d in docked if window.dockWidgetArea(d) == Qt.DockWidgetArea.RightDockWidgetArea]
        if right:
            window.resizeDocks(right[:1], [int(width * SIDE_WIDTH)], Qt.Orientation.Horizontal)
        below = [d for d in docked if d is not lesson and window.dockWidgetArea(d) == window.dockWidgetArea(lesson)
                 and d not in window.tabifiedDockWidgets(lesson)]
        if below:  # the controls under the lesson: as tall as they need, the text gets the rest
            need = [d.widget().sizeHint().height() + 28 for d in below]
            column = lesson.height() + sum(d.height() for d in below)
            window.resizeDocks([lesson, *below], [max(column - sum(need), column // 2), *need],
                               Qt.Orientation.Vertical)

    def _tabbed_with_lesson(self, dock: QDockWidget) -> bool:
        """Raising this dock would hide the lesson text behind a tab."""
        return self.lesson_dock is not None and dock in self.window.tabifiedDockWidgets(self.lesson_dock)

    def hide_weights(self, hidden: bool) -> None:
        """Cover every view that shows a weight (the canvas hides its own lines) — or uncover them."""
        for veil in self._veils:
            veil.remove()
        self._veils = []
        if hidden:
            for name in VEILED:
                widget = self.panel(name)
                if widget is not None:
                    self._veils.append(PanelOverlay(widget, "veil", HIDDEN_TEXT))

    def veils(self) -> list[PanelOverlay]:
        return list(self._veils)
