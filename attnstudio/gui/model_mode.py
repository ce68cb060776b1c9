"""Model mode: the window's centre shows a real model's workspace instead of the toy lab, and back.

Not a scene setting: the learner's toy scene never hears of it. Entering keeps the toy layout (``saveState``),
hides the toy-only docks and leaves the controls dock (whose mode selector leads back) narrow; leaving restores
the layout exactly. Edit → Undo follows: the model's query edits in model mode, the scene's otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QFrame, QScrollArea, QStackedWidget, QWidget

from attnstudio.gui.controls_panel import MODEL_MODE, MODEL_MODE_LABEL, MODES
from attnstudio.gui.tab_bars import hide_stale_tab_bars

if TYPE_CHECKING:
    from attnstudio.gui.main_window import MainWindow

__all__ = ["ModelMode", "centre_stack", "set_model_page"]

MODEL_MODE_DOCKS = {"controlsDock"}  # the docks model mode keeps: the mode selector leads back to the toy lab
MODEL_MODE_STATE = 11  # saveState version of the toy layout kept during model mode (never written to the settings)
MODE_SHORTCUTS = {"translation": "Ctrl+1", "self": "Ctrl+2", MODEL_MODE: "Ctrl+3"}
TOY_PAGE, MODEL_PAGE = 0, 1


def centre_stack(toy: QWidget, model: QWidget | None = None) -> QStackedWidget:
    """The window's centre: the toy lab, or the model workspace (scrolled, so it never widens the toy layout).

    ``model`` may come later (:func:`set_model_page`): the window builds the workspace on first use.
    """
    scroll = QScrollArea()
    scroll.setObjectName("modelScroll")
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    if model is not None:
        scroll.setWidget(model)
    stack = QStackedWidget()
    stack.setObjectName("centreStack")
    stack.addWidget(toy)
    stack.addWidget(scroll)
    return stack


def set_model_page(stack: QStackedWidget, model: QWidget) -> None:
    """Put the model workspace into the centre's (so far empty) model page."""
    scroll = stack.widget(MODEL_PAGE)
    assert isinstance(scroll, QScrollArea)
    scroll.setWidget(model)


class ModelMode(QObject):
    """Switches ``window`` between the toy lab and a real model; owns the View menu's mode actions."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.toy_state: QByteArray | None = None  # the toy layout, kept while model mode shows
        self.size_docks_later = False  # model mode began before the window shared out its first layout
        self.actions = QActionGroup(self)
        self.actions.setExclusive(True)
        for key, text in (*MODES, (MODEL_MODE, MODEL_MODE_LABEL)):
            action = window._action(f"actionMode_{key}", text, self._action_triggered, MODE_SHORTCUTS[key],
                                    f"Switch to {text[0].lower() + text[1:]}")
            action.setCheckable(True)
            action.setData(key)
            self.actions.addAction(action)
        window.controls_panel.model_mode_toggled.connect(self._toggled)
        window.controller.scene_changed.connect(self.sync_actions)
        self.sync_actions()

    def active(self) -> bool:
        return self.window.centre_stack.currentIndex() == MODEL_PAGE

    def set_active(self, on: bool) -> None:
        self.window.controls_panel.set_model_mode(on)  # announces the change: _toggled does the rest

    def choose(self, mode: str) -> None:
        """Translation, self-attention (toy scene settings) or the real model (the window's, not the scene's)."""
        self.set_active(mode == MODEL_MODE)
        if mode != MODEL_MODE:
            self.window.controller.set_settings(mode=mode)

    def _action_triggered(self, _checked: bool = False) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.choose(action.data())

    def sync_actions(self, *_args) -> None:
        mode = MODEL_MODE if self.active() else self.window.controller.scene.settings.mode
        for action in self.actions.actions():
            action.setChecked(action.data() == mode)

    def _toggled(self, on: bool) -> None:
        if on == self.active():
            return
        window = self.window
        if on:
            self._enter()
        else:
            self._leave()
        for action in (window.action_reset_vectors, window.lessons_menu.menuAction(),
                       window.action_open_lesson):
            action.setEnabled(not on)
        self.sync_actions()
        window.show_message("Real model mode: a pretrained BERT's heads, read offline." if on else
                            "Back to the toy lab, as you left it.")

    def _enter(self) -> None:
        window = self.window
        window.leave_lesson()  # a lesson owns the layout; it gives it back before the model takes it
        self.toy_state = window.saveState(MODEL_MODE_STATE)
        for name, dock in window.docks.items():
            dock.setVisible(name in MODEL_MODE_DOCKS)
        panel = window.model_panel  # built on first use
        window.centre_stack.setCurrentIndex(MODEL_PAGE)
        self._narrow_controls()
        QTimer.singleShot(0, self._narrow_controls)  # again once the hidden docks have left the layout
        window.undo_group.setActiveStack(panel.undo_stack)
        (panel.sentence if panel.model is not None else panel.picker).setFocus()

    def _leave(self) -> None:
        window = self.window
        window.centre_stack.setCurrentIndex(TOY_PAGE)
        if self.toy_state is not None:
            window.restoreState(self.toy_state, MODEL_MODE_STATE)
            self.toy_state = None
        window.undo_group.setActiveStack(window.controller.undo_stack)
        if self.size_docks_later:
            self.size_docks_later = False
            QTimer.singleShot(0, window._size_docks)
        QTimer.singleShot(0, self._tidy_tab_bars)

    def _narrow_controls(self) -> None:
        """The controls dock holds only the mode selector now: the model gets the width."""
        if self.active():
            window = self.window
            window.resizeDocks([window.docks["controlsDock"]], [max(230, int(window.width() * 0.16))],
                               Qt.Orientation.Horizontal)

    def _tidy_tab_bars(self) -> None:
        hide_stale_tab_bars(self.window)  # Qt 6.11 leaves a stray tab strip after restoreState (see tab_bars)
