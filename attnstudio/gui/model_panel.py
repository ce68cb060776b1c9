"""The Model workspace: open a real BERT, read a sentence through it, look at every head, and edit a query.

A self-contained panel with its own undo stack (the toy scene keeps Ctrl+Z): each drag of the focused query
is one undo step, and undo recomputes from the remembered query, so the weights come back exactly.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from attnstudio.engine.real.bert import BertForward, BertModel, LayerTrace, QueryEdit
from attnstudio.engine.real.errors import ModelError
from attnstudio.engine.real.sources import ModelSource
from attnstudio.engine.real.summaries import attention_rollout, head_average, keep_tokens, query_key_plane
from attnstudio.gui.model_commands import EditKey, PropagateCommand, QueryEditCommand
from attnstudio.gui.model_loader import ModelChooser, ModelLoader, models_available
from attnstudio.gui.model_views import AttentionView, HeadGrid, QueryKeyPlane
from attnstudio.gui.painting import AlignmentFigure
from attnstudio.gui.widgets import name_widget, signals_blocked

__all__ = ["ModelLoader", "ModelPanel", "models_available"]

DEFAULT_SENTENCE = "The cat sat on the mat because it was tired."
VIEW_NAMES = {"head": "One head", "average": "Head average", "rollout": "Attention rollout"}
_drag_ids = itertools.count(1)


class ModelPanel(QWidget):
    """A real model's attention: picker, sentence, all heads, one head in detail, and the editable query."""

    model_loaded = Signal(object)  # BertModel
    weights_changed = Signal()  # the shown weights (or the run behind them) changed
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelPanel")
        self.setAccessibleName("Model workspace")
        self.model: BertModel | None = None
        self.base: BertForward | None = None  # the sentence with the propagated edits
        self.layers: list[LayerTrace] = []  # what is shown: base's layers, edited ones recomputed in place
        self.edits: dict[EditKey, np.ndarray] = {}
        self.propagated: dict[EditKey, np.ndarray] = {}
        self.layer = self.head = 0
        self.focus: int | None = 1
        self.closed_drag = 0
        self._drag: tuple[int, EditKey, np.ndarray, np.ndarray] | None = None  # id, key, q at press, point
        self._plane: tuple[np.ndarray, np.ndarray] | None = None  # (mean, basis) of the shown head
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(200)
        self._build()

    # -- construction -----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.chooser = ModelChooser()
        self.chooser.loaded.connect(self._load_done)
        self.chooser.message.connect(self.message)
        self.picker, self.open_button = self.chooser.picker, self.chooser.open_button
        self.progress, self.status = self.chooser.progress, self.chooser.status

        self.sentence = name_widget(QLineEdit(DEFAULT_SENTENCE), "modelSentence", "Sentence",
                                    "Type a sentence; it is split into the model's word pieces")
        self.sentence.editingFinished.connect(self._sentence_edited)
        self.hide_special = name_widget(QCheckBox("Hide [CLS]/[SEP]"), "modelHideSpecial", "Hide special tokens",
                                        "Leave out [CLS] and [SEP]; the rest of each row is renormalised")
        self.dim_special = name_widget(QCheckBox("Dim special tokens"), "modelDimSpecial", "Dim special tokens",
                                       "Grey out the columns of [CLS] and [SEP], which soak up many heads")
        for box in (self.hide_special, self.dim_special):
            box.toggled.connect(self._redraw)
        words = QHBoxLayout()
        words.addWidget(QLabel("Sentence:"))
        words.addWidget(self.sentence, 1)
        words.addWidget(self.hide_special)
        words.addWidget(self.dim_special)

        self.layer_selector = name_widget(QSpinBox(), "modelLayerSelector", "Layer")
        self.head_selector = name_widget(QSpinBox(), "modelHeadSelector", "Head")
        self.layer_selector.valueChanged.connect(self._layer_chosen)
        self.head_selector.valueChanged.connect(self._head_chosen)
        self.focus_selector = name_widget(QComboBox(), "modelFocusSelector", "Focused token",
                                          "The query token whose q, k, v and weights are shown")
        self.focus_selector.currentIndexChanged.connect(self._focus_chosen)
        self.view_selector = name_widget(QComboBox(), "modelViewSelector", "What to show")
        for key, text in VIEW_NAMES.items():
            self.view_selector.addItem(text, key)
        self.view_selector.currentIndexChanged.connect(self._redraw)
        choose = QHBoxLayout()
        for text, widget in (("Layer", self.layer_selector), ("Head", self.head_selector),
                             ("Token", self.focus_selector), ("Show", self.view_selector)):
            choose.addWidget(QLabel(text))
            choose.addWidget(widget)
        choose.addStretch(1)

        self.grid = HeadGrid()
        self.grid.head_clicked.connect(self.select_head)
        self.lines = AttentionView("lines", "modelAlignment")
        self.heatmap = AttentionView("heatmap", "modelHeatmap")
        for view in (self.lines, self.heatmap):
            view.token_clicked.connect(self._view_token_clicked)
        self.views = QTabWidget()
        self.views.setObjectName("modelViews")
        self.views.addTab(self.lines, "Lines")
        self.views.addTab(self.heatmap, "Heatmap")

        self.qkv_table = name_widget(QTableWidget(3, 0), "modelQkvTable", "q, k and v of the focused token")
        self.qkv_table.setVerticalHeaderLabels(["q", "k", "v"])
        self.qkv_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.qkv_table.horizontalHeader().setMinimumSectionSize(30)
        self.qkv_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.qkv_table.verticalHeader().setDefaultSectionSize(22)
        self.qkv_table.horizontalHeader().setDefaultSectionSize(48)
        self.qkv_table.setFixedHeight(3 * 22 + 24 + self.qkv_table.horizontalScrollBar().sizeHint().height() + 4)
        self.plane = QueryKeyPlane()
        self.plane.drag_started.connect(self._plane_drag_started)
        self.plane.query_moved.connect(self._plane_query_moved)
        self.plane.drag_finished.connect(self._plane_drag_finished)
        self.undo_button = name_widget(QPushButton("Undo"), "modelUndo", "Undo the last query edit")
        self.redo_button = name_widget(QPushButton("Redo"), "modelRedo", "Redo the query edit")
        self.undo_button.clicked.connect(self.undo_stack.undo)
        self.redo_button.clicked.connect(self.undo_stack.redo)
        self.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)
        self.propagate_button = name_widget(
            QPushButton("Propagate ↑"), "modelPropagate", "Propagate",
            "Recompute the layers above with the edited query, so the later heads in the grid change too")
        self.propagate_button.clicked.connect(self.propagate)
        self.propagate_button.setEnabled(False)
        buttons = QHBoxLayout()
        for button in (self.undo_button, self.redo_button, self.propagate_button):
            buttons.addWidget(button)
        self.edit_note = name_widget(QLabel(), "modelEditNote", "Edit state")
        self.edit_note.setWordWrap(True)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.qkv_table)
        side_layout.addWidget(self.plane, 1)
        side_layout.addLayout(buttons)
        side_layout.addWidget(self.edit_note)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("modelSplitter")
        split.addWidget(self.grid)
        split.addWidget(self.views)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 4)
        split.setStretchFactor(2, 3)
        split.setSizes([400, 480, 380])
        split.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.chooser)
        layout.addLayout(words)
        layout.addLayout(choose)
        layout.addWidget(split, 1)
        self._set_enabled(False)

    def _set_enabled(self, on: bool) -> None:
        for widget in (self.sentence, self.hide_special, self.dim_special, self.layer_selector, self.head_selector,
                       self.focus_selector, self.view_selector):
            widget.setEnabled(on)

    # -- choosing and loading a model (the chooser does the reading) ------------------------------------
    def refresh_models(self) -> None:
        self.chooser.refresh()

    def open_folder_dialog(self) -> None:
        self.chooser.open_folder_dialog()

    def load(self, source: str | ModelSource) -> None:
        """Start reading a model in the background; ``model_loaded`` or a message follows."""
        self.chooser.load(source)

    def is_loading(self) -> bool:
        return self.chooser.is_loading()

    def shutdown(self) -> None:
        """Stop a load in progress and wait for it (the window calls this when it closes)."""
        self.chooser.shutdown()

    def _load_done(self, model: BertModel) -> None:
        self.model = model
        self.layer = min(self.layer, model.num_layers - 1)
        self.head = min(self.head, model.num_heads - 1)
        with signals_blocked(self.layer_selector), signals_blocked(self.head_selector):
            self.layer_selector.setRange(0, model.num_layers - 1)
            self.head_selector.setRange(0, model.num_heads - 1)
            self.layer_selector.setValue(self.layer)
            self.head_selector.setValue(self.head)
        self._set_enabled(True)
        self._say(f"{model.name}: {model.num_layers} layers × {model.num_heads} heads, d_model {model.d_model}, "
                  f"d_head {model.d_head}.")
        self.set_sentence(self.sentence.text())
        self.model_loaded.emit(model)

    def _say(self, text: str, error: bool = False) -> None:
        self.chooser.say(text, error)

    # -- the sentence and the run -----------------------------------------------------------------------
    def _sentence_edited(self) -> None:
        if self.model is not None and self.base is not None and self.sentence.text() != self.base.tokens.text:
            self.set_sentence(self.sentence.text())

    def set_sentence(self, text: str) -> None:
        """Read ``text`` through the model; forgets the query edits (they belong to the old tokens)."""
        if self.model is None:
            return
        with signals_blocked(self.sentence):
            self.sentence.setText(text)
        try:
            run = self.model.forward(text)
        except (ValueError, ModelError) as exc:
            self._say(f"Cannot read this sentence: {exc}", error=True)
            return
        self.undo_stack.clear()
        self.edits, self.propagated = {}, {}
        self.base = run
        self.layers = list(run.layers)
        n = len(run.tokens)
        self.focus = min(self.focus if self.focus is not None else 1, n - 1)
        if run.tokens.special[self.focus] and n > 2:
            self.focus = 1
        with signals_blocked(self.focus_selector):
            self.focus_selector.clear()
            for i, piece in enumerate(run.tokens.pieces):
                self.focus_selector.addItem(f"{i}: {piece}", i)
            self.focus_selector.setCurrentIndex(self.focus)
        self._redraw()

    def _edits_of(self, edits: dict[EditKey, np.ndarray], layer: int | None = None) -> list[QueryEdit]:
        return [QueryEdit(lay, head, q, token) for (lay, head, token), q in sorted(edits.items())
                if layer is None or lay == layer]

    def _same_edits(self, layer: int) -> bool:
        mine = {k: v for k, v in self.edits.items() if k[0] == layer}
        theirs = {k: v for k, v in self.propagated.items() if k[0] == layer}
        return mine.keys() == theirs.keys() and all(np.array_equal(mine[k], theirs[k]) for k in mine)

    def _recompute(self) -> None:
        """The shown layers: the propagated run, with each layer whose edits are newer recomputed alone."""
        self.layers = [trace if self._same_edits(index) else
                       self.model.layer(index, trace.input, self._edits_of(self.edits, index))
                       for index, trace in enumerate(self.base.layers)]
        self.propagate_button.setEnabled(any(not self._same_edits(i) for i in range(len(self.layers))))

    def _set_edit(self, key: EditKey, query: np.ndarray | None) -> None:
        if query is None:
            self.edits.pop(key, None)
        else:
            self.edits[key] = np.array(query, dtype=self.model.dtype)
        self._recompute()
        self._redraw()

    def _set_propagated(self, edits: dict[EditKey, np.ndarray]) -> None:
        """Rerun from the lowest layer whose propagated edits change, with ``forward_from``, one edit at a time."""
        changed = set(edits) ^ set(self.propagated) | {k for k in edits.keys() & self.propagated.keys()
                                                       if not np.array_equal(edits[k], self.propagated[k])}
        run = self.base
        for key in sorted(changed):
            layer, head, token = key
            run = self.model.forward_from(run, layer, head, edits.get(key), token)
        self.base, self.propagated = run, dict(edits)
        self._recompute()
        self._redraw()

    def propagate(self) -> None:
        """Recompute the layers above the edited queries (one undo step)."""
        if self.base is None or self.propagate_button.isEnabled() is False:
            return
        self.undo_stack.push(PropagateCommand(self, self.propagated))

    # -- selection --------------------------------------------------------------------------------------
    def select_head(self, layer: int, head: int) -> None:
        if self.model is None:
            return
        self.layer = max(0, min(layer, self.model.num_layers - 1))
        self.head = max(0, min(head, self.model.num_heads - 1))
        with signals_blocked(self.layer_selector), signals_blocked(self.head_selector):
            self.layer_selector.setValue(self.layer)
            self.head_selector.setValue(self.head)
        self._redraw()

    def _layer_chosen(self, value: int) -> None:
        self.select_head(value, self.head)

    def _head_chosen(self, value: int) -> None:
        self.select_head(self.layer, value)

    def _focus_chosen(self, index: int) -> None:
        self.set_focus(index if index >= 0 else None)

    def _view_token_clicked(self, index: int) -> None:
        """A token of the shown figure (special tokens may be hidden there) was clicked or reached by arrow key."""
        if self.base is not None and 0 <= index < len(keep := self._visible()):
            self.set_focus(keep[index])

    def set_focus(self, token: int | None) -> None:
        self.focus = token
        with signals_blocked(self.focus_selector):
            self.focus_selector.setCurrentIndex(-1 if token is None else token)
        self._redraw()

    def view(self) -> str:
        return self.view_selector.currentData()

    def set_view(self, view: str) -> None:
        self.view_selector.setCurrentIndex(list(VIEW_NAMES).index(view))

    # -- what is shown ----------------------------------------------------------------------------------
    def attentions(self) -> np.ndarray:
        """(L, h, n, n): the shown weights of every head."""
        return np.stack([trace.weights for trace in self.layers])

    def head_weights(self, layer: int | None = None, head: int | None = None) -> np.ndarray:
        """(n, n): the shown weights of one head (the chosen one by default)."""
        return self.layers[self.layer if layer is None else layer].weights[self.head if head is None else head]

    def shown_weights(self) -> np.ndarray:
        """(n, n): the chosen view — one head, the layer's head average, or the rollout up to the layer."""
        view = self.view()
        if view == "average":
            return head_average(self.attentions(), self.layer)
        if view == "rollout":
            return attention_rollout(self.attentions(), self.layer)
        return np.asarray(self.head_weights(), dtype=np.float64)

    def shown_run(self) -> BertForward | None:
        """The run as shown: the propagated one, with the layers whose edits are newer recomputed."""
        return None if self.base is None else dataclasses.replace(self.base, layers=tuple(self.layers))

    def weights_bytes(self, suffix: str) -> bytes:
        """The shown view's weights as the CLI writes them (``.csv`` or ``.json``)."""
        from attnstudio.export.model_data import model_weights_bytes

        if self.base is None:
            raise ValueError("no model is loaded")
        return model_weights_bytes(self.model, self.shown_run(), self.layer, self.head, suffix, self.view(),
                                   self.hide_special.isChecked())

    def _visible(self) -> list[int]:
        special = self.base.tokens.special
        return [i for i in range(len(special)) if not (self.hide_special.isChecked() and special[i])]

    def figure(self) -> AlignmentFigure | None:
        """The chosen view as the shared painters draw it (self-attention: the sentence against itself)."""
        if self.base is None:
            return None
        keep = self._visible()
        weights = self.shown_weights()
        if len(keep) < len(self.base.tokens):
            weights = keep_tokens(weights, keep)
        labels = [self.base.tokens.pieces[i] for i in keep]
        special = np.array([self.base.tokens.special[i] for i in keep])
        mask = np.broadcast_to(~special[None, :], weights.shape).copy() if self.dim_special.isChecked() else None
        focus = keep.index(self.focus) if self.focus in keep else None
        view = self.view()
        where = f"layer {self.layer}" + (f", head {self.head}" if view == "head" else "")
        title = {"head": "Self-attention", "average": "Head average",
                 "rollout": "Attention rollout up to"}[view] + f", {where}"
        return AlignmentFigure(labels, labels, weights, focus=focus, title=title, query_caption="queries",
                               key_caption="keys", mask=mask)

    def export_figure(self) -> AlignmentFigure | None:
        """``figure()`` titled as the command line titles it: the model's name first (it leaves the window)."""
        figure = self.figure()
        return None if figure is None else dataclasses.replace(figure, title=f"{self.model.name}: {figure.title}")

    def _redraw(self, *_args) -> None:
        if self.base is None or not self.layers:
            return
        figure = self.figure()
        self.lines.set_figure(figure)
        self.heatmap.set_figure(figure)
        attentions = self.attentions()
        keep = self._visible()
        if len(keep) < len(self.base.tokens):
            attentions = np.stack([[keep_tokens(w, keep) for w in layer] for layer in attentions])
        self.grid.set_attentions(attentions, figure.mask)
        self.grid.set_selected(self.layer, self.head)
        self._show_vectors()
        edited = sorted(self.edits)
        pending = [i for i in range(len(self.layers)) if not self._same_edits(i)]
        self.edit_note.setText(
            "No query edited: drag the orange query in the plane." if not edited else
            f"{len(edited)} edited quer{'y' if len(edited) == 1 else 'ies'}"
            + (f"; layers above {min(pending)} still use the old queries — press Propagate." if pending else
               "; the layers above follow."))
        self.weights_changed.emit()

    def _show_vectors(self) -> None:
        trace = self.layers[self.layer]
        q, k, v = trace.q[self.head], trace.k[self.head], trace.v[self.head]  # each (n, d_head)
        d_head = q.shape[1]
        self.qkv_table.setColumnCount(d_head)
        self.qkv_table.setHorizontalHeaderLabels([str(i) for i in range(d_head)])
        if self.focus is not None:
            for row, vector in enumerate((q[self.focus], k[self.focus], v[self.focus])):
                for col, value in enumerate(vector):
                    item = QTableWidgetItem(f"{value:+.2f}")
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.qkv_table.setItem(row, col, item)
        natural = self.model.natural_queries(self.base, self.layer)[self.head]  # (n, d_head), no edits
        if self._drag is None:  # the plane stays put while the learner drags in it
            self._plane = query_key_plane(natural, k)
        mean, basis = self._plane
        key = (self.layer, self.head, self.focus)
        original = (natural[self.focus] - mean) @ basis if self.focus is not None and key in self.edits else None
        self.plane.set_points((q - mean) @ basis, (k - mean) @ basis, list(self.base.tokens.pieces), self.focus,
                              original, trace.weights[self.head, self.focus] if self.focus is not None else None)

    # -- dragging the query ----------------------------------------------------------------------------
    def begin_drag(self) -> None:
        """Start one undoable drag of the focused token's query of the chosen head."""
        if self.base is None or self.focus is None:
            return
        key = (self.layer, self.head, self.focus)
        start = np.array(self.layers[self.layer].q[self.head, self.focus], dtype=np.float64)
        mean, basis = self._plane
        self._drag = (next(_drag_ids), key, start, (start - mean) @ basis)

    def drag_to(self, x: float, y: float) -> None:
        """Move the dragged query to plane point (x, y): q_new = q_start + basis · (point − start point)."""
        if self._drag is None:
            return
        drag_id, key, start, start_point = self._drag
        _, basis = self._plane
        query = start + basis @ (np.array([x, y]) - start_point)  # (d_head,)
        before = self.edits.get(key)
        label = f"Drag q of '{self.base.tokens.pieces[key[2]]}' (layer {key[0]}, head {key[1]})"
        self.undo_stack.push(QueryEditCommand(self, key, None if before is None else before.copy(), query,
                                              drag_id, label))

    def end_drag(self) -> None:
        if self._drag is not None:
            self.closed_drag = self._drag[0]
            self._drag = None
            self._redraw()

    def drag_query(self, delta: tuple[float, float]) -> None:
        """A whole drag at once: move the focused query by ``delta`` in the plane (one undo step)."""
        self.begin_drag()
        if self._drag is not None:
            point = self._drag[3]
            self.drag_to(point[0] + delta[0], point[1] + delta[1])
        self.end_drag()

    def _plane_drag_started(self) -> None:
        self.begin_drag()

    def _plane_query_moved(self, x: float, y: float) -> None:
        self.drag_to(x, y)

    def _plane_drag_finished(self) -> None:
        self.end_drag()
