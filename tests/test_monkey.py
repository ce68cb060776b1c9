"""A seeded monkey drives the real window with random but valid actions, checking the app after each one.

After every action: no exception escaped a slot, no NaN or infinity in the result, the undo index within
[0, count], focus and head in range, no modal dialog popped up. Every ``checkpoint`` actions: undo-all gives
back the scene of the last checkpoint and redo-all the current one (focus and head aside: they are
navigation, which undo does not replay).

``benchmarks/soak.py`` runs the same monkey for as long as you like (other seeds, 120- to 512-token
pastes). Here it is bounded for CI — 600 actions, 12–18 s on 2 cores, since every action recomputes and
repaints the whole window; raise it with ``ATTNSTUDIO_MONKEY_ACTIONS=5000`` or pick ``ATTNSTUDIO_MONKEY_SEED``.
"""

from __future__ import annotations

import collections
import math
import os
import random
import time
from typing import Callable

import numpy as np
from PySide6.QtCore import QEvent, QItemSelectionModel, QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit, QMessageBox, QWidget

ACTIONS = int(os.environ.get("ATTNSTUDIO_MONKEY_ACTIONS", "600"))
SEED = int(os.environ.get("ATTNSTUDIO_MONKEY_SEED", "20240611"))
KNOWN_MODES = ("translation", "self")  # modes that need no model download; others are skipped

WORDS = ["le ", "chat ", "noir ", "The ", "black ", "cat ", "dog", "chien", "canapé", "s'il ", "l'", "n't", "—", "« ",
         "!", "?", ",", "é", "ç", "œ", "猫", "🐈", "👍🏽", "القط", "ש", "e\u0301", "a", " ", "  ", "-", "'", "…"]
PASTES = ["Le chat noir dort sur le canapé", "The black cat sleeps on the couch", "", "   ", "chat", "?!",
          "Le\tchat\nnoir", "Le\x00chat\x07 noir", "\u202eLe chat\u202c", "🐈 👍🏽 猫 القط",
          "Le chien voit le chat noir", "The dog sees the black cat", "L'élève lit aujourd'hui.",
          "Un café, s'il vous plaît", "chat " * 600, "a" * 3000]
LONG_PASTES = ["chat " * 120, "cat " * 40, " ".join(["chat"] * 512)]  # slow to redraw: soak only
MAX_TYPED = 160  # characters: past this, typing starts the sentence again (keeps each keystroke cheap)
NUMBERS_BAD = ["nan", "inf", "-inf", "1e400", "--1", "", "abc", "1,5,2", "1001", "½"]
NUMBERS_ODD = ["1000", "-1000", "1e-320", "0", "-0", "1,5", " 2 ", "\u22123"]


class MonkeyFailure(AssertionError):
    """An invariant broke; the message holds the seed, the action number and the last actions."""


def type_text(widget: QWidget, text: str) -> None:
    """Key events carrying text, one code point each (QTest.keyClicks aborts on non-ASCII)."""
    for ch in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, ch))


def send_mouse(widget: QWidget, kind: QEvent.Type, pos: QPoint, button: Qt.MouseButton,
               buttons: Qt.MouseButton) -> None:
    """A mouse event that carries the held buttons (pyqtgraph drags only on moves that say so)."""
    event = QMouseEvent(kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def document(controller) -> dict:
    """The scene's document without navigation (focus, head): what undo must give back."""
    doc = controller.scene.to_dict()
    doc.pop("focus")
    doc.pop("head")
    return doc


class Monkey:
    """Random but valid actions on a real ``MainWindow``; ``caught`` and ``dialogs`` are filled by the host."""

    def __init__(self, window, seed: int, caught: list, dialogs: list, checkpoint_every: int = 100,
                 flush_every: int = 8, log_size: int = 30, long_texts: bool = False) -> None:
        self.window = window
        self.controller = window.controller
        self.seed = seed
        self.rng = random.Random(seed)
        self.caught = caught
        self.dialogs = dialogs
        self.checkpoint_every = checkpoint_every
        self.pastes = PASTES + (LONG_PASTES if long_texts else [])
        self.flush_every = flush_every
        self.log: collections.deque[str] = collections.deque(maxlen=log_size)
        self.counts: collections.Counter[str] = collections.Counter()
        self.skipped: collections.Counter[str] = collections.Counter()
        self.seconds: collections.Counter[str] = collections.Counter()  # time spent per kind of action
        self.done = 0
        self.checkpoints = 0
        self.lesson_panel = window.lesson_panel  # (built on first use)
        actions: list[tuple[int, Callable[[], str | None]]] = [
            (14, self.type_words), (6, self.backspace), (5, self.paste_sentence), (3, self.press_enter),
            (8, self.type_in_cell), (4, self.nudge_cell), (2, self.delete_cell), (6, self.drag_bar),
            (5, self.drag_query), (3, self.arrow_query), (3, self.pick_mode), (4, self.pick_variant),
            (3, self.pick_heads), (3, self.pick_head), (3, self.toggle_causal), (3, self.toggle_positions),
            (4, self.slide_temperature), (3, self.type_temperature), (9, self.undo), (5, self.redo),
            (2, self.jump_in_history), (4, self.click_chip), (3, self.canvas_keys), (2, self.click_heatmap),
            (3, self.pick_example), (2, self.reset_vectors), (2, self.reset_token), (3, self.pick_token),
            (3, self.move_keyboard_focus), (4, self.raise_dock),
        ]
        if self.lesson_panel is not None:
            actions.append((2, self.lesson_step))
        self.actions = actions
        self.weights = [w for w, _ in actions]
        self.baseline = document(self.controller)
        self.baseline_weights = self.controller.result().head_weights.copy()

    # -- driving ------------------------------------------------------------------------------------------
    def run(self, count: int) -> None:
        for _ in range(count):
            self.step()
        self.flush()
        self.checkpoint()

    def step(self) -> None:
        if self.lesson_panel is not None and self.lesson_panel.active and self.rng.random() < 0.08:
            action = self.lesson_step  # a lesson locks panels: move through it, and out, at a fair pace
        else:
            (_, action), = self.rng.choices(self.actions, weights=self.weights)
        name = action.__name__
        started = time.perf_counter()
        try:
            detail = action()
        except MonkeyFailure:
            raise
        except Exception as exc:  # noqa: BLE001 (an action must never raise: report it with the log)
            self.log.append(f"{self.done}: {name} raised")
            self.fail(f"{type(exc).__name__}: {exc}")
        self.done += 1
        self.seconds[name] += time.perf_counter() - started
        if detail is None:
            self.skipped[name] += 1
        else:
            self.counts[name] += 1
            self.log.append(f"{self.done}: {name} {detail}")
        if self.done % self.flush_every == 0:
            self.flush()
        self.check()
        if self.done % self.checkpoint_every == 0:
            self.checkpoint()

    def flush(self) -> None:
        """Let Qt deliver queued events, paint whatever changed, and delete what ``deleteLater`` marked.

        processEvents() alone never runs deferred deletes (only a running event loop does), so without the
        second call every replaced token chip would pile up here although the real app frees it.
        """
        QApplication.processEvents()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)

    def fail(self, why: str) -> None:
        raise MonkeyFailure(f"monkey seed {self.seed}, after {self.done} actions: {why}\nlast actions:\n  "
                            + "\n  ".join(self.log))

    # -- invariants ---------------------------------------------------------------------------------------
    def check(self) -> None:
        if self.caught:
            exc_type, exc, _tb = self.caught[0]
            self.fail(f"exception in a slot: {exc_type.__name__}: {exc}")
        if self.dialogs:
            self.fail(f"a modal dialog popped up: {self.dialogs[0]}")
        c = self.controller
        stack = c.undo_stack
        if not 0 <= stack.index() <= stack.count():
            self.fail(f"undo index {stack.index()} outside [0, {stack.count()}]")
        r = c.result()
        for name in ("q", "k", "v", "output", "uniform_output", "head_weights"):
            if not np.isfinite(getattr(r, name)).all():
                self.fail(f"{name} has NaN or inf")
        if np.isnan(r.head_scores).any() or np.isposinf(r.head_scores).any():
            self.fail("scores have NaN or +inf")
        sums = r.head_weights.sum(axis=-1)
        if not np.all(np.isclose(sums, 1.0) | (sums == 0.0)):
            self.fail(f"weight rows sum to {sums}")
        n_q = len(r.query_words)
        if not (0 <= c.scene.focus < max(1, n_q)) or not 0 <= r.head < r.num_heads:
            self.fail(f"focus {c.scene.focus} of {n_q} queries, head {r.head} of {r.num_heads}")

    def checkpoint(self) -> None:
        """Undo-all gives back the last checkpoint's scene, redo-all this one; then start a fresh history.

        Clearing the history also keeps it under the stack's undo limit (1000), past which the oldest steps
        are dropped and the checkpoint's scene would be out of reach.
        """
        c, stack = self.controller, self.controller.undo_stack
        self.close_editors()
        current, weights, index = document(c), c.result().head_weights.copy(), stack.index()
        stack.setIndex(0)
        if document(c) != self.baseline:
            self.fail(f"undo-all did not restore the scene of the last checkpoint:\n{document(c)}\n!=\n{self.baseline}")
        if not np.array_equal(c.result().head_weights, self.baseline_weights):
            self.fail("undo-all restored the document but not the same weights")
        stack.setIndex(index)  # redo up to where the learner was (later steps were undone by them)
        if document(c) != current or not np.array_equal(c.result().head_weights, weights):
            self.fail(f"redo-all did not give back the edited scene:\n{document(c)}\n!=\n{current}")
        self.rebase()
        self.checkpoints += 1
        self.check()

    def finish(self) -> None:
        """Leave any lesson and forget the edits, so that closing the window asks nothing."""
        self.close_editors()
        if self.lesson_panel is not None and self.lesson_panel.active:
            self.lesson_panel.leave()
        self.controller.undo_stack.setClean()
        self.window.setWindowModified(False)
        self.flush()

    def rebase(self) -> None:
        """The scene changed outside the undo stack (a lesson step): make it the new starting point."""
        self.controller.undo_stack.clear()
        self.baseline = document(self.controller)
        self.baseline_weights = self.controller.result().head_weights.copy()

    def close_editors(self) -> None:
        table = self.window.inspector.table
        if table.state() == QAbstractItemView.State.EditingState:
            table.setFocus()
            QTest.keyClick(table.focusWidget() or table, Qt.Key.Key_Escape)
            self.wait_until(lambda: table.state() != QAbstractItemView.State.EditingState)

    def wait_until(self, condition: Callable[[], bool], timeout: float = 2.0) -> None:
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                self.fail("timed out waiting for the UI")
            QApplication.processEvents()

    # -- helpers ------------------------------------------------------------------------------------------
    def usable(self, widget: QWidget | None) -> bool:
        return widget is not None and widget.isVisible() and widget.isEnabled()

    def sentence_edit(self) -> QLineEdit | None:
        panel = self.window.sentence_panel
        edits = [e for e in (panel.source_edit, panel.target_edit) if self.usable(e)]
        return self.rng.choice(edits) if edits else None

    def activate(self, combo, rows: list[int]) -> str | None:
        """Choose a row of a combo box the way a user does (it emits ``activated``)."""
        if not self.usable(combo) or not rows:
            return None
        row = self.rng.choice(rows)
        combo.setCurrentIndex(row)
        combo.activated.emit(row)
        return combo.itemText(row)[:30]

    def cell(self):
        inspector = self.window.inspector
        snap = inspector.snapshot()
        if snap is None or not snap.editable_stages or not self.usable(inspector.table):
            return None
        stage = self.rng.choice(snap.editable_stages)
        dim = self.rng.randrange(self.controller.scene.d_model)
        return inspector, stage, dim, inspector.table_model.index(snap.stages.index(stage), dim)

    def number_text(self) -> str:
        roll = self.rng.random()
        if roll < 0.15:
            return self.rng.choice(NUMBERS_BAD)
        if roll < 0.3:
            return self.rng.choice(NUMBERS_ODD)
        return f"{self.rng.uniform(-20, 20):.{self.rng.randint(0, 4)}f}"

    # -- the actions (each returns a short description, or None when it did not apply now) ------------------
    def type_words(self) -> str | None:
        edit = self.sentence_edit()
        if edit is None:
            return None
        if len(edit.text()) > MAX_TYPED:
            edit.selectAll()
        else:
            edit.setCursorPosition(self.rng.randint(0, len(edit.text())))
        text = "".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(1, 3)))
        type_text(edit, text)
        return f"{edit.objectName()} +{text!r}"

    def backspace(self) -> str | None:
        edit = self.sentence_edit()
        if edit is None:
            return None
        edit.setCursorPosition(self.rng.randint(0, len(edit.text())))
        n = self.rng.randint(1, 4)
        for _ in range(n):
            QTest.keyClick(edit, Qt.Key.Key_Backspace)
        return f"{edit.objectName()} x{n}"

    def paste_sentence(self) -> str | None:
        edit = self.sentence_edit()
        if edit is None:
            return None
        text = self.rng.choice(self.pastes)
        QGuiApplication.clipboard().setText(text)
        if self.rng.random() < 0.7:
            edit.selectAll()
        QTest.keySequence(edit, QKeySequence.StandardKey.Paste)
        return f"{edit.objectName()} {text[:40]!r}"

    def press_enter(self) -> str | None:
        edit = self.sentence_edit()
        if edit is None:
            return None
        QTest.keyClick(edit, Qt.Key.Key_Return)
        return edit.objectName()

    def type_in_cell(self) -> str | None:
        target = self.cell()
        if target is None:
            return None
        inspector, stage, dim, index = target
        table = inspector.table
        table.setCurrentIndex(index)
        table.edit(index)
        editor = table.indexWidget(index)
        if not isinstance(editor, QLineEdit):
            self.fail(f"the {stage}[{dim}] cell did not open an editor")
        text = self.number_text()
        editor.selectAll()
        QTest.keyClick(editor, Qt.Key.Key_Delete)
        type_text(editor, text)
        QTest.keyClick(editor, Qt.Key.Key_Return)
        self.wait_until(lambda: table.state() != QAbstractItemView.State.EditingState)
        return f"{stage}[{dim}] = {text!r}"

    def nudge_cell(self) -> str | None:
        target = self.cell()
        if target is None:
            return None
        inspector, stage, dim, index = target
        inspector.table.setCurrentIndex(index)
        key = self.rng.choice([Qt.Key.Key_Up, Qt.Key.Key_Down])
        shift = self.rng.random() < 0.3
        modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
        QTest.keyClick(inspector.table, key, modifier)
        return f"{stage}[{dim}] {'shift+' if shift else ''}{'up' if key == Qt.Key.Key_Up else 'down'}"

    def delete_cell(self) -> str | None:
        target = self.cell()
        if target is None:
            return None
        inspector, stage, dim, index = target
        inspector.table.setCurrentIndex(index)
        inspector.table.selectionModel().select(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        QTest.keyClick(inspector.table, Qt.Key.Key_Delete)
        return f"{stage}[{dim}]"

    def drag_bar(self) -> str | None:
        target = self.cell()
        bars = self.window.inspector.bars
        if target is None or not self.usable(bars):
            return None
        _, stage, dim, _ = target
        start = bars.bar_point(stage, dim)
        if not bars.rect().contains(start):
            return None
        steps = [self.rng.randint(-60, 60) for _ in range(self.rng.randint(1, 5))]
        left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        QTest.mousePress(bars, left, none, start)
        for dy in steps:
            QTest.mouseMove(bars, start + QPoint(0, dy))
        QTest.mouseRelease(bars, left, none, start + QPoint(0, steps[-1]))
        return f"{stage}[{dim}] by {steps}"

    def drag_query(self) -> str | None:
        space = self.window.query_key_space
        if not self.usable(space.plot) or space.plane is None:
            return None
        view = space.plot.getViewBox()
        (x0, x1), (y0, y1) = view.viewRange()
        start = space.query_point.pos()
        viewport = space.plot.viewport()

        def screen(x: float, y: float) -> QPoint:
            return space.plot.mapFromScene(view.mapViewToScene(QPointF(x, y)))

        left, no_button = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
        dx, dy = self.rng.uniform(-0.4, 0.4) * (x1 - x0), self.rng.uniform(-0.4, 0.4) * (y1 - y0)
        send_mouse(viewport, QEvent.Type.MouseButtonPress, screen(start.x(), start.y()), left, left)
        steps = self.rng.randint(1, 5)
        for i in range(1, steps + 1):
            send_mouse(viewport, QEvent.Type.MouseMove, screen(start.x() + dx * i / steps, start.y() + dy * i / steps),
                       no_button, left)
        send_mouse(viewport, QEvent.Type.MouseButtonRelease, screen(start.x() + dx, start.y() + dy), left, no_button)
        return f"by ({dx:.3g}, {dy:.3g}) in {steps} moves"

    def arrow_query(self) -> str | None:
        space = self.window.query_key_space
        if not self.usable(space):
            return None
        key = self.rng.choice([Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down])
        shift = Qt.KeyboardModifier.ShiftModifier if self.rng.random() < 0.3 else Qt.KeyboardModifier.NoModifier
        QTest.keyClick(space, key, shift)
        return str(key).rsplit(".", 1)[-1]

    def pick_mode(self) -> str | None:
        combo = self.window.controls_panel.mode
        return self.activate(combo, [i for i in range(combo.count()) if combo.itemData(i) in KNOWN_MODES])

    def pick_variant(self) -> str | None:
        combo = self.window.controls_panel.variant
        return self.activate(combo, list(range(combo.count())))

    def pick_heads(self) -> str | None:
        combo = self.window.controls_panel.head_count
        return self.activate(combo, list(range(combo.count())))

    def pick_head(self) -> str | None:
        combo = self.window.controls_panel.head
        return self.activate(combo, list(range(combo.count())))

    def _toggle(self, box) -> str | None:
        if not self.usable(box):
            return None
        box.click()
        return f"-> {box.isChecked()}"

    def toggle_causal(self) -> str | None:
        return self._toggle(self.window.controls_panel.causal)

    def toggle_positions(self) -> str | None:
        return self._toggle(self.window.controls_panel.positions)

    def slide_temperature(self) -> str | None:
        slider = self.window.controls_panel.temperature.slider
        if not self.usable(slider):
            return None
        positions = [self.rng.randint(0, slider.maximum()) for _ in range(self.rng.randint(1, 4))]
        for position in positions:
            slider.setValue(position)
        slider.sliderReleased.emit()
        return str(positions)

    def type_temperature(self) -> str | None:
        spin = self.window.controls_panel.temperature.spin
        if not self.usable(spin):
            return None
        text = self.rng.choice(["0.5", "2", "0.01", "100", "1000", "0.001", "0", "-1", "nan", "1e308", "abc", ""])
        spin.selectAll()
        QTest.keyClick(spin, Qt.Key.Key_Delete)
        if text:
            QTest.keyClicks(spin, text)
        QTest.keyClick(spin, Qt.Key.Key_Return)
        return repr(text)

    def undo(self) -> str | None:
        action = self.window.action_undo
        if not action.isEnabled():
            return None
        action.trigger()
        return action.text()[:40]

    def redo(self) -> str | None:
        action = self.window.action_redo
        if not action.isEnabled():
            return None
        action.trigger()
        return action.text()[:40]

    def jump_in_history(self) -> str | None:
        view = self.window.undo_view
        model = view.model()
        if model is None or model.rowCount() < 2:
            return None
        row = self.rng.randrange(model.rowCount())
        view.selectionModel().setCurrentIndex(model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
        return f"row {row}"

    def click_chip(self) -> str | None:
        panel = self.window.sentence_panel
        chips_widget = panel.target_chips if self.controller.scene.query_side() == "target" else panel.source_chips
        chips = [chip for chip in chips_widget.chips() if self.usable(chip)]
        if not chips:
            return None
        chip = self.rng.choice(chips)
        chip.click()
        return chip.text()[:20]

    def canvas_keys(self) -> str | None:
        widget = self.rng.choice([self.window.canvas, self.window.heatmap.canvas])
        if not self.usable(widget):
            return None
        key = self.rng.choice([Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Plus,
                               Qt.Key.Key_Minus, Qt.Key.Key_0, Qt.Key.Key_Home, Qt.Key.Key_End])
        QTest.keyClick(widget, key)
        return f"{widget.objectName()} {str(key).rsplit('.', 1)[-1]}"

    def click_heatmap(self) -> str | None:
        widget = self.rng.choice([self.window.heatmap.canvas, self.window.canvas])
        if not self.usable(widget) or widget.width() < 2 or widget.height() < 2:
            return None
        point = QPoint(self.rng.randrange(widget.width()), self.rng.randrange(widget.height()))
        QTest.mouseMove(widget, point)
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
        return f"{widget.objectName()} at ({point.x()}, {point.y()})"

    def pick_example(self) -> str | None:
        combo = self.window.sentence_panel.example_selector
        return self.activate(combo, list(range(1, combo.count())))

    def reset_vectors(self) -> str | None:
        action = self.window.action_reset_vectors
        if not action.isEnabled():
            return None
        action.trigger()
        return "all"

    def reset_token(self) -> str | None:
        button = self.window.inspector.reset_button
        if not self.usable(button):
            return None
        button.click()
        return self.window.inspector.snapshot().surface[:20]

    def pick_token(self) -> str | None:
        combo = self.window.inspector.picker
        return self.activate(combo, list(range(combo.count())))

    def move_keyboard_focus(self) -> str | None:
        w = self.window
        widget = self.rng.choice([w.sentence_panel.source_edit, w.sentence_panel.target_edit, w.inspector.table,
                                  w.inspector.bars, w.canvas, w.query_key_space, w.controls_panel.temperature.spin,
                                  w.heatmap])
        if not self.usable(widget):
            return None
        widget.setFocus(Qt.FocusReason.TabFocusReason)
        return widget.objectName()

    def raise_dock(self) -> str | None:
        """Click a dock's tab: tabbed docks (sentences/lessons, heatmap/model, inspector/trace) take turns."""
        docks = [dock for dock in getattr(self.window, "docks", {}).values() if not dock.isFloating()]
        if not docks:
            return None
        dock = self.rng.choice(docks)
        dock.show()
        dock.raise_()
        return dock.objectName()

    def lesson_step(self) -> str | None:
        panel = self.lesson_panel
        if panel is None:
            return None
        if not panel.active:
            lessons = panel.lessons()
            if not lessons:
                return None
            lesson = self.rng.choice(lessons)
            step = self.rng.choice([None, 0, self.rng.randrange(len(lesson.steps))])
            panel.start_lesson(lesson, step)
            self.rebase()
            return f"start {lesson.id} at {step}"
        # A lesson locks panels: leave often, so that the other actions get their turn.
        move = "leave" if self.rng.random() < 0.35 else self.rng.choice(
            ["next", "back", "check_or_next", "show_hint", "reset_step", "show_me", "guess"])
        if move == "guess":
            panel.guess(self.rng.randrange(max(1, len(self.controller.result().key_words))))
        else:
            getattr(panel, move)()
        self.rebase()
        return move


# -- the test ------------------------------------------------------------------------------------------------

def test_monkey_drives_the_window_without_breaking_it(window, qtbot, monkeypatch):
    import pyqtgraph as pg

    monkeypatch.setitem(pg.CONFIG_OPTIONS, "mouseRateLimit", 0)  # synthetic drags come faster than a hand
    dialogs: list[str] = []
    for name in ("warning", "critical", "information", "question"):
        monkeypatch.setattr(QMessageBox, name, lambda *a, _name=name, **k: dialogs.append(f"{_name}: {a[1:3]}")
                            or QMessageBox.StandardButton.Discard)
    monkeypatch.setattr(QMessageBox, "exec", lambda self: dialogs.append(f"exec: {self.text()}") or 0)
    window.activateWindow()
    started = time.perf_counter()
    with qtbot.captureExceptions() as caught:
        monkey = Monkey(window, SEED, caught, dialogs)
        try:
            monkey.run(ACTIONS)
        finally:
            monkey.finish()
    elapsed = time.perf_counter() - started
    assert monkey.done == ACTIONS and monkey.checkpoints >= ACTIONS // monkey.checkpoint_every
    # most kinds of action really happened (a broken helper that always skips would hide a whole panel)
    assert len(monkey.counts) >= len(monkey.actions) - 4, (monkey.counts, monkey.skipped)
    assert sum(monkey.counts.values()) > 0.7 * ACTIONS
    # ~20 ms an action on 2 cores (each one recomputes and repaints the whole window); a guard, not a benchmark
    assert elapsed < max(30.0, ACTIONS * 0.1), f"{ACTIONS} actions took {elapsed:.1f} s"
    print(f"monkey: {ACTIONS} actions in {elapsed:.1f} s ({math.floor(ACTIONS / elapsed)}/s), "
          f"{monkey.checkpoints} undo checkpoints; {dict(monkey.counts)}")
