"""Crash safety: autosave after edits, recovery after a SIGKILL, and the exception hook."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from PySide6.QtWidgets import QWidget

from attnstudio.gui.autosave import find_orphans

CHILD = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from attnstudio.gui.app import make_application
    from attnstudio.gui.main_window import MainWindow

    app = make_application()
    window = MainWindow()
    window.show()
    window.controller.set_sentence("target", "The black dog sleeps")
    window.controller.set_component("target", 1, "q", 1, 7.5)

    def report():
        if window.autosaver.save_now():
            print("saved", window.autosaver.path, flush=True)
    QTimer.singleShot(100, report)
    app.exec()
""")


@pytest.mark.slow
def test_work_survives_sigkill(window, qtbot):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("saved"), proc.stderr.read() if proc.poll() is not None else line
        autosave_path = line.split(" ", 1)[1].strip()
        assert os.path.exists(autosave_path)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert autosave_path in find_orphans(window.autosaver.folder)
    questions = []
    assert window.offer_recovery(ask=lambda text: questions.append(text) or True)
    assert "The black dog sleeps" in questions[0]
    scene = window.controller.scene
    assert scene.target == "The black dog sleeps"
    assert scene.override("target", 1, "q", 1) == 7.5
    assert window.is_modified()
    assert not os.path.exists(autosave_path)  # handled once, not offered again
    assert find_orphans(window.autosaver.folder) == []


def _orphan(window, text: str, pid: int = 999999999) -> str:
    """An autosave left by a session (of a process ``pid`` long gone) that did not close normally."""
    folder = window.autosaver.folder
    os.makedirs(folder, exist_ok=True)
    orphan = os.path.join(folder, f"autosave-{pid}.attn.json")
    with open(orphan, "w", encoding="utf-8") as fh:
        fh.write(text)
    return orphan


def _my_work(extra: dict | None = None) -> str:
    """The learner's own scene (the target sentence changed), as an autosave writes it, with its ``extra``."""
    from attnstudio.scene import Scene

    mine = Scene()
    mine.set_sentence("target", "The black dog sleeps")
    document = mine.to_dict()
    if extra is not None:
        document["autosave"] = {"path": None, "extra": extra}
    return json.dumps(document)


def test_declining_recovery_discards_it(window, tmp_path):
    orphan = _orphan(window, _my_work())
    questions = []
    assert not window.offer_recovery(ask=lambda text: questions.append(text) or False)
    assert questions and not os.path.exists(orphan)


def test_an_autosave_of_what_is_already_open_is_not_offered(window):
    """A session that only ran a lesson autosaves the learner's untouched seed scene: nothing to give back."""
    orphan = _orphan(window, window.controller.scene.to_json(), 999999997)
    questions = []
    assert not window.offer_recovery(ask=lambda text: questions.append(text) or True)
    assert questions == [] and not os.path.exists(orphan)


@pytest.mark.parametrize("step, opened_at", [(2, 2), (99, 0), ("2", 0)])
def test_a_crash_in_a_lesson_gives_back_the_work_and_reopens_the_lesson(window, step, opened_at):
    _orphan(window, _my_work({"lesson": "scaling-temperature", "step": step}), 999999996)
    assert window.offer_recovery(ask=lambda text: True)
    panel = window.lesson_panel
    assert panel.active and panel.session.lesson.id == "scaling-temperature"
    assert panel.session.index == opened_at  # a step that is no index opens where the progress left off
    assert "lesson reopened" in window.status_label.text()
    panel.leave()
    assert window.controller.scene.target == "The black dog sleeps"
    assert window.is_modified(), "restored work is unsaved work, after the lesson too"


def test_an_autosave_naming_an_unknown_lesson_restores_the_work_alone(window):
    _orphan(window, _my_work({"lesson": "a-lesson-from-a-file-gone-since", "step": 1}), 999999995)
    assert window.offer_recovery(ask=lambda text: True)
    assert not window.lesson_panel.active
    assert window.controller.scene.target == "The black dog sleeps"
    assert "restored" in window.status_label.text()
    assert window.autosaver.extra.get("lesson") is None, "a lesson gone since is not asked for again"


def test_recovering_work_from_outside_a_lesson_does_not_build_the_lesson_player(window):
    _orphan(window, _my_work({"lesson": None, "step": None}), 999999994)
    assert window.offer_recovery(ask=lambda text: True)
    assert window.controller.scene.target == "The black dog sleeps"
    assert window.findChild(QWidget, "lessonPanel") is None


def test_corrupt_autosave_is_set_aside_with_a_message(window):
    _orphan(window, '{"format": "attnstudio-scene", "version": 1, "settings": {"num_heads": 3}}', 999999998)
    before = window.controller.scene.to_dict()
    assert not window.offer_recovery(ask=lambda text: True)
    assert window.controller.scene.to_dict() == before
    assert "could not be restored" in window.status_label.text()


def test_autosave_waits_for_a_quiet_spell_and_clean_close_removes_it(window, qtbot):
    saver = window.autosaver
    saver.timer.setInterval(50)
    window.controller.set_component("target", 1, "q", 1, 3.0)
    assert saver.timer.isActive()
    qtbot.waitUntil(lambda: os.path.exists(saver.path), timeout=3000)
    saver.discard()
    assert not os.path.exists(saver.path)


def test_exception_in_a_slot_is_logged_and_app_keeps_running(qtbot, monkeypatch):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    from attnstudio.gui import errors
    from attnstudio.gui.app import make_application

    make_application()
    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda self: shown.append(self.detailedText()) or 0)
    monkeypatch.setattr(sys, "excepthook", errors._hook)

    def broken_slot():
        raise RuntimeError("a deliberate test failure")

    with qtbot.captureExceptions() as caught:
        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: bool(caught) or bool(shown), timeout=2000)
    # pytest-qt captures slot exceptions itself; feed the hook what it would have received.
    if caught and not shown:
        errors._hook(*caught[0])
    log = os.path.join(errors.log_dir(), "attnstudio.log")
    assert os.path.exists(log)
    assert "a deliberate test failure" in open(log, encoding="utf-8").read()
    assert shown and "RuntimeError" in shown[0]
