"""The computation trace: every number between q·k and the weight, for the focused query, one row per key.

Then the output Σ weight·v next to the equal-weighting average, which shows the bottleneck attention removed:
averaging gives every query word the same context vector, attention gives each the context it asked for.
The numbers are recomputed here from the result's q and k with the engine's own functions, so the trace is
an independent check of the weights the other views show (a test holds them equal to 1e-12).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QFontDatabase, QFontMetrics, QGuiApplication, QKeyEvent, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from attnstudio.engine import softmax, split_heads
from attnstudio.gui.cell_delegate import CELL_ROLES, Cell, CellDelegate, announce_changed, cell_data, differs
from attnstudio.gui.controller import Controller
from attnstudio.gui.errors import guard_overrides
from attnstudio.gui.widgets import LiveLabelBox, name_widget
from attnstudio.scene import SceneResult

__all__ = ["ComputationPanel", "OutputModel", "Trace", "TraceModel", "compute_trace", "format_number"]

MINUS = "\u2212"
ANY_INDEX = QModelIndex | QPersistentModelIndex
_LEFT = (Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter).value
_RIGHT = (Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value
_MASKED_GREY = QColor(Qt.GlobalColor.gray)


def format_number(value: float, digits: int = 4) -> str:
    """A number for the screen: Unicode minus, ∞ for infinities, and never 'nan'."""
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return ("−∞" if value < 0 else "∞")
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}" if abs(value) >= 1e-4 else f"{value:.2e}"
    return text.replace("-", MINUS)


def _copy_number(value: float) -> str:
    """A number for the clipboard: full precision, ASCII, readable by any spreadsheet."""
    return repr(float(value)) if math.isfinite(value) else ("-inf" if value < 0 else "inf" if value > 0 else "")


# -- the numbers (NumPy only) ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trace:
    """Each stage of one query's attention row, recomputed from q and k. Arrays are ``(n_k,)``."""

    query: str
    keys: list[str]
    variant: str  # "uniform", "dot" or "scaled"
    d_head: int
    scale: float  # 1 or 1/√d_head; 0 for equal weighting, where q·k is not used
    temperature: float
    dots: np.ndarray  # q·k of the head slices
    scores: np.ndarray  # dots · scale ÷ T (zeros for equal weighting); −inf where masked
    exps: np.ndarray  # exp(score − max over allowed keys); 0 where masked
    weights: np.ndarray  # exps / Σ exps
    allowed: np.ndarray  # bool: the mask lets this query look at this key

    @property
    def exp_total(self) -> float:
        return float(self.exps.sum())


def compute_trace(result: SceneResult, focus: int, variant: str, temperature: float) -> Trace:
    """Recompute the focused row of the current head: q·k, scale, ÷T, softmax, step by step."""
    h = result.num_heads
    q = split_heads(result.q, h)[result.head][focus]  # (d_head,)
    k = split_heads(result.k, h)[result.head]  # (n_k, d_head)
    dots = k @ q  # (n_k,)
    allowed = np.ones(len(dots), bool) if result.mask is None else np.asarray(result.mask[focus], bool)
    if variant == "uniform":
        scores = np.zeros_like(dots)  # equal scores give equal weights, whatever q asks
    else:
        scores = dots * result.scale / temperature
    scores = np.where(allowed, scores, -np.inf)
    finite_max = float(np.max(scores)) if allowed.any() else 0.0
    with np.errstate(under="ignore"):
        exps = np.where(allowed, np.exp(scores - finite_max), 0.0)
    weights = softmax(scores)  # the engine's softmax: an all-masked row gives zeros, never NaN
    return Trace(
        query=result.query_words[focus].token.surface,
        keys=[w.token.surface for w in result.key_words],
        variant=variant, d_head=q.shape[0], scale=result.scale, temperature=temperature,
        dots=dots, scores=scores, exps=exps, weights=weights, allowed=allowed,
    )


# -- table models ---------------------------------------------------------------------------------------
@guard_overrides
class TraceModel(QAbstractTableModel):
    """One row per key, in sentence order; the numbers of :class:`Trace`."""

    HEADERS = ["key", "q·k", "scale", "÷ T", "score", "exp(score − max)", "weight"]
    WEIGHT_COLUMN = 6
    TIPS = [
        "The key word (source sentence)",
        "q·k: the dot product of the query and the key (this head's dimensions)",
        "Scaled dot product divides by √d_head so that wide vectors do not saturate softmax; dot product uses 1",
        "Temperature T divides the score: below 1 sharpens, above 1 flattens",
        "score = q·k × scale ÷ T  (−∞ where the mask forbids the key)",
        "exp(score − max): subtracting the row's largest score keeps exp from overflowing; softmax is unchanged",
        "weight = exp(score − max) ÷ Σ exp(score − max)",
    ]

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.trace: Trace | None = None
        self._fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    def set_trace(self, trace: Trace | None) -> None:
        old_rows = 0 if self.trace is None else len(self.trace.keys)
        new_rows = 0 if trace is None else len(trace.keys)
        if old_rows == new_rows and self.trace is not None and trace is not None:
            old, self.trace = self.trace, trace  # same shape: keep the learner's selection
            constants = np.full(new_rows, (old.variant, old.scale, old.temperature)
                                != (trace.variant, trace.scale, trace.temperature))  # every row's factor columns
            masks = differs(old.allowed, trace.allowed)  # greys the whole row
            announce_changed(self, {
                0: differs(old.keys, trace.keys) | masks, 1: differs(old.dots, trace.dots) | constants | masks,
                2: constants | masks, 3: constants | masks, 4: differs(old.scores, trace.scores) | masks,
                5: differs(old.exps, trace.exps) | masks, 6: differs(old.weights, trace.weights) | masks})
            return
        self.beginResetModel()
        self.trace = trace
        self.endResetModel()

    def rowCount(self, parent: ANY_INDEX = QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if self.trace is None or parent.isValid() else len(self.trace.keys)

    def columnCount(self, parent: ANY_INDEX = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return str(section + 1)
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._header(section)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.TIPS[section]
        return None

    def _header(self, section: int) -> str:
        t = self.trace
        if t is not None and section == 2 and t.variant == "scaled":
            return f"÷√{t.d_head}"
        return self.HEADERS[section]

    def text(self, row: int, column: int) -> str:
        """What a cell shows."""
        t = self.trace
        uniform, ok = t.variant == "uniform", bool(t.allowed[row])
        if column == 0:
            return t.keys[row]  # a masked row is greyed, and its score says why
        if column == 1:
            return "—" if uniform else format_number(float(t.dots[row]))
        if column == 2:
            return "—" if uniform else ("×1" if t.variant == "dot" else f"×{t.scale:.4g}")
        if column == 3:
            return "—" if uniform else f"÷{t.temperature:g}"
        if column == 4:
            return format_number(float(t.scores[row])) if ok else "−∞ (masked)"
        if column == 5:
            return format_number(float(t.exps[row]))
        return format_number(float(t.weights[row]))

    def copy_text(self, row: int, column: int) -> str:
        """What a cell puts on the clipboard: the same number at full precision."""
        t = self.trace
        uniform = t.variant == "uniform"
        values = {1: None if uniform else t.dots[row], 2: None if uniform else t.scale,
                  3: None if uniform else t.temperature, 4: t.scores[row], 5: t.exps[row], 6: t.weights[row]}
        if column == 0:
            return t.keys[row]
        value = values[column]
        return "" if value is None else _copy_number(float(value))

    def cell(self, row: int, column: int) -> Cell:
        """Text, alignment, font and colour of a cell (what the delegate paints and ``data()`` answers)."""
        return Cell(self.text(row, column), _LEFT if column == 0 else _RIGHT, None if column == 0 else self._fixed,
                    None if self.trace.allowed[row] else _MASKED_GREY)

    def data(self, index: ANY_INDEX, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.trace is None:
            return None
        row, column = index.row(), index.column()
        if role in CELL_ROLES:
            return cell_data(self.cell(row, column), role)
        if role == Qt.ItemDataRole.UserRole:
            return float(self.trace.weights[row]) if column == self.WEIGHT_COLUMN else None
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return None if self.trace.allowed[row] else "The causal mask forbids looking at this key: score −∞, weight 0"
        return None


@guard_overrides
class OutputModel(QAbstractTableModel):
    """The context vector per named dimension: attention's Σ weight·v next to the equal-weighting average."""

    HEADERS = ["dimension", "attention Σ w·v", "average"]

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.names: list[str] = []
        self.attention = np.zeros(0)
        self.average = np.zeros(0)
        self._fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    def set_vectors(self, names: list[str], attention: np.ndarray, average: np.ndarray) -> None:
        same = len(names) == len(self.names)
        if not same:
            self.beginResetModel()
        old = (self.names, self.attention, self.average)
        self.names, self.attention, self.average = list(names), attention, average
        if same:
            announce_changed(self, {0: differs(old[0], self.names), 1: differs(old[1], attention),
                                    2: differs(old[2], average)})
        else:
            self.endResetModel()

    def rowCount(self, parent: ANY_INDEX = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.names)

    def columnCount(self, parent: ANY_INDEX = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else 3

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section] if orientation == Qt.Orientation.Horizontal else None
        return None

    def text(self, row: int, column: int) -> str:
        if column == 0:
            return self.names[row]
        return format_number(float((self.attention if column == 1 else self.average)[row]), 3)

    def copy_text(self, row: int, column: int) -> str:
        return self.names[row] if column == 0 else _copy_number(float((self.attention if column == 1 else self.average)[row]))

    def cell(self, row: int, column: int) -> Cell:
        return Cell(self.text(row, column), _LEFT if column == 0 else _RIGHT, None if column == 0 else self._fixed)

    def data(self, index: ANY_INDEX, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in CELL_ROLES:
            return None
        return cell_data(self.cell(index.row(), index.column()), role)


def table_tsv(model, rows: list[int], columns: list[int]) -> str:
    """Tab-separated text of the given cells with a header line (the model's ``copy_text`` values)."""
    header = "\t".join(model.HEADERS[c] for c in columns)
    lines = ["\t".join(model.copy_text(r, c) for c in columns) for r in rows]
    return "\n".join([header, *lines]) + "\n"


# -- views -------------------------------------------------------------------------------------------------
@guard_overrides
class WeightBarDelegate(CellDelegate):
    """The weight with a small bar behind it, as long as the weight is large."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        weight = index.data(Qt.ItemDataRole.UserRole)
        if isinstance(weight, float) and weight > 0:
            colour = QColor(option.palette.color(QPalette.ColorRole.Highlight))
            colour.setAlphaF(0.35)
            r = option.rect.adjusted(2, 3, -2, -3)
            painter.fillRect(QRect(r.left(), r.top(), round(r.width() * min(weight, 1.0)), r.height()), colour)
        super().paint(painter, option, index)


@guard_overrides
class CopyableTable(QTableView):
    """A read-only table whose Ctrl+C copies the selected cells (or all of them) as TSV."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setItemDelegate(CellDelegate(self))  # its models' cells are painted from one call each
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)

    def tsv(self) -> str:
        model = self.model()
        selected = self.selectionModel().selectedIndexes() if self.selectionModel() else []
        rows = sorted({i.row() for i in selected}) or list(range(model.rowCount()))
        columns = sorted({i.column() for i in selected}) or list(range(model.columnCount()))
        return table_tsv(model, rows, columns)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.tsv())

    def event(self, event: QEvent) -> bool:
        # Claim Ctrl+C before any window-wide shortcut does.
        if event.type() == QEvent.Type.ShortcutOverride and event.matches(QKeySequence.StandardKey.Copy):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
            event.accept()
            return
        super().keyPressEvent(event)


@guard_overrides
class ComputationPanel(QWidget):
    """The focused query's attention row, stage by stage, and its output beside the equal-weighting one."""

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "computationPanel", "Computation trace")
        self.controller = controller
        self.trace: Trace | None = None
        self.trace_model = TraceModel(self)
        self.output_model = OutputModel(self)

        self.title = name_widget(QLabel(self), "traceTitle", "Which row is traced")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = name_widget(CopyableTable(self), "traceTable", "Computation per key",
                                 "Select cells and press Ctrl+C to copy them as tab-separated text")
        self.table.setModel(self.trace_model)
        self.table.setItemDelegateForColumn(TraceModel.WEIGHT_COLUMN, WeightBarDelegate(self.table))
        # Columns are sized once per sentence, not on every drag step: measuring 512 rows each time is slow.
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setResizeContentsPrecision(64)
        self.output_table = name_widget(CopyableTable(self), "traceOutputTable", "Output beside the average",
                                        "The context vector of the focused word: attention's weighted sum of the "
                                        "values next to the plain average")
        self.output_table.setModel(self.output_model)
        self.output_table.verticalHeader().hide()
        self.bottleneck = name_widget(QLabel(self), "traceBottleneck", "Why averaging is a bottleneck")
        self.bottleneck.setWordWrap(True)
        self.bottleneck.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = name_widget(QPushButton("&Copy", self), "traceCopy", "Copy the trace",
                                       "Copy the whole trace and both output vectors as tab-separated text")
        self.copy_button.clicked.connect(self.copy_all)
        self._layout()
        controller.scene_changed.connect(self._on_scene_changed)
        controller.focus_changed.connect(self._on_focus_changed)
        self.refresh()

    def _layout(self) -> None:
        # Side by side: the trace dock is usually wide and short (under the canvas).
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.table)
        splitter.addWidget(self.output_table)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        footer = QHBoxLayout()
        footer.addWidget(LiveLabelBox(self.bottleneck, self), 1)  # its numbers change at every edit
        footer.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignBottom)
        content = QWidget(self)
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(LiveLabelBox(self.title, self))
        column.addWidget(splitter, 1)
        column.addLayout(footer)
        self.empty = name_widget(QLabel("Type a sentence on each side to trace how a word's weights are computed.",
                                        self), "traceEmpty", "No tokens yet")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(content)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.stack)

    # -- model → view -----------------------------------------------------------------------------------------
    def _on_scene_changed(self, what: frozenset) -> None:
        self.refresh(refit_columns="settings" in what or "sentences" in what)

    def _on_focus_changed(self, _focus: int) -> None:
        self.refresh(refit_columns=True)  # another row may have masked keys

    def refresh(self, refit_columns: bool = False) -> None:
        """Recompute the trace of the focused query from the controller's result."""
        result = self.controller.result()
        scene = self.controller.scene
        if not result.query_words or not result.key_words:
            self.trace = None
            self.trace_model.set_trace(None)
            self.stack.setCurrentWidget(self.empty)
            return
        self.stack.setCurrentIndex(0)
        focus = min(scene.focus, len(result.query_words) - 1)
        settings = scene.settings
        self.trace = compute_trace(result, focus, settings.variant, settings.temperature)
        reset = self.trace_model.rowCount() != len(self.trace.keys)
        self.trace_model.set_trace(self.trace)
        self.output_model.set_vectors(scene.model.dimension_names, result.output[focus], result.uniform_output[focus])
        if reset or refit_columns:
            self._fit_columns()
        self.title.setText(self._title(result))
        self.bottleneck.setText(self._bottleneck(result))

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self._fit_columns()  # fonts are final only once the style has polished the tables

    def _fit_columns(self) -> None:
        """Size the columns for any number they may show; the output table never scrolls sideways."""
        fixed = QFontMetrics(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        number = fixed.horizontalAdvance("−0.0001234") + 12  # the widest format_number gives at 4 digits
        for column in (0, 2, 3):  # the key and the two constant factors
            self.table.resizeColumnToContents(column)
        masked = fixed.horizontalAdvance("−∞ (masked)") + 12
        for column in (1, 4, 5):
            wide = masked if column == 4 and self.trace is not None and not self.trace.allowed.all() else number
            self.table.setColumnWidth(column, max(wide, self.table.horizontalHeader().sectionSizeHint(column)))
        self.table.horizontalHeader().setMinimumSectionSize(24)
        table = self.output_table
        table.resizeColumnToContents(0)
        for column in (1, 2):
            table.setColumnWidth(column, max(number, table.horizontalHeader().sectionSizeHint(column)))
        width = sum(table.columnWidth(c) for c in range(3)) + 2 * table.frameWidth()
        table.setMinimumWidth(width + table.verticalScrollBar().sizeHint().width() + 4)

    def _title(self, result: SceneResult) -> str:
        t = self.trace
        head = f" · head {result.head + 1} of {result.num_heads} ({t.d_head} dimensions)" if result.num_heads > 1 else ""
        if t.variant == "uniform":
            formula = "equal weighting: every allowed key gets score 0, so weight = 1 ÷ (number of keys)"
        else:
            scale = "÷√d" if t.variant == "scaled" else "×1"
            formula = f"score = q·k {scale} ÷ T;  weight = exp(score − max) ÷ Σ exp(score − max)"
        total = format_number(t.exp_total)
        return (f"<b>“{t.query}”</b> looks at each key{head}<br>{formula}"
                f"<br>Σ exp(score − max) = {total}; the weights sum to {format_number(float(t.weights.sum()))}")

    def _bottleneck(self, result: SceneResult) -> str:
        n_q = len(result.query_words)
        if n_q < 2:
            return "Only one query word: add words to compare their context vectors."
        spread_average = float(np.max(np.ptp(result.uniform_output, axis=0)))  # largest difference between rows
        spread_attention = float(np.max(np.ptp(result.output, axis=0)))
        if result.mask is not None:
            return (f"With the causal mask each row of the average covers only the words up to it, so the rows differ "
                    f"(by up to {format_number(spread_average, 3)}) only by how far each word may look, never by what "
                    f"it asks. Attention's rows differ by up to {format_number(spread_attention, 3)}.")
        if self.trace.variant == "uniform":
            return (f"Equal weighting is on: every query word gets the same context vector — the rows differ by at most "
                    f"{format_number(spread_average, 3)}. That single vector is the bottleneck attention removes.")
        return (f"The bottleneck: with equal weighting every query word gets the same context vector (its rows differ "
                f"by at most {format_number(spread_average, 3)}). With attention each word gets the context it asked "
                f"for: the rows differ by up to {format_number(spread_attention, 3)}.")

    # -- copying ----------------------------------------------------------------------------------------------
    def copy_all(self) -> None:
        """Put the whole trace and both output vectors on the clipboard as TSV."""
        QGuiApplication.clipboard().setText(self.tsv())

    def tsv(self) -> str:
        if self.trace is None:
            return ""
        trace = table_tsv(self.trace_model, list(range(self.trace_model.rowCount())), list(range(7)))
        output = table_tsv(self.output_model, list(range(self.output_model.rowCount())), [0, 1, 2])
        return f"query\t{self.trace.query}\n{trace}\n{output}"
