"""Qt 6.11 leaves stale dock tab bars behind: found and hidden here, for the whole window, from its first layout on.

Kept apart from the lessons (whose stage moves docks the most) so the window can tidy its tab bars from the first
paint without loading the lesson code.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

from attnstudio.gui.errors import guard_overrides

__all__ = ["TabBarTidier", "hide_stale_tab_bars"]


def hide_stale_tab_bars(window: QMainWindow) -> int:
    """Hide the dock tab bars Qt left behind; returns how many.

    Qt 6.11 keeps a duplicate tab bar after ``tabifyDockWidget`` and ``restoreState``; it stays where the group
    once was, usually covered by a dock, and shows as a stray tab strip once a dock is hidden or moved. A live
    tab bar sits right under the shown dock of its group, flush with its left edge. A bar is hidden only when it
    is clearly stale: all its docks are hidden, or another bar for one of its docks is the live one.
    """
    docks = {d.windowTitle(): d for d in window.findChildren(QDockWidget)}
    shown = [d for d in docks.values() if not d.isHidden() and not d.isFloating()]
    bars = [b for b in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
            if not b.isHidden() and b.count()]

    def titles(bar: QTabBar) -> set[str]:
        return {bar.tabText(i) for i in range(bar.count())}

    def live(bar: QTabBar) -> bool:
        return any(d.windowTitle() in titles(bar) and abs(bar.y() - d.geometry().bottom() - 1) <= 4
                   and abs(bar.x() - d.x()) <= 4 for d in shown)

    alive = [bar for bar in bars if live(bar)]
    hidden = 0
    for bar in bars:
        if bar in alive:
            continue
        orphan = all(docks[t].isHidden() for t in titles(bar) if t in docks)
        if orphan or any(titles(bar) & titles(other) for other in alive):
            bar.hide()
            hidden += 1
    return hidden


@guard_overrides
class TabBarTidier(QObject):
    """Hides stale dock tab bars (see ``hide_stale_tab_bars``) once the window's layout has settled."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._pending = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if watched is self.window and event.type() == QEvent.Type.LayoutRequest and not self._pending:
            self._pending = True
            QTimer.singleShot(0, self.tidy)
        return False

    def tidy(self) -> None:
        self._pending = False
        hide_stale_tab_bars(self.window)
