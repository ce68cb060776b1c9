"""The main window: panels in docks around the alignment canvas, menus, files, undo history.

Model mode (the mode selector's "Real model", or File → Open Model…) swaps the toy lab in the centre for a real
model's workspace and hides the toy-only panels; a toy mode brings the learner's layout back exactly. The toy
scene never hears of it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoGroup, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QFileDialog,
    QFrame,
    QScrollArea,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QUndoView,
    QWidget,
)

from attnstudio._version import __version__
from attnstudio.gui.alignment import AlignmentCanvas, SpotlightStrip
from attnstudio.gui.autosave import Autosaver, find_orphans, read_orphan
from attnstudio.gui.controller import Controller
from attnstudio.gui.controls_panel import ControlsPanel
from attnstudio.gui.errors import guard_overrides
from attnstudio.gui.heatmap import HeatmapView
from attnstudio.gui.inspector import VectorInspector
from attnstudio.gui.model_mode import ModelMode, centre_stack, set_model_page
from attnstudio.gui.painting import Theme
from attnstudio.gui.qkspace import QueryKeySpace
from attnstudio.gui.sentence_panel import SentencePanel
from attnstudio.gui.tab_bars import TabBarTidier
from attnstudio.gui.widgets import LazyPanel, name_widget
from attnstudio.scene import Scene

if TYPE_CHECKING:
    from attnstudio.gui.lesson_panel import LessonPanel
    from attnstudio.gui.model_panel import ModelPanel
    from attnstudio.gui.trace import ComputationPanel

__all__ = ["MainWindow"]

SCENE_FILTER = "AttnStudio scenes (*.attn.json);;JSON files (*.json);;All files (*)"
MAX_RECENT = 8
SCROLLED_DOCKS = {"sentenceDock", "controlsDock", "queryKeyDock"}
LAYOUT_VERSION = 4  # bump when the dock set changes, so an old saved layout is not restored onto it


@guard_overrides
class MainWindow(QMainWindow):
    """The complete window with the seed pair loaded and "black" focused."""

    def __init__(self, scene: Scene | None = None, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setAccessibleName("AttnStudio")
        self.settings = settings or QSettings()
        self.controller = Controller(scene, parent=self)
        self.setDockNestingEnabled(True)

        self.canvas = AlignmentCanvas(self.controller)
        self.spotlight = SpotlightStrip(self.controller)
        centre = QSplitter(Qt.Orientation.Vertical)
        centre.setObjectName("centreSplitter")
        centre.addWidget(self.canvas)
        centre.addWidget(self.spotlight)
        centre.setStretchFactor(0, 5)
        centre.setStretchFactor(1, 1)
        centre.setChildrenCollapsible(False)
        self._model_panel: ModelPanel | None = None  # the real-model workspace, built on first use
        self.centre_stack = centre_stack(centre)
        self.setCentralWidget(self.centre_stack)

        self.sentence_panel = SentencePanel(self.controller)
        self.controls_panel = ControlsPanel(self.controller)
        self.heatmap = HeatmapView(self.controller)
        self.query_key_space = QueryKeySpace(self.controller)
        self.inspector = VectorInspector(self.controller)
        # The trace starts behind the inspector's tab, the history behind the query–key space's: each is built the
        # first time its tab is shown or it is asked for (the properties below).
        self._trace_panel = LazyPanel("traceHolder", self._make_trace)
        self._undo_panel = LazyPanel("undoHolder", self._make_undo_view)

        self.docks: dict[str, QDockWidget] = {}
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self._dock("sentenceDock", "Sentences", self.sentence_panel, left)
        self._dock("controlsDock", "Controls", self.controls_panel, left)
        self._dock("heatmapDock", "Heatmap", self.heatmap, right)
        self._dock("queryKeyDock", "Query–key space", self.query_key_space, right)
        self._dock("inspectorDock", "Vector inspector", self.inspector, bottom)
        self._dock("traceDock", "Computation trace", self._trace_panel, bottom)
        self._dock("undoDock", "Undo history", self._undo_panel, right)
        self.tabifyDockWidget(self.docks["inspectorDock"], self.docks["traceDock"])
        self.docks["inspectorDock"].raise_()
        self.tabifyDockWidget(self.docks["queryKeyDock"], self.docks["undoDock"])
        self.docks["queryKeyDock"].raise_()
        self.docks["undoDock"].visibilityChanged.connect(self._on_undo_dock_visible)
        self.docks["traceDock"].visibilityChanged.connect(self._trace_panel.build_when_visible)
        # Lessons share the sentences' place: their steps lock the sentences, and the text needs the height.
        # The player starts behind the sentences' tab: built when its tab is shown, or a lesson is asked for.
        self._lesson_holder = LazyPanel("lessonHolder", self._make_lesson_panel)
        self._dock("lessonDock", "Lessons", self._lesson_holder, left)
        self.tabifyDockWidget(self.docks["sentenceDock"], self.docks["lessonDock"])
        self.docks["sentenceDock"].raise_()
        self.docks["lessonDock"].visibilityChanged.connect(self._lesson_holder.build_when_visible)
        self.tab_bar_tidier = TabBarTidier(self)  # hides the stray tab strips Qt leaves (see tab_bars)

        self._build_actions()
        self._build_menus()
        self.status_label = name_widget(QLabel(self), "statusMessage", "Status message")
        self.statusBar().addWidget(self.status_label, 1)
        self.controller.message.connect(self.show_message)
        self.controller.path_changed.connect(self._update_title)
        self.controller.undo_stack.cleanChanged.connect(self._update_title)
        self.controller.history_changed.connect(self._on_history_changed)
        self._update_title()
        self._restore_layout()
        self.autosaver = Autosaver(self.controller, parent=self)

    # -- construction -----------------------------------------------------------------------------------
    def _on_undo_dock_visible(self, visible: bool) -> None:
        """Give the history its stack only while its tab is shown.

        QUndoView lays every row out again on each edit, and a dock behind another tab still counts as visible
        (QMainWindow parks it off-screen): with 1000 steps that cost ~6 ms per edit for a list nobody saw.
        """
        if visible or self._undo_panel.built:
            self.undo_view.setStack(self.controller.undo_stack if visible else None)

    def _on_history_changed(self, old: QUndoStack, new: QUndoStack) -> None:
        """Edits go to another history (a lesson's, or back to the learner's): Undo, the title and the list follow."""
        old.cleanChanged.disconnect(self._update_title)
        new.cleanChanged.connect(self._update_title)
        self.undo_group.addStack(new)
        if self.undo_group.activeStack() is old:  # in model mode the model's history stays the active one
            self.undo_group.setActiveStack(new)
        if self._undo_panel.built:
            self.undo_view.setEmptyLabel(self._history_start())
            if self.undo_view.stack() is old:
                self.undo_view.setStack(new)
        self._update_title()

    def _history_start(self) -> str:
        return "Start of this lesson step" if self.controller.separate_history else "Start (seed example)"

    def _make_trace(self) -> ComputationPanel:
        from attnstudio.gui.trace import ComputationPanel  # with its panel: ~4 ms of imports off every start

        return ComputationPanel(self.controller)

    def _make_undo_view(self) -> QUndoView:
        view = name_widget(QUndoView(), "undoHistory", "Undo history",
                           "Every edit you made; click a line to go back to that point.")
        view.setEmptyLabel(self._history_start())
        return view

    @property
    def undo_view(self) -> QUndoView:
        """The undo history, built the first time its tab is shown or it is asked for (~5 ms of every start)."""
        return self._undo_panel.widget()

    @property
    def trace(self) -> ComputationPanel:
        """The computation trace, built the first time its tab is shown or it is asked for.

        It starts behind the vector inspector's tab: building it (and laying its two tables out) at start cost
        ~10 ms of every start-up for a panel nobody sees yet.
        """
        return self._trace_panel.widget()

    @property
    def lesson_panel(self) -> LessonPanel:
        """The lesson list and player, built the first time its tab is shown or a lesson is asked for.

        Building it at start read every shipped lesson and built the player's pages (~50 ms of CPU before the
        first paint) for a tab that starts behind the sentences'.
        """
        return self._lesson_holder.widget()

    def _make_lesson_panel(self) -> LessonPanel:
        from attnstudio.gui.lesson_panel import LessonPanel

        return LessonPanel(self.controller, self, self.action_open_lesson, self.action_leave_lesson)

    def _open_lesson_dialog(self) -> None:
        self.lesson_panel.open_lesson_dialog()

    def _fill_lessons_menu(self) -> None:
        self.lesson_panel.fill_menu(self.lessons_menu)

    def leave_lesson(self) -> None:
        """End the running lesson, if any (a player never built has none)."""
        if self._lesson_holder.built:
            self.lesson_panel.leave()

    def ensure_panels(self) -> None:
        """Build every panel that is built on first use (lessons address panels by their objectNames)."""
        self._trace_panel.widget()
        self._undo_panel.widget()

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setAccessibleName(title)
        if name in SCROLLED_DOCKS:
            # A panel taller than its dock scrolls instead of forcing the window past the screen (1280×800).
            scroll = QScrollArea()
            scroll.setObjectName(f"{name}Scroll")
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(widget)
            dock.setWidget(scroll)
        else:
            dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def _action(self, name: str, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        if slot is not None:
            action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        # Edit → Undo undoes the toy scene's edits, or in model mode the real model's query edits.
        self.undo_group = QUndoGroup(self)
        self.undo_group.addStack(self.controller.undo_stack)
        self.undo_group.setActiveStack(self.controller.undo_stack)
        stack = self.undo_group
        self.action_new = self._action("actionNew", "&New", self.new_scene, QKeySequence.StandardKey.New,
                                       "Start again from the seed example")
        self.action_open = self._action("actionOpen", "&Open…", self.open_scene_dialog, QKeySequence.StandardKey.Open,
                                        "Open a saved scene (*.attn.json)")
        self.action_save = self._action("actionSave", "&Save", self.save_scene, QKeySequence.StandardKey.Save,
                                        "Save the scene")
        self.action_save_as = self._action("actionSaveAs", "Save &As…", self.save_scene_as,
                                           QKeySequence.StandardKey.SaveAs, "Save the scene under a new name")
        self.action_export_image = self._action("actionExportImage", "&Export Image…", self.export_image, "Ctrl+E",
                                                "Export the alignment or the heatmap as PNG, SVG or PDF")
        self.action_export_weights = self._action("actionExportWeights", "Export &Weights…", self.export_weights,
                                                  None, "Save the attention weights as a CSV table or a JSON file")
        self.action_open_lesson = self._action("actionOpenLesson", "Open &Lesson…", self._open_lesson_dialog, None,
                                                "Open a lesson file (*.toml) from anywhere")
        self.action_leave_lesson = self._action("actionLeaveLesson", "&Leave Lesson", self.leave_lesson, None,
                                                "End the lesson and get your own scene back")
        self.action_leave_lesson.setEnabled(False)  # the player enables it while a lesson runs
        self.action_copy_image = self._action("actionCopyImage", "Copy &Image", self.copy_image, "Ctrl+Shift+C",
                                              "Copy the alignment (the heatmap, when it has the focus) as an image")
        self.action_open_model = self._action("actionOpenModel", "Open &Model…", self.open_model, None,
                                              "Open a real BERT model (offline) and look at its heads")
        self.action_quit = self._action("actionQuit", "&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.action_undo = stack.createUndoAction(self, "&Undo")
        self.action_undo.setObjectName("actionUndo")
        self.action_undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.action_redo = stack.createRedoAction(self, "&Redo")
        self.action_redo.setObjectName("actionRedo")
        self.action_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for action in (self.action_undo, self.action_redo):
            self.addAction(action)
        self.action_reset_vectors = self._action("actionResetVectors", "Reset &Vectors", self.controller.reset_overrides,
                                                 "Ctrl+R", "Undo every hand edit of q, k and v")
        self.modes = ModelMode(self)  # the View menu's mode actions and the switch to a real model

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.setObjectName("menuFile")
        for action in (self.action_new, self.action_open):
            file_menu.addAction(action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.setObjectName("menuRecent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(self.action_open_lesson)
        file_menu.addAction(self.action_open_model)
        file_menu.addSeparator()
        for action in (self.action_save, self.action_save_as):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.action_export_image)
        file_menu.addAction(self.action_export_weights)
        file_menu.addSeparator()
        file_menu.addAction(self.action_quit)
        self.file_menu = file_menu

        edit_menu = bar.addMenu("&Edit")
        edit_menu.setObjectName("menuEdit")
        edit_menu.addAction(self.action_undo)
        edit_menu.addAction(self.action_redo)
        edit_menu.addSeparator()
        edit_menu.addAction(self.action_copy_image)
        edit_menu.addSeparator()
        edit_menu.addAction(self.action_reset_vectors)
        self.edit_menu = edit_menu

        view_menu = bar.addMenu("&View")
        view_menu.setObjectName("menuView")
        for action in self.modes.actions.actions():
            view_menu.addAction(action)
        view_menu.addSeparator()
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        view_menu.addAction(self._action("actionResetLayout", "Reset &Layout", self.reset_layout, None,
                                         "Put every panel back where it started"))
        self.view_menu = view_menu

        lessons_menu = bar.addMenu("&Lessons")
        lessons_menu.setObjectName("menuLessons")
        # Both actions now; the lessons themselves are listed each time the menu opens (the player is built then).
        lessons_menu.addAction(self.action_open_lesson)
        lessons_menu.addAction(self.action_leave_lesson)
        lessons_menu.aboutToShow.connect(self._fill_lessons_menu)
        self.lessons_menu = lessons_menu

        help_menu = bar.addMenu("&Help")
        help_menu.setObjectName("menuHelp")
        help_menu.addAction(self._action("actionAbout", "&About AttnStudio", self._about))

    # -- files --------------------------------------------------------------------------------------------
    def _confirm_discard(self) -> bool:
        """Ask before losing unsaved edits; True when it is fine to go on."""
        if not self.is_modified():
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes", "The scene has changes that are not saved. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save_scene()
        return answer == QMessageBox.StandardButton.Discard

    def new_scene(self) -> None:
        if self._confirm_discard():
            self.set_model_mode(False)
            self.controller.new_scene()

    def open_scene_dialog(self) -> None:
        if not self._confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open scene", self._last_folder(), SCENE_FILTER)
        if path:
            self.open_scene(path)

    def open_scene(self, path: str) -> bool:
        self.set_model_mode(False)
        if self.controller.open_scene(path):
            self._add_recent(path)
            return True
        QMessageBox.warning(self, "Cannot open scene", self.status_label.text())
        return False

    def save_scene(self) -> bool:
        if not self.controller.path:
            return self.save_scene_as()
        return self.controller.save_scene(self.controller.path)

    def save_scene_as(self) -> bool:
        start = self.controller.path or os.path.join(self._last_folder(), "scene.attn.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save scene", start, SCENE_FILTER)
        if not path:
            return False
        if not path.endswith(".json"):
            path += ".attn.json"
        if self.controller.save_scene(path):
            self._add_recent(path)
            return True
        QMessageBox.warning(self, "Cannot save scene", self.status_label.text())
        return False

    def _last_folder(self) -> str:
        recent = self.recent_files()
        return os.path.dirname(recent[0]) if recent else os.path.expanduser("~")

    def recent_files(self) -> list[str]:
        value = self.settings.value("recentFiles", [])
        if isinstance(value, str):
            value = [value]
        return [p for p in (value or []) if isinstance(p, str)]

    def _add_recent(self, path: str) -> None:
        path = os.path.abspath(path)
        files = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recentFiles", files[:MAX_RECENT])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        if not files:
            self.recent_menu.addAction("(none yet)").setEnabled(False)
        for i, path in enumerate(files):
            action = self.recent_menu.addAction(f"&{i + 1} {os.path.basename(path)}")
            action.setToolTip(path)
            action.setData(path)
            action.triggered.connect(self._open_recent)

    def _open_recent(self) -> None:
        action = self.sender()
        if action is not None and self._confirm_discard():
            self.open_scene(action.data())

    def _update_title(self, *_args) -> None:
        name = os.path.basename(self.controller.path) if self.controller.path else "Untitled"
        self.setWindowTitle(f"{name}[*] — AttnStudio")
        self.setWindowModified(not self.controller.undo_stack.isClean())

    def is_modified(self) -> bool:
        return not self.controller.undo_stack.isClean() or self.isWindowModified()

    def show_message(self, text: str) -> None:
        self.status_label.setText(text)
        self.statusBar().showMessage("")

    def _about(self) -> None:
        QMessageBox.about(self, "About AttnStudio",
                          f"<b>AttnStudio {__version__}</b><p>An offline lab for the attention mechanism of "
                          "transformers: move the vectors yourself and watch the spotlight follow.</p>")

    # -- export (attnstudio.gui.export_dialog does the work) ------------------------------------------------
    def export_figure(self):
        """What Export Image and Copy Image draw: the toy alignment, or in model mode the shown head (or None)."""
        return self.model_panel.export_figure() if self.model_mode() else self.canvas.figure()

    def export_image(self) -> None:
        figure = self.export_figure()
        if figure is None:
            self.show_message("Nothing to export yet: choose a model first.")
            return
        from attnstudio.gui import export_dialog  # on first use: not needed to start the window

        dialog = export_dialog.ExportDialog(figure, self.settings, self)
        if self.model_mode() and self.model_panel.views.currentWidget() is self.model_panel.heatmap:
            dialog.view.setCurrentIndex(dialog.view.findData("heatmap"))
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.show_message(f"Exported the figure to {dialog.saved_path}")

    def current_view(self) -> str:
        """The view Copy Image copies: the heatmap when it has the keyboard focus (or its tab shows), else lines."""
        if self.model_mode():
            return "heatmap" if self.model_panel.views.currentWidget() is self.model_panel.heatmap else "lines"
        focus = QApplication.focusWidget()
        return "heatmap" if focus is not None and self.heatmap.isAncestorOf(focus) else "lines"

    def copy_image(self) -> None:
        figure = self.export_figure()
        if figure is None:
            self.show_message("Nothing to copy yet: choose a model first.")
            return
        view = self.current_view()
        from attnstudio.gui import export_dialog  # on first use: not needed to start the window

        export_dialog.copy_image(figure, view, Theme.from_palette(self.canvas.palette()),
                                 max(2.0, self.devicePixelRatioF()))
        self.show_message(f"Copied the {'heatmap' if view == 'heatmap' else 'alignment'} as an image")

    def export_weights(self) -> None:
        """The toy scene's weights, or in model mode the shown view of the real model (as the CLI writes them)."""
        model = self.model_panel if self.model_mode() else None
        if model is not None and model.base is None:
            self.show_message("Nothing to export yet: choose a model first.")
            return
        from attnstudio.gui import export_dialog  # on first use: not needed to start the window

        path = export_dialog.export_weights(self, self.controller.scene, self.settings,
                                            None if model is None else model.weights_bytes)
        if path:
            self.show_message(f"Exported the weights to {path}")

    @property
    def model_panel(self) -> ModelPanel:
        """The real-model workspace, built (and its modules imported) the first time it is needed.

        Most sessions never open a real model: building it at start cost ~30 ms of every start-up.
        """
        if self._model_panel is None:
            from attnstudio.gui.model_panel import ModelPanel

            panel = ModelPanel()
            panel.message.connect(self.show_message)
            set_model_page(self.centre_stack, panel)
            self.undo_group.addStack(panel.undo_stack)
            self._model_panel = panel
        return self._model_panel

    def open_model(self) -> None:
        """Enter model mode; ask for a folder when no model was found on this computer."""
        self.set_model_mode(True)
        panel = self.model_panel
        if panel.picker.count() <= 1 and panel.open_button.isEnabled() and not panel.is_loading():
            panel.open_folder_dialog()
        else:
            panel.picker.setFocus()

    # -- model mode (attnstudio.gui.model_mode does the work) --------------------------------------------
    def model_mode(self) -> bool:
        return self.modes.active()

    def set_model_mode(self, on: bool) -> None:
        """Show a real model's workspace in the centre (True) or the toy lab as the learner left it (False)."""
        self.modes.set_active(on)

    def choose_mode(self, mode: str) -> None:
        """"translation" or "self" (the toy scene's setting), or "model" (the window's)."""
        self.modes.choose(mode)

    # -- layout -------------------------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        self._default_state = self.saveState(LAYOUT_VERSION)
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(self._first_size())
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state, LAYOUT_VERSION)
        QTimer.singleShot(0, self._size_docks)

    def _first_size(self) -> QSize:
        """On a first start: most of the screen (1280×800 at least, where the screen allows)."""
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        if screen is None or screen.width() <= 0:
            return QSize(1280, 800)
        width = min(screen.width(), max(1280, int(screen.width() * 0.88)))
        height = min(screen.height(), max(800, int(screen.height() * 0.9)))
        return QSize(width, height)

    def _size_docks(self) -> None:
        """Share the space sensibly at any window size (1280×800 … 1920×1080)."""
        if self.settings.value("window/state"):
            return
        if self.model_mode():  # the toy docks are hidden: size them when they come back
            self.modes.size_docks_later = True
            return
        w, h = self.width(), self.height()
        self.resizeDocks([self.docks["sentenceDock"], self.docks["heatmapDock"]],
                         [int(w * 0.25), int(w * 0.30)], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["inspectorDock"]], [int(h * 0.28)], Qt.Orientation.Vertical)
        # Both sentences with all their words first (without a scroll bar where the height allows), the controls
        # below them: together 70% of the height, as the inspector takes most of the rest.
        sentences = max(int(h * 0.36), self.docks["sentenceDock"].sizeHint().height())
        self.resizeDocks([self.docks["sentenceDock"], self.docks["controlsDock"]],
                         [sentences, max(int(h * 0.70) - sentences, int(h * 0.2))], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["heatmapDock"], self.docks["queryKeyDock"]],
                         [int(h * 0.32), int(h * 0.38)], Qt.Orientation.Vertical)

    def reset_layout(self) -> None:
        self.set_model_mode(False)
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for dock in self.docks.values():
            dock.show()
        self.settings.remove("window/state")
        self._size_docks()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.leave_lesson()  # keep the learner's own scene and layout, not the lesson's (progress is saved)
        if not self._confirm_discard():
            event.ignore()  # still in model mode, a model still loading, if that is where the learner was
            return
        if self._model_panel is not None:
            self._model_panel.shutdown()
        self.set_model_mode(False)  # the toy layout is the one kept for next time
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        self.autosaver.discard()
        event.accept()

    # -- crash recovery ---------------------------------------------------------------------------------
    def offer_recovery(self, ask=None) -> bool:
        """If an earlier session died with unsaved work, offer to restore it. True when restored.

        ``ask(text) -> bool`` replaces the question dialog (tests, scripted starts).
        """
        orphans = find_orphans(self.autosaver.folder)
        if not orphans:
            return False
        newest = orphans[0]
        try:
            document, meta = read_orphan(newest)
        except (OSError, ValueError) as exc:
            self.show_message(f"An autosave could not be read and was set aside: {exc}")
            self._retire(orphans)
            return False
        if document == self.controller.scene.to_dict():  # the same as what is open (the seed): nothing to give back
            self._retire(orphans)
            return False
        text = ("AttnStudio did not close normally last time, and it kept your work.\n\n"
                f"Source: {document.get('source', '')}\nTarget: {document.get('target', '')}\n\nRestore it?")
        if ask is None:
            answer = QMessageBox.question(self, "Restore your work?", text,
                                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                          QMessageBox.StandardButton.Yes)
            wanted = answer == QMessageBox.StandardButton.Yes
        else:
            wanted = bool(ask(text))
        restored = False
        if wanted:
            try:
                self.controller.scene.load_dict(document)
            except ValueError as exc:
                self.show_message(f"The autosave could not be restored: {exc}")
            else:
                self.controller.undo_stack.clear()
                self.controller.undo_stack.resetClean()  # restored work is unsaved work
                path = meta.get("path")
                self.controller._set_path(path if isinstance(path, str) else None)
                self.autosaver.extra = dict(meta.get("extra") or {})
                self.setWindowModified(True)
                self.autosaver.save_now()
                message = "Your autosaved work was restored. Save it to keep it."
                # It crashed in a lesson: the document is the learner's own scene, the lesson goes on over it.
                lesson = self.autosaver.extra.get("lesson")
                if lesson is not None:
                    if self.lesson_panel.resume(lesson, self.autosaver.extra.get("step")):
                        message = ("Your autosaved work was restored and the lesson reopened where you were; "
                                   "“Leave lesson” gives you your work back — save it to keep it.")
                    else:  # gone since (a lesson file opened from elsewhere): not asked for again next time
                        self.autosaver.set_extra(lesson=None, step=None)
                self.show_message(message)
                restored = True
        self._retire(orphans)
        return restored

    def _retire(self, paths: list[str]) -> None:
        for path in paths:
            try:
                os.unlink(path)
            except OSError:
                pass
