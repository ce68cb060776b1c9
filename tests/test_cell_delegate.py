"""The tables' one-call cell painting: the same cells as data() says, elided like Qt, selection and tint drawn."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QTableView

from attnstudio.gui.cell_delegate import CELL_ROLES, Cell, CellDelegate

RIGHT = (Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value
TINT = QColor(255, 0, 255)


class _Model(QAbstractTableModel):
    """Two cells: a long text, and a tinted one."""

    def __init__(self) -> None:
        super().__init__()
        self.bold = QFont()
        self.bold.setBold(True)
        self.texts = ["a rather long piece of text that cannot fit", "7"]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else 1

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else 2

    def cell(self, row: int, column: int) -> Cell:
        if column == 1:
            return Cell(self.texts[1], RIGHT, self.bold, None, TINT)
        return Cell(self.texts[0], RIGHT)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        return self.cell(index.row(), index.column())[CELL_ROLES[role]] if role in CELL_ROLES else None


@pytest.fixture
def table(qtbot):
    model = _Model()
    view = QTableView()
    view.setModel(model)
    view.setItemDelegate(CellDelegate(view))
    view.setColumnWidth(0, 60)
    view.setColumnWidth(1, 60)
    view.resize(300, 120)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.model_ref = model  # keep the model alive with the view
    return view


def _colours(image, rect) -> set[int]:
    return {image.pixel(x, y) for x in range(rect.left() + 2, rect.right() - 1)
            for y in range(rect.top() + 2, rect.bottom() - 1)}


def test_long_text_is_elided_not_cut(table):
    delegate: CellDelegate = table.itemDelegate()
    font = delegate._font(table.font(), False)
    text = table.model().texts[0]
    shown = delegate._elided(font, text, 50)
    assert shown.endswith("…") and len(shown) < len(text)
    assert font.metrics.horizontalAdvance(shown) <= 50
    assert delegate._elided(font, "7", 50) == "7"


def test_tint_and_selection_are_painted(table):
    tinted = table.visualRect(table.model().index(0, 1))
    before = _colours(table.viewport().grab().toImage(), tinted)
    assert TINT.rgb() in before  # the cell's own background
    table.selectionModel().select(table.model().index(0, 1), table.selectionModel().SelectionFlag.Select)
    after = _colours(table.viewport().grab().toImage(), tinted)
    highlight = table.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight).rgb()
    inactive = table.palette().color(QPalette.ColorGroup.Inactive, QPalette.ColorRole.Highlight).rgb()
    assert TINT.rgb() not in after and {highlight, inactive} & after  # selection paints over the tint


def test_text_is_drawn_where_its_alignment_says(table):
    rect = table.visualRect(table.model().index(0, 1))
    image = table.viewport().grab().toImage()
    ink = [x for x in range(rect.left() + 1, rect.right()) for y in range(rect.top() + 2, rect.bottom() - 1)
           if image.pixel(x, y) != TINT.rgb()]
    assert ink  # the "7" left ink on the tint …
    assert rect.right() - max(ink) <= 8 and min(ink) - rect.left() >= rect.width() / 2  # … at the right (margin 3)


def test_trace_model_cells_match_data(window):
    model = window.trace.trace_model
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            cell = model.cell(row, column)
            index = model.index(row, column)
            assert index.data(Qt.ItemDataRole.DisplayRole) == cell.text
            assert int(index.data(Qt.ItemDataRole.TextAlignmentRole)) == cell.align
    inspector = window.inspector.table_model
    index = inspector.index(inspector.rowCount() - 1, 0)
    assert index.data() == inspector.cell(index.row(), 0).text


def test_an_edit_announces_only_the_cells_that_show_another_number(window):
    announced = {}
    models = {"inspector": window.inspector.table_model, "trace": window.trace.trace_model,
              "output": window.trace.output_model}
    for name, model in models.items():
        announced[name] = []
        model.dataChanged.connect(lambda a, b, *_, name=name: announced[name].append(
            (a.row(), a.column(), b.row(), b.column())))
    controller, scene = window.controller, window.controller.scene
    side, focus = scene.query_side(), scene.focus
    assert window.inspector.choice == (side, focus)
    q_row = window.inspector.table_model.snapshot.stages.index("q")
    dim = int(np.argmax(np.abs(controller.result().k[:, :6]).sum(0)))  # a kind most keys have: weights move
    assert controller.set_component(side, focus, "q", dim, 2.5)
    assert announced["inspector"] == [(q_row, dim, q_row, dim)]  # the one component typed
    trace_columns = {column for _, column, _, _ in announced["trace"]}
    assert trace_columns <= {1, 4, 5, 6} and 6 in trace_columns  # not the key names, scale or temperature
    assert {column for _, column, _, _ in announced["output"]} == {1}  # the plain average does not move
    assert window.trace.trace_model.cell(0, 6).text == window.trace.trace_model.text(0, 6)
