"""Small shared widgets: the label box that keeps the window still while its numbers change."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from attnstudio.gui.widgets import LiveLabelBox
from tests.screen_probes import PaintRecorder, on_screen


class _LayoutRequests(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def test_new_numbers_of_the_same_height_leave_the_layout_alone_and_longer_text_grows(qtbot):
    panel = QWidget()
    qtbot.addWidget(panel)
    label = QLabel("Σ exp(score − max) = 1.095; the weights sum to 1")
    label.setWordWrap(True)
    layout = QVBoxLayout(panel)
    box = LiveLabelBox(label, panel)
    layout.addWidget(box)
    layout.addWidget(QPushButton("below"))
    layout.addStretch(1)  # the box gets the height it asks for, no more
    panel.resize(400, 200)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.wait(50)  # the first layout settles
    requests = _LayoutRequests()
    panel.installEventFilter(requests)
    height = box.height()
    label.setText("Σ exp(score − max) = 2.718; the weights sum to 1")
    qtbot.wait(20)
    assert requests.count == 0 and box.height() == height  # nothing around it was laid out again
    assert label.geometry() == box.rect() and label.autoFillBackground()
    label.setText(" ".join(["a much longer explanation that wraps onto several lines"] * 4))
    qtbot.waitUntil(lambda: box.height() > height)  # more lines: the box asks for them and gets them
    assert requests.count >= 1 and label.height() == box.height()


def _panel_with_box(qtbot, text: str):
    panel = QWidget()
    qtbot.addWidget(panel)
    label = QLabel(text)
    label.setWordWrap(True)
    layout = QVBoxLayout(panel)
    box = LiveLabelBox(label, panel)
    layout.addWidget(box)
    layout.addStretch(1)
    panel.resize(400, 300)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.wait(50)
    return panel, label, box


def _fits(label: QLabel, box: LiveLabelBox) -> bool:
    return box.height() >= label.heightForWidth(box.width())


def test_text_changed_while_hidden_gets_its_height_when_shown(qtbot):
    panel, label, box = _panel_with_box(qtbot, "one short line")
    box.hide()
    label.setText(" ".join(["a much longer explanation that wraps onto several lines"] * 4))
    box.show()
    qtbot.waitUntil(lambda: _fits(label, box))


def test_a_narrower_box_gets_the_height_its_text_needs_there(qtbot):
    panel, label, box = _panel_with_box(qtbot, "words " * 12)
    panel.resize(200, 300)  # the layout learns the height at this width …
    qtbot.waitUntil(lambda: _fits(label, box))
    panel.resize(400, 300)
    qtbot.waitUntil(lambda: box.width() > 300)
    label.setText("longer " * 14)  # … which changes here while the height at 400 px may stay the same
    qtbot.wait(20)
    panel.resize(200, 300)
    qtbot.waitUntil(lambda: _fits(label, box))


def _rgb32(image: QImage) -> bytes:
    converted = image.convertToFormat(QImage.Format.Format_RGB32)  # alive while its bits are copied
    return converted.constBits().tobytes()


@pytest.mark.parametrize("paint_first", [True, False])  # as the benchmark's frame flush, and as the event loop
@pytest.mark.parametrize("first_text", ["<b>“black”</b> looks at each key<br>Σ exp(score − max) = 1.095", ""])
def test_a_selectable_rich_text_label_paints_once_per_new_text_and_shows_it_whole(qtbot, paint_first, first_text):
    from PySide6.QtCore import QCoreApplication

    panel, label, box = _panel_with_box(qtbot, first_text)  # "": Qt makes its text control only later
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setText("<b>“black”</b> looks at each key<br>Σ exp(score − max) = 1.095")  # (the box may grow)
    qtbot.wait(20)
    for total in ("2.718", "31.4", "1.000"):
        paints = PaintRecorder(label)
        label.setText(f"<b>“black”</b> looks at each key<br>Σ exp(score − max) = {total}")
        if paint_first:
            QCoreApplication.sendPostedEvents(None, QEvent.Type.UpdateRequest.value)
        qtbot.waitUntil(lambda: paints.count > 0)
        qtbot.wait(30)
        assert paints.count == 1  # not once more after the layout
        label.removeEventFilter(paints)
        assert _rgb32(on_screen(label)) == _rgb32(label.grab().toImage())
