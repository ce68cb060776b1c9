"""The vector inspector: one token's vectors at every stage, by named dimension, with q, k, v editable.

Rows are stages (embedding, position, input = their sum, then the projections q, k, v the token has in the
current mode); columns are the model's named dimensions. A q/k/v component is edited by typing in its cell,
by dragging its bar up or down, or with Up/Down (Shift: ×10); Delete resets it. Every edit goes through the
controller, so it is one undo step; the view repaints only when the controller says the scene changed.

Only the chosen token is ever turned into rows and bars: a 512-token sentence costs no more per update than a
seven-token one (the token picker's labels are computed lazily by its model, when the list is shown).
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QAbstractListModel, QEvent, QModelIndex, QPoint, Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from attnstudio.gui.controller import Controller
from attnstudio.gui.errors import guard_overrides
from attnstudio.gui.inspector_bars import NICE_SCALES, ComponentBars, _nice_scale
from attnstudio.gui.inspector_snapshot import (
    BIG_NUDGE,
    EDITABLE,
    NUDGE,
    STAGES,
    TokenSnapshot,
    _blend,
    _language_name,
    format_component,
    token_snapshot,
)
from attnstudio.gui.inspector_table import (
    EDITED_ROLE,
    ROW_LABELS,
    ROW_TIPS,
    ComponentDelegate,
    VectorTable,
    VectorTableModel,
    _header_label,
    _row_marked,
)
from attnstudio.gui.widgets import name_widget, signals_blocked

# The table, the bars and the snapshot they share live in their own modules (inspector_table, inspector_bars,
# inspector_snapshot); their names are imported here too, so imports written against this module keep working.

__all__ = ["ComponentBars", "TokenSnapshot", "VectorInspector", "VectorTable", "format_component"]

COLUMN_WIDTH = 66  # px: 16 columns + the row header fit a ~1200 px bottom dock


# -- the token picker ---------------------------------------------------------------------------------

@guard_overrides
class TokenListModel(QAbstractListModel):
    """Every query token then every key token; labels are made only when a row is displayed."""

    def __init__(self, controller: Controller, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._sides: tuple[tuple[str, int], ...] = ()  # (side, token count) per block, in order
        self._signature: tuple = ()

    def sync(self) -> bool:
        """Reset if the tokens or their roles changed (not on a mere vector edit); True if it did."""
        scene = self.controller.scene
        s = scene.settings
        signature = (s.mode, scene.source, scene.target, s.source_language, s.target_language)
        if signature == self._signature:
            return False
        self.beginResetModel()
        self._signature = signature
        sides = ("source",) if s.mode == "self" else ("target", "source")
        self._sides = tuple((side, len(scene.tokens(side).words)) for side in sides)
        self.endResetModel()
        return True

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else sum(n for _, n in self._sides)

    def choice(self, row: int) -> tuple[str, int] | None:
        for side, n in self._sides:
            if row < n:
                return (side, row) if row >= 0 else None
            row -= n
        return None

    def row_of(self, side: str, index: int) -> int:
        offset = 0
        for s, n in self._sides:
            if s == side and 0 <= index < n:
                return offset + index
            offset += n
        return -1

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        choice = self.choice(index.row()) if index.isValid() else None
        if choice is None or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        scene = self.controller.scene
        side, i = choice
        words = scene.tokens(side).words
        language = _language_name(self.controller, side)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Token {i + 1} of {len(words)} in the {language} sentence"
        roles = "query, key/value" if scene.settings.mode == "self" else ("query" if side == "target" else "key/value")
        surface = words[i].token.surface
        twin = any(w.token.key == words[i].token.key for j, w in enumerate(words) if j != i) if len(words) < 64 else True
        return f"{surface} #{i + 1} ({roles}, {language})" if twin else f"{surface} ({roles}, {language})"


# -- the panel ------------------------------------------------------------------------------------------

@guard_overrides
class VectorInspector(QWidget):
    """One token's vectors at every stage, by named dimension; its q, k, v editable by typing or dragging."""

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "vectorInspector", "Vector inspector")
        self.controller = controller
        self.choice: tuple[str, int] | None = None  # (side, token index) shown
        self._last_focus = controller.scene.focus
        self._own_edit = False  # a controller message arriving now answers this panel's edit

        self.tokens = TokenListModel(controller, self)
        self.picker = name_widget(QComboBox(self), "inspectorTokenPicker", "Token to inspect",
                                  "Which token's vectors to show: a query token (it asks) or a key/value token "
                                  "(it is looked at).")
        self.picker.setModel(self.tokens)
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setMinimumContentsLength(26)  # never measure 1000 labels to size the box
        self.picker.setMaxVisibleItems(20)
        picker_label = QLabel("&Token", self)
        picker_label.setBuddy(self.picker)
        self.role = name_widget(QLabel(self), "inspectorRole", "Token role")
        self.role.setWordWrap(True)
        self.reset_button = name_widget(QPushButton("Reset token", self), "inspectorResetToken", "Reset token",
                                        "Put back every q, k, v component of this token that you edited by hand.")
        self.message = name_widget(QLabel(self), "inspectorMessage", "Inspector message")
        self.message.setWordWrap(True)

        self.table_model = VectorTableModel(controller, self._apply_edit, self)
        self.table = name_widget(VectorTable(self), "vectorTable", "Vector components",
                                 "Rows: the stages of this token; columns: the named dimensions. "
                                 "Edit a q, k or v cell by typing; Up/Down nudge it; Delete resets it.")
        self.table.setModel(self.table_model)
        self.table.setItemDelegate(ComponentDelegate(self.table))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustIgnored)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setDefaultSectionSize(COLUMN_WIDTH)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)  # leave room to the bars
        self.table.verticalHeader().setMinimumWidth(96)
        self.bars = ComponentBars(self._column_geometry, self)
        self.bars.describe = self._describe_component

        self.empty = name_widget(QLabel("No tokens to inspect yet.\nType a sentence, and pick one of its words here "
                                        "to see its vectors.", self), "inspectorEmpty", "No tokens")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        content = QWidget(self)
        body = QVBoxLayout(content)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(2)
        body.addWidget(self.table)
        body.addWidget(self.bars, 1)
        scroller = QScrollArea(self)  # a short dock scrolls rather than squashing the bars flat
        scroller.setWidget(content)
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the table scrolls sideways
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.empty)
        self.pages.addWidget(scroller)
        top = QHBoxLayout()
        top.addWidget(picker_label)
        top.addWidget(self.picker)
        top.addWidget(self.role, 1)
        top.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.message)

        self.picker.activated.connect(self._on_picked)
        self.reset_button.clicked.connect(self.reset_token)
        self.table.nudge_requested.connect(self.nudge)
        self.table.reset_requested.connect(self.reset_components)
        self.table.customContextMenuRequested.connect(self._on_table_menu)
        self.table.selectionModel().currentChanged.connect(self._on_table_current)
        self.table.horizontalScrollBar().valueChanged.connect(self.bars.update)
        self.table.resized.connect(self._fit_table)
        self.bars.component_dragged.connect(self._on_dragged)
        self.bars.drag_started.connect(controller.end_merge)
        self.bars.drag_finished.connect(controller.end_merge)
        self.bars.nudge_requested.connect(self.nudge)
        self.bars.reset_requested.connect(self.reset_components)
        self.bars.current_changed.connect(self._on_bar_current)
        self.bars.customContextMenuRequested.connect(self._on_bars_menu)
        controller.scene_changed.connect(self._on_scene_changed)
        controller.focus_changed.connect(self._on_focus_changed)
        controller.message.connect(self._on_message)
        self._sync_palette()
        self._on_scene_changed(frozenset())

    # -- public -----------------------------------------------------------------------------------------
    def choose(self, side: str, index: int) -> None:
        """Show this token (ignored if it does not exist in the current mode)."""
        if self.tokens.row_of(side, index) < 0:
            return
        self.choice = (side, index)
        self.message.clear()
        if side == self.controller.scene.query_side():
            self._last_focus = index
            self.controller.set_focus(index)  # the other panels follow the query being inspected
        self._refresh()

    def snapshot(self) -> TokenSnapshot | None:
        return self.table_model.snapshot

    def role_text(self) -> str:
        return self.role.text()

    def nudge(self, stage: str, dim: int, delta: float) -> bool:
        """Add ``delta`` to a component; a burst of nudges of one component is one undo step."""
        snap = self.snapshot()
        if snap is None or stage not in snap.editable_stages:
            return False
        return self._set(stage, dim, round(float(snap.values[stage][dim]) + delta, 6), merge=True)

    def reset_components(self, cells: list[tuple[str, int]]) -> bool:
        """Reset the edited ones among ``cells`` (stage, dim) of the shown token, as one undo step."""
        snap = self.snapshot()
        if snap is None:
            return False
        keys = {(snap.side, snap.index, stage, dim): None for stage, dim in cells
                if stage in snap.editable_stages and snap.edited[stage][dim]}
        if not keys:
            return True
        self.controller.end_merge()
        if len(keys) == 1:
            return self.controller.reset_component(*next(iter(keys)))
        return self.controller.set_components(keys, f"Reset {len(keys)} components of '{snap.surface}'")

    def reset_token(self) -> bool:
        """Reset every hand edit of the shown token (in any stage), as one undo step."""
        snap = self.snapshot()
        if snap is None:
            return False
        keys = {key: None for key in self.controller.scene.overrides if key[:2] == (snap.side, snap.index)}
        if not keys:
            return True
        self.controller.end_merge()
        return self.controller.set_components(keys, f"Reset the vectors of '{snap.surface}'")

    def context_menu(self, stage: str | None, dim: int | None) -> QMenu:
        """The menu of a cell or bar (built, not shown: tests trigger its actions)."""
        snap = self.snapshot()
        menu = QMenu(self)
        one = menu.addAction("Reset this component")
        one.setEnabled(bool(snap and stage in snap.editable_stages and snap.edited[stage][dim]))
        one.triggered.connect(partial(self.reset_components, [(stage, dim)]))
        token = menu.addAction("Reset token", self.reset_token)
        token.setEnabled(bool(snap and any(k[:2] == (snap.side, snap.index) for k in self.controller.scene.overrides)))
        menu.addSeparator()
        menu.addAction("Copy", self._copy)
        return menu

    # -- view → controller --------------------------------------------------------------------------------
    def _set(self, stage: str, dim: int, value, merge: bool = False) -> bool:
        snap = self.snapshot()
        side = self.controller.scene.side_of(stage)  # q lives on the query side, k and v on the source
        assert side == snap.side, f"{stage} of a {snap.side} token belongs to the {side} side in this mode"
        self._own_edit = True
        try:
            ok = self.controller.set_component(side, snap.index, stage, dim, value, merge=merge)
        finally:
            self._own_edit = False
        if ok:
            self.message.clear()
        return ok

    def _apply_edit(self, stage: str, dim: int, text: str) -> bool:
        self.controller.end_merge()
        return self._set(stage, dim, text)

    def _on_dragged(self, stage: str, dim: int, value: float) -> None:
        self._set(stage, dim, value, merge=True)

    def _on_message(self, text: str) -> None:
        if self._own_edit:
            self.message.setText(f"⚠ Not applied: {text}")

    def _on_picked(self, row: int) -> None:
        choice = self.tokens.choice(row)
        if choice is not None:
            self.choose(*choice)

    def _on_table_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and self.table_model.stage(current.row()) in EDITABLE:
            self.bars.set_current(self.table_model.stage(current.row()), current.column())

    def _on_bar_current(self, stage: str, dim: int) -> None:
        snap = self.snapshot()
        index = self.table_model.index(snap.stages.index(stage), dim)
        if self.table.currentIndex() != index:
            self.table.setCurrentIndex(index)

    def _describe_component(self, stage: str, dim: int) -> str:
        snap = self.snapshot()
        return self.table_model.index(snap.stages.index(stage), dim).data(Qt.ItemDataRole.ToolTipRole)

    def _on_table_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        stage = self.table_model.stage(index.row()) if index.isValid() else None
        self.context_menu(stage, index.column() if index.isValid() else None).exec(self.table.viewport().mapToGlobal(pos))

    def _on_bars_menu(self, pos: QPoint) -> None:
        stage, dim = self.bars.hit(pos) or (None, None)
        self.context_menu(stage, dim).exec(self.bars.mapToGlobal(pos))

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.table.selected_text())

    # -- controller → view --------------------------------------------------------------------------------
    def _on_scene_changed(self, _what: frozenset) -> None:
        self.tokens.sync()
        if self.choice is None or self.tokens.row_of(*self.choice) < 0:
            self.choice = self._default_choice()
        self._refresh()

    def _on_focus_changed(self, focus: int) -> None:
        # Only a real move of the focus takes the inspector back to the query: a settings change re-announces
        # the same focus, and must not throw away the key token the learner picked.
        if focus == self._last_focus and self.choice is not None:
            return
        self._last_focus = focus
        side = self.controller.scene.query_side()
        if self.tokens.row_of(side, focus) >= 0 and self.choice != (side, focus):
            self.choice = (side, focus)
            self._refresh()

    def _default_choice(self) -> tuple[str, int] | None:
        scene = self.controller.scene
        if self.tokens.row_of(scene.query_side(), scene.focus) >= 0:
            return scene.query_side(), scene.focus
        return self.tokens.choice(0)

    def _refresh(self) -> None:
        snap = token_snapshot(self.controller, *self.choice) if self.choice else None
        with signals_blocked(self.picker):
            self.picker.setCurrentIndex(self.tokens.row_of(*self.choice) if self.choice else -1)
        self.pages.setCurrentIndex(1 if snap else 0)
        self.picker.setEnabled(snap is not None)
        reshaped = self.table_model.set_snapshot(snap)
        self.bars.set_snapshot(snap)
        self.role.setText(self._describe_role(snap) if snap else "")
        self.reset_button.setEnabled(bool(snap) and any(
            key[:2] == (snap.side, snap.index) for key in self.controller.scene.overrides))
        if reshaped:  # an edit that changes only numbers leaves the table's height as it was
            self._fit_table()

    def _describe_role(self, snap: TokenSnapshot) -> str:
        scene = self.controller.scene
        word = f"“{snap.surface}”"
        names = {side: _language_name(self.controller, side) for side in ("source", "target")}
        if scene.settings.mode == "self":
            return f"{word} asks a query and offers a key and a value: in self-attention the sentence looks at itself."
        if snap.side == "target":
            return (f"{word} asks a query: it looks for the {names['source']} word it translates. "
                    "Its keys/values are not used in translation mode.")
        return (f"{word} offers a key (matched against every {names['target']} query) and a value (what it passes on). "
                "It asks no query in translation mode.")

    def _fit_table(self) -> None:
        """Make the table exactly as tall as its rows (plus its scroll bar when the columns do not fit)."""
        table = self.table
        columns = table.horizontalHeader().length() + table.verticalHeader().width() + 2 * table.frameWidth()
        scroll = table.horizontalScrollBar().sizeHint().height() if columns > table.width() else 0
        rows = table.verticalHeader().length()
        table.setFixedHeight(table.horizontalHeader().sizeHint().height() + rows + 2 * table.frameWidth() + scroll)

    def _column_geometry(self) -> tuple[list[tuple[int, int]], int, int]:
        """Where each table column sits, in the bars' coordinates, so a bar stands under its number."""
        viewport = self.table.viewport()
        origin = self.bars.mapFrom(self, viewport.mapTo(self, QPoint(0, 0))).x()
        spans = [(origin + self.table.columnViewportPosition(c), self.table.columnWidth(c))
                 for c in range(self.table_model.columnCount())]
        right = origin + viewport.width()
        if spans:  # the strips end with the last column, not at the far edge of a wide dock
            right = min(right, spans[-1][0] + spans[-1][1])
        return spans, origin, right

    def _sync_palette(self) -> None:
        self.table_model.palette = self.table.palette()
        self.table_model.bold = QFont(self.table.font())
        self.table_model.bold.setBold(True)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self._sync_palette()
            self.table.viewport().update()
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_table()  # the header's height changes with the font (edits refit only on a new shape)
        super().changeEvent(event)
