"""The sentence fields: what they show when the scene's sentences change from elsewhere (start, undo, lessons)."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit


def test_a_sentence_set_from_elsewhere_shows_its_start(window, qtbot):
    target = window.findChild(QLineEdit, "targetSentenceEdit")
    assert target.text() == "The black cat sleeps on the couch"
    assert target.cursorPosition() == 0, "the field shows the sentence's first words, not its last"
    controller = window.controller
    long_sentence = "The small black cat sleeps on the old red couch in the house"
    assert controller.set_sentence("target", long_sentence)
    controller.undo_stack.undo()
    controller.undo_stack.redo()
    assert target.text() == long_sentence and target.cursorPosition() == 0


def test_typing_keeps_the_cursor_where_the_learner_types(window, qtbot):
    target = window.findChild(QLineEdit, "targetSentenceEdit")
    target.setFocus()
    qtbot.waitUntil(target.hasFocus)
    target.end(False)
    qtbot.keyClicks(target, " now")
    qtbot.waitUntil(lambda: window.controller.scene.sentence("target").endswith(" now"))
    assert target.cursorPosition() == len(target.text())
