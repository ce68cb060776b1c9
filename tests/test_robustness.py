"""Reliability: nothing a learner types, opens or saves crashes the app or loses their work.

Sentences and numbers are typed into the real window (key events carrying text, as an input method sends
them; control characters and line breaks arrive by paste). Files are broken every way we could think of and
opened through the scene loader, the window and the CLI. Saves fail the ways a disk fails. Undo is checked
as a property: any edits, undone, give back the scene exactly.
"""

from __future__ import annotations

import errno
import json
import os
import time
import tracemalloc
import unicodedata
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QEvent, QLocale, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QFileDialog, QLineEdit, QMessageBox

from attnstudio import fileio
from attnstudio.cli import main
from attnstudio.lessons import LessonError, check_lesson_file, load_lesson, load_library
from attnstudio.scene import MAX_COMPONENT, MAX_TEMPERATURE, MIN_TEMPERATURE, Scene, SceneError, load_scene_file



def _permissions_bind() -> tuple[bool, bool]:
    """Whether chmod 000 stops this process reading a file, and chmod 500 writing into a folder.

    Not when running as root (or with CAP_DAC_OVERRIDE): then those tests are skipped, and the failures are
    simulated instead by a monkeypatched write or rename.
    """
    import tempfile

    folder = tempfile.mkdtemp(prefix="attnstudio-perm-")
    path = os.path.join(folder, "f")
    with open(path, "w") as fh:
        fh.write("x")
    os.chmod(path, 0)
    try:
        open(path).close()
        reads_blocked = False
    except OSError:
        reads_blocked = True
    os.chmod(folder, 0o500)
    try:
        open(os.path.join(folder, "g"), "w").close()
        writes_blocked = False
    except OSError:
        writes_blocked = True
    os.chmod(folder, 0o700)
    os.chmod(path, 0o600)
    for name in os.listdir(folder):
        os.unlink(os.path.join(folder, name))
    os.rmdir(folder)
    return reads_blocked, writes_blocked


CHMOD_BLOCKS_READS, CHMOD_BLOCKS_WRITES = _permissions_bind()
UNREADABLE_SKIP = pytest.mark.skipif(not CHMOD_BLOCKS_READS, reason="this user reads chmod 000 files (root)")
SEED_SOURCE_TOKENS = ["Le", "chat", "noir", "dort", "sur", "le", "canapé"]
BLACK = 1  # "black", the focused query of the seed pair
HUNDRED_MB = 100 * 1024 * 1024


# -- helpers -----------------------------------------------------------------------------------------------

def assert_sane(result) -> None:
    """No NaN or infinity anywhere a view reads; every weight row sums to 1 (or 0 when all keys are masked)."""
    for name in ("q", "k", "v", "output", "uniform_output", "head_weights"):
        array = getattr(result, name)
        assert np.isfinite(array).all(), f"{name} has NaN or inf"
    assert not np.isnan(result.head_scores).any() and not np.isposinf(result.head_scores).any()
    sums = result.head_weights.sum(axis=-1)
    assert np.all(np.isclose(sums, 1.0) | (sums == 0.0)), sums


def type_text(widget, text: str) -> None:
    """Type ``text`` one code point at a time, as key events carrying the text (works for é, 猫, 🐈).

    QTest.keyClicks cannot: it aborts on any non-ASCII character.
    """
    for ch in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, ch))


def paste(edit: QLineEdit, text: str) -> None:
    """Select everything in ``edit`` and paste ``text`` over it with the Paste shortcut."""
    QGuiApplication.clipboard().setText(text)
    edit.selectAll()
    QTest.keySequence(edit, QKeySequence.StandardKey.Paste)


def retype(edit: QLineEdit, text: str) -> None:
    """Replace the field's text by typing (Delete then keys), as a learner would."""
    edit.selectAll()
    QTest.keyClick(edit, Qt.Key.Key_Delete)
    type_text(edit, text)


def edits(window):
    panel = window.sentence_panel
    return {"source": panel.source_edit, "target": panel.target_edit}


def undo_all(controller) -> None:
    while controller.undo_stack.canUndo():
        controller.undo_stack.undo()


@pytest.fixture
def no_dialogs(monkeypatch):
    """Every message box is recorded instead of shown (a modal box would hang the test)."""
    shown: list[str] = []

    def record(*args, **_kwargs):
        shown.append(" ".join(str(a) for a in args[1:3]))
        return QMessageBox.StandardButton.Discard

    for name in ("warning", "critical", "information", "question"):
        monkeypatch.setattr(QMessageBox, name, record)
    return shown


@pytest.fixture(scope="module")
def _long_lived_window(qapp, tmp_path_factory):
    """One window for the many one-value tests below (a fresh window costs ~0.4 s); dirs of its own."""
    from PySide6.QtCore import QSettings

    from attnstudio.gui.main_window import MainWindow

    home = tmp_path_factory.mktemp("long-lived-home")
    with pytest.MonkeyPatch.context() as mp:
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            mp.setenv(var, str(home / var.lower()))
        win = MainWindow(settings=QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat))
        win.show()
        QTest.qWaitForWindowExposed(win)
        yield win
        win.controller.undo_stack.setClean()
        win.autosaver.discard()
        win.close()
        win.deleteLater()


@pytest.fixture
def shared_window(_long_lived_window):
    """The long-lived window, back at the seed example with an empty history and no messages."""
    win = _long_lived_window
    win.controller.new_scene()
    win.show_message("")
    win.inspector.message.clear()
    yield win
    win.controller.undo_stack.setClean()
    win.autosaver.discard()


# -- sentences typed into the window -------------------------------------------------------------------------

SENTENCES = [
    pytest.param("", "typed", [], id="empty"),
    pytest.param("    ", "typed", [], id="only-spaces"),
    pytest.param("?! … , ;", "typed", ["?", "!", "…", ",", ";"], id="only-punctuation"),
    pytest.param("chat", "typed", ["chat"], id="one-token"),
    pytest.param("Le 🐈 dort 👍🏽", "typed", ["Le", "🐈", "dort", "👍", "🏽"], id="emoji"),
    pytest.param("黑猫 在 沙发上", "typed", ["黑猫", "在", "沙发上"], id="cjk"),
    pytest.param("القط الأسود ينام", "typed", ["القط", "الأسود", "ينام"], id="right-to-left"),
    pytest.param("\u202eLe chat\u202c \u200fnoir", "pasted", ["Le", "chat", "noir"], id="direction-marks"),
    pytest.param("Le\x00chat\x07 noir\x1b", "pasted", ["Lechat", "noir"], id="control-characters"),
    pytest.param("Le\tchat\nnoir\r\ndort", "pasted", ["Le", "chat", "noir", "dort"], id="tabs-and-newlines"),
    pytest.param("a" * 10_000, "pasted", ["a" * 10_000], id="10000-characters-one-word"),
]


@pytest.mark.parametrize("text, how, tokens", SENTENCES)
def test_any_sentence_typed_into_the_window_is_safe(window, qtbot, text, how, tokens):
    c = window.controller
    start = c.scene.to_dict()
    for side, edit in edits(window).items():
        (paste if how == "pasted" else retype)(edit, text)
        assert [w.token.surface for w in c.scene.tokens(side).words] == tokens
        for surface in tokens:
            assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in surface), surface
        assert_sane(c.result())
        qtbot.wait(1)  # let every panel repaint with it
    assert c.result().weights.shape == (len(tokens), len(tokens))
    if not tokens:
        assert "empty" in window.sentence_panel.status.text()
    # the app keeps working: a normal sentence still applies, and undo gets back the seed exactly
    retype(edits(window)["source"], "Le chat noir")
    assert [w.token.surface for w in c.scene.tokens("source").words] == ["Le", "chat", "noir"]
    undo_all(c)
    assert c.scene.to_dict() == start


CLI_SENTENCES = [
    pytest.param("?! … , ;", ["?", "!", "…", ",", ";"], id="only-punctuation"),
    pytest.param("chat", ["chat"], id="one-token"),
    pytest.param("Le 🐈 dort 👍🏽", ["Le", "🐈", "dort", "👍", "🏽"], id="emoji"),
    pytest.param("黑猫 在 沙发上", ["黑猫", "在", "沙发上"], id="cjk"),
    pytest.param("\u202eالقط الأسود\u202c ينام", ["القط", "الأسود", "ينام"], id="right-to-left"),
    pytest.param(unicodedata.normalize("NFD", "canapé élève"), ["canapé", "élève"], id="combining-accents"),
    pytest.param("Le\x00chat\x07 noir\x1b", ["Lechat", "noir"], id="control-characters"),
    pytest.param("Le\tchat\nnoir\r\ndort", ["Le", "chat", "noir", "dort"], id="tabs-and-newlines"),
    pytest.param("a" * 10_000, ["a" * 10_000], id="10000-characters-one-word"),
    pytest.param(" ".join(["chat"] * 512), ["chat"] * 512, id="512-tokens"),
]


@pytest.mark.parametrize("text, tokens", CLI_SENTENCES)
def test_any_sentence_on_the_command_line_exports_finite_weights(tmp_path, text, tokens):
    out = tmp_path / "w.json"
    assert main(["export", "--source", text, "--target", text, "-o", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["keys"] == tokens and doc["queries"] == tokens
    weights = np.array(doc["weights"])
    assert weights.shape == (len(tokens), len(tokens)) and np.isfinite(weights).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)


@pytest.mark.parametrize("text, message", [("", "empty"), ("   \t ", "empty"), ("chat " * 2000, "512"),
                                           ("chat \udcff", "invalid character")])
def test_sentences_the_command_line_refuses_in_one_line(tmp_path, capsys, text, message):
    out = tmp_path / "w.json"
    assert main(["export", "--source", text, "-o", str(out)]) == 2  # \udcff: a byte of argv that is not UTF-8
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnstudio: error:") and message in err and "\n" not in err and not out.exists()


def test_nfd_and_nfc_give_the_same_tokens_and_weights(window):
    c = window.controller
    nfc_weights = c.result().weights.copy()
    decomposed = unicodedata.normalize("NFD", "Le chat noir dort sur le canapé")
    assert decomposed != c.scene.source
    paste(edits(window)["source"], decomposed)
    words = c.scene.tokens("source").words
    assert [w.token.surface for w in words] == SEED_SOURCE_TOKENS
    assert words[-1].kind != "unknown"  # "canapé" typed with a combining accent is still the known word
    np.testing.assert_array_equal(c.result().weights, nfc_weights)


def test_512_tokens_per_side_work_and_more_are_refused_without_a_phantom_undo_step(window, qtbot):
    c = window.controller
    fields = edits(window)
    paste(fields["source"], " ".join(["chat"] * 512))
    paste(fields["target"], " ".join(["cat"] * 512))
    assert c.result().weights.shape == (512, 512)
    assert_sane(c.result())
    qtbot.wait(1)
    steps, before = c.undo_stack.count(), c.scene.to_dict()
    # 10,000 characters, 2,000 tokens: refused, said so, nothing pushed on the undo stack
    paste(fields["source"], "chat " * 2000)
    assert window.sentence_panel.status.text().startswith("⚠")
    assert "512" in window.status_label.text()
    assert c.undo_stack.count() == steps and c.scene.to_dict() == before
    # typing on in the refused text stays refused (this used to segfault on the next edit)
    fields["source"].end(False)
    type_text(fields["source"], "x")
    assert c.undo_stack.count() == steps and c.scene.to_dict() == before
    paste(fields["source"], "Le chat noir")
    assert c.result().weights.shape == (512, 3)
    assert c.undo_stack.count() == steps + 1
    c.undo_stack.undo()
    assert c.scene.to_dict() == before


# -- numbers typed into cells and fields -----------------------------------------------------------------

def type_into_cell(qtbot, window, stage: str, dim: int, text: str) -> None:
    """Open a q/k/v cell's editor in the window's inspector, type like a learner, press Enter."""
    inspector = window.inspector
    index = inspector.table_model.index(inspector.snapshot().stages.index(stage), dim)
    inspector.table.setCurrentIndex(index)
    inspector.table.edit(index)
    editor = inspector.table.indexWidget(index)
    assert isinstance(editor, QLineEdit), "the cell did not open an editor"
    editor.selectAll()
    QTest.keyClick(editor, Qt.Key.Key_Delete)
    type_text(editor, text)
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: inspector.table.state() != QAbstractItemView.State.EditingState)


# "nan", "inf", "1e308", "abc" and "" are refused in tests/test_inspector.py (inspector alone)
@pytest.mark.parametrize("text", ["-inf", "--1", "1e309", "-1e308", "1001", "1.5.2", "1,5,2", "½", "0x10", "1 000"])
def test_bad_numbers_in_a_window_cell_are_refused_with_a_message(shared_window, qtbot, text):
    window = shared_window
    c = window.controller
    before, weights = c.scene.to_dict(), c.result().weights.copy()
    type_into_cell(qtbot, window, "q", 3, text)
    assert window.inspector.message.text().startswith("⚠ Not applied")
    assert c.undo_stack.count() == 0 and c.scene.to_dict() == before
    np.testing.assert_array_equal(c.result().weights, weights)
    type_into_cell(qtbot, window, "q", 3, "2")  # and the next good number is taken
    assert c.scene.override("target", BLACK, "q", 3) == 2.0 and window.inspector.message.text() == ""


@pytest.mark.parametrize("text, value", [("1e-320", 0.0), ("-1000", -MAX_COMPONENT), ("  2,25 ", 2.25),
                                         ("1E3", 1000.0), ("\u22124", -4.0)])
def test_odd_but_valid_numbers_in_a_window_cell_are_taken(shared_window, qtbot, text, value):
    window = shared_window
    type_into_cell(qtbot, window, "q", 3, text)
    assert window.controller.scene.override("target", BLACK, "q", 3) == value
    assert_sane(window.controller.result())


def type_temperature(qtbot, window, text: str) -> None:
    spin = window.controls_panel.temperature.spin
    spin.setFocus()
    spin.selectAll()
    QTest.keyClick(spin, Qt.Key.Key_Delete)
    if text:
        QTest.keyClicks(spin, text)
    QTest.keyClick(spin, Qt.Key.Key_Return)
    window.sentence_panel.source_edit.setFocus()  # leaving the field commits or reverts what was typed
    qtbot.wait(1)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e308", "1e-320", "--1", "", "abc", "0", "-3", "99999",
                                  "0.0001", "1,5"])
def test_anything_typed_as_temperature_leaves_a_valid_one(shared_window, qtbot, text):
    window = shared_window
    c = window.controller
    type_temperature(qtbot, window, text)
    t = c.scene.settings.temperature
    assert np.isfinite(t) and MIN_TEMPERATURE <= t <= MAX_TEMPERATURE
    assert window.controls_panel.temperature.value() == pytest.approx(t)
    assert_sane(c.result())
    assert 0 <= c.undo_stack.index() <= c.undo_stack.count() <= 1
    type_temperature(qtbot, window, "2")
    assert c.scene.settings.temperature == 2.0


@pytest.mark.parametrize("value", [0, -1.0, 1e9, float("nan"), float("inf"), 1e-320])
def test_out_of_range_temperature_is_refused_by_the_controller_with_a_message(shared_window, qtbot, value):
    window = shared_window
    c = window.controller
    with qtbot.waitSignal(c.message):
        assert not c.set_settings(temperature=value)
    assert c.scene.settings.temperature == 1.0 and c.undo_stack.count() == 0
    assert "temperature" in window.status_label.text()


@pytest.fixture
def french_window(request):
    """The window built in a French locale (decimal comma), the default locale restored afterwards."""
    previous = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.French, QLocale.Country.France))
    try:
        yield request.getfixturevalue("window")
    finally:
        QLocale.setDefault(previous)


def test_decimal_comma_in_a_french_locale(french_window, qtbot):
    window, c = french_window, french_window.controller
    spin = window.controls_panel.temperature.spin
    assert spin.locale().decimalPoint() == ","
    type_into_cell(qtbot, window, "q", 0, "1,5")
    assert c.scene.override("target", BLACK, "q", 0) == 1.5
    type_into_cell(qtbot, window, "q", 1, "-0.25")  # a point still works
    assert c.scene.override("target", BLACK, "q", 1) == -0.25
    type_temperature(qtbot, window, "0,5")
    assert c.scene.settings.temperature == 0.5
    assert spin.text() == "0,500"


# -- heads that do not divide the width ----------------------------------------------------------------------

@pytest.mark.parametrize("heads, ok", [("0", False), ("-2", False), ("17", False), ("5", False), ("16", True)])
def test_cli_heads(tmp_path, capsys, heads, ok):
    out = tmp_path / "w.json"
    rc = main(["export", "--source", "Le chat noir", "--heads", heads, "-o", str(out)])
    if ok:
        assert rc == 0 and len(json.loads(out.read_text(encoding="utf-8"))["weights"]) == 3
    else:
        err = capsys.readouterr().err
        assert rc == 2 and err.startswith("attnstudio: error:") and "heads" in err and not out.exists()


def test_one_dimension_per_head_is_valid_and_the_window_offers_only_divisors(window):
    scene = Scene()
    scene.set_settings(num_heads=16)
    assert scene.result().head_weights.shape == (16, 7, 7)
    assert_sane(scene.result())
    combo = window.controls_panel.head_count
    assert all(window.controller.scene.d_model % combo.itemData(i) == 0 for i in range(combo.count()))


@pytest.mark.parametrize("value", ["nan", "inf", "1e308", "1e-320", "-1"])
def test_cli_refuses_a_bad_temperature(tmp_path, capsys, value):
    out = tmp_path / "w.json"
    assert main(["export", "--source", "chat", f"--temperature={value}", "-o", str(out)]) == 2
    assert "temperature" in capsys.readouterr().err and not out.exists()


# -- broken scene files --------------------------------------------------------------------------------------

def _seed_doc() -> dict:
    scene = Scene()
    scene.set_override("target", 1, "q", 0, 2.0)
    return scene.to_dict()


def _doc(**changes) -> str:
    doc = _seed_doc()
    for key, value in changes.items():
        if key in ("temperature", "num_heads", "source_language"):
            doc["settings"][key] = value
        else:
            doc[key] = value
    return json.dumps(doc)


def _without_token() -> str:
    doc = _seed_doc()
    del doc["overrides"][0]["token"]
    return json.dumps(doc)


BAD_SCENES = {
    "empty": ("", "broken"),
    "truncated": (json.dumps(_seed_doc())[:200], "broken"),
    "toml-not-json": ('format = "attnstudio-scene"\nversion = 1\n', "broken"),
    "binary": (bytes(range(256)) * 4, "cannot read"),
    "newer-version": (_doc(version=2), "newer AttnStudio"),
    "settings-wrong-shape": (_doc(settings=[1, 2]), "settings must be an object"),
    "overrides-wrong-shape": (_doc(overrides={"side": "target"}), "overrides must be a list"),
    "temperature-wrong-type": (_doc(temperature="hot"), "temperature must be a number"),
    "heads-wrong-type": (_doc(num_heads=2.5), "heads must be a positive whole number"),
    "language-wrong-type": (_doc(source_language=["fr"]), "has no lexicon"),
    "sentence-wrong-type": (_doc(source=["Le", "chat"]), "must be text"),
    "override-missing-token": (_without_token(), "incomplete"),
    "huge-integer": (_doc().replace('"focus": 1', '"focus": ' + "9" * 5000), "broken"),
    "integer-beyond-float": (_doc(temperature=10**400), "temperature"),
    "float-overflow": (_doc().replace('"temperature": 1.0', '"temperature": 1e999'), "temperature"),
    "nan-value": (_doc().replace('"value": 2.0', '"value": NaN'), "not a finite number"),
    "lone-surrogate": (_doc(source="Le chat \ud800 noir"), "invalid character"),
    "deep-nesting": ("[" * 10_000 + "]" * 10_000, "broken"),
    "deep-nesting-inside": (_doc().replace('"overrides": [', '"overrides": [' + "[" * 10_000 + "]" * 10_000 + ", "),
                            "broken"),
}


def make_bad_scene(tmp_path, name: str):
    """Write the broken scene ``name`` (or make the folder, sparse file, unreadable file) and return its path."""
    path = tmp_path / f"{name} é.attn.json"
    if name == "directory":
        path.mkdir()
    elif name == "100MB":
        with open(path, "wb") as fh:
            fh.truncate(HUNDRED_MB)  # sparse: instant to make, 100 MB to anyone who reads it
    elif name == "missing":
        pass
    elif name == "unreadable":
        path.write_text(json.dumps(_seed_doc()), encoding="utf-8")
        path.chmod(0)
    else:
        content = BAD_SCENES[name][0]
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
    return path


SCENE_CASES = [*BAD_SCENES, "directory", "100MB", "missing",
               pytest.param("unreadable", marks=UNREADABLE_SKIP)]


@pytest.mark.parametrize("name", SCENE_CASES)
def test_broken_scene_file_is_a_clean_scene_error_in_the_loader_and_the_cli(tmp_path, capsys, name):
    path = make_bad_scene(tmp_path, name)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(SceneError) as info:
            load_scene_file(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 2.0
    assert peak < 30_000_000, f"read {peak / 1e6:.0f} MB of the file into memory"
    message = str(info.value)
    assert path.name in message
    if name in BAD_SCENES:
        assert BAD_SCENES[name][1] in message
    elif name == "100MB":
        assert "too large" in message
    out = tmp_path / "w.json"
    assert main(["export", "--scene", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnstudio: error:") and path.name in err and "\n" not in err
    assert not out.exists()


def test_the_window_refuses_every_broken_scene_and_keeps_the_learners(window, tmp_path, no_dialogs):
    c = window.controller
    c.set_component("target", BLACK, "q", 2, 4.0)
    c.set_settings(num_heads=2)
    c.set_head(1)
    before, steps, title = c.scene.to_dict(), c.undo_stack.count(), window.windowTitle()
    names = [n for n in SCENE_CASES if isinstance(n, str)] + (["unreadable"] if CHMOD_BLOCKS_READS else [])
    for name in names:
        path = make_bad_scene(tmp_path, name)
        assert not window.open_scene(str(path)), name
        assert no_dialogs and path.name in no_dialogs[-1], name
        assert c.scene.to_dict() == before and c.undo_stack.count() == steps, name
        assert window.windowTitle() == title and window.is_modified(), name
    assert c.set_component("target", BLACK, "q", 2, 5.0)  # and the learner carries on
    undo_all(c)
    assert c.scene.override("target", BLACK, "q", 2) is None


# -- broken lesson files (empty, truncated, JSON, newer, wrong types, missing token: tests/test_lessons.py) ------

GOOD_LESSON = """\
format = "attnstudio-lesson"
version = 1
id = "robust"
title = "Robust"
summary = "One step."

[[steps]]
text = "Read me."
"""

BAD_LESSONS = {
    "deep-nesting": ('format = "attnstudio-lesson"\nx = ' + "[" * 10_000 + "]" * 10_000, "nested too deeply"),
    "deep-inline-tables": ('format = "attnstudio-lesson"\nx = ' + "{a=" * 3000 + "1" + "}" * 3000,
                           "nested too deeply"),
    "huge-integer": (GOOD_LESSON.replace("version = 1", "version = " + "9" * 5000), "4300 digits"),
    "lone-surrogate-escape": (GOOD_LESSON.replace('title = "Robust"', 'title = "\\ud800"'), "not valid TOML"),
}


def make_bad_lesson(tmp_path, name: str):
    path = tmp_path / f"{name} é.toml"
    if name == "directory":
        path.mkdir()
    elif name == "100MB":
        with open(path, "wb") as fh:
            fh.truncate(HUNDRED_MB)
    elif name == "unreadable":
        path.write_text(GOOD_LESSON, encoding="utf-8")
        path.chmod(0)
    else:
        path.write_text(BAD_LESSONS[name][0], encoding="utf-8")
    return path


LESSON_CASES = [*BAD_LESSONS, "directory", "100MB",
                pytest.param("unreadable", marks=UNREADABLE_SKIP)]


@pytest.mark.parametrize("name", LESSON_CASES)
def test_broken_lesson_file_is_a_clean_lesson_error_everywhere(tmp_path, capsys, name):
    path = make_bad_lesson(tmp_path, name)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(LessonError) as info:
            load_lesson(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 2.0 and peak < 30_000_000
    assert str(path) in str(info.value)
    if name in BAD_LESSONS:
        assert BAD_LESSONS[name][1] in str(info.value)
    elif name == "100MB":
        assert "too large" in str(info.value)
    lesson, problems = check_lesson_file(path)
    assert lesson is None and problems
    assert main(["lesson", "check", str(path)]) == 1
    assert str(path) in capsys.readouterr().out
    if name != "directory":  # a folder is not a *.toml file the library would list
        library = load_library(user_dir=tmp_path)
        assert [str(p.file) for p in library.problems] == [str(path)]
        assert len(library.lessons) >= 8  # the shipped lessons are all still there


# -- saves that fail -------------------------------------------------------------------------------------------

class _FullDisk:
    """A file object whose writes stop with ENOSPC after a few bytes, as on a full disk."""

    def __init__(self, real):
        self.real = real

    def write(self, data):
        self.real.write(data[:10])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()
        return False


def _break_saving(how: str, monkeypatch, tmp_path):
    """Arrange for a save to fail ``how``; return the path to save to."""
    precious = tmp_path / "mon travail été.attn.json"
    if how == "read-only-folder":  # simulated: chmod does not stop root, so the rename is refused instead
        def refuse(*_args, **_kwargs):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        monkeypatch.setattr(fileio.os, "replace", refuse)
        return precious
    if how == "disk-full":
        real_fdopen = os.fdopen
        monkeypatch.setattr(fileio.os, "fdopen", lambda *a, **k: _FullDisk(real_fdopen(*a, **k)))
        return precious
    if how == "missing-folder":
        return tmp_path / "no such folder" / "scène.attn.json"
    if how == "a-folder":
        (tmp_path / "dossier.attn.json").mkdir()
        return tmp_path / "dossier.attn.json"
    if how == "name-too-long":
        return tmp_path / ("é" * 200 + ".attn.json")
    raise AssertionError(how)


SAVE_FAILURES = {"read-only-folder": "Permission denied", "disk-full": "No space left",
                 "missing-folder": "does not exist",
                 "a-folder": "it is a folder", "name-too-long": "too long"}


def _files(folder) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.mark.parametrize("how", SAVE_FAILURES)
def test_a_failed_save_in_the_window_says_why_and_loses_nothing(window, tmp_path, monkeypatch, no_dialogs, how):
    c = window.controller
    precious = tmp_path / "mon travail été.attn.json"
    precious.write_text("the learner's earlier save", encoding="utf-8")
    c.set_component("target", BLACK, "q", 1, 3.0)
    with monkeypatch.context() as broken:
        path = _break_saving(how, broken, tmp_path)
        listing = _files(tmp_path)
        broken.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
        assert not window.save_scene_as()
    assert no_dialogs and SAVE_FAILURES[how] in no_dialogs[-1]
    assert precious.read_text(encoding="utf-8") == "the learner's earlier save"
    assert _files(tmp_path) == listing  # no temporary file left behind
    assert window.is_modified() and not c.undo_stack.isClean() and c.path is None
    assert c.scene.override("target", BLACK, "q", 1) == 3.0
    good = tmp_path / "à nouveau.attn.json"
    assert c.save_scene(str(good)) and load_scene_file(str(good)).to_dict() == c.scene.to_dict()


@pytest.mark.parametrize("suffix", [".json", ".svg"])
@pytest.mark.parametrize("how", SAVE_FAILURES)
def test_a_failed_cli_export_is_one_line_and_leaves_the_old_file(qapp, tmp_path, monkeypatch, capsys, how, suffix):
    path = _break_saving(how, monkeypatch, tmp_path)
    out = path.with_name(path.name.replace(".attn.json", suffix))
    if how in ("read-only-folder", "disk-full"):
        out.write_text("old export", encoding="utf-8")
    if how == "a-folder":
        out = path.with_name(path.name.replace(".attn.json", suffix))
        out.mkdir()
    listing = _files(tmp_path)
    assert main(["export", "--source", "Le chat noir", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnstudio: error:") and SAVE_FAILURES[how] in err and "\n" not in err
    assert _files(tmp_path) == listing
    if how in ("read-only-folder", "disk-full"):
        assert out.read_text(encoding="utf-8") == "old export"


@pytest.mark.skipif(not CHMOD_BLOCKS_WRITES, reason="this user writes into chmod 500 folders (root)")
def test_a_really_read_only_folder(window, tmp_path, no_dialogs):
    folder = tmp_path / "lecture seule"
    folder.mkdir()
    (folder / "s.attn.json").write_text("old", encoding="utf-8")
    folder.chmod(0o500)
    try:
        assert not window.controller.save_scene(str(folder / "s.attn.json"))
        assert (folder / "s.attn.json").read_text(encoding="utf-8") == "old"
    finally:
        folder.chmod(0o700)


def test_a_path_with_spaces_and_accents_round_trips_through_the_window(window, tmp_path, monkeypatch):
    c = window.controller
    folder = tmp_path / "Mes scènes d'été"
    folder.mkdir()
    c.set_sentence("source", "Le chat dort sur le canapé")
    c.set_component("source", 1, "k", 4, -2.5)
    path = folder / "élève n°1 — chat.attn.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    assert window.save_scene_as()
    assert not window.is_modified() and path.name.split(".")[0] in window.windowTitle()
    saved = c.scene.to_dict()
    c.new_scene()
    assert window.open_scene(str(path))
    assert c.scene.to_dict() == saved
    assert window.recent_files()[0] == str(path)


def test_autosave_on_a_full_disk_reports_and_keeps_the_previous_autosave(window, monkeypatch):
    saver = window.autosaver
    window.controller.set_component("target", BLACK, "q", 1, 1.5)
    assert saver.save_now()
    previous = open(saver.path, encoding="utf-8").read()
    window.controller.set_component("target", BLACK, "q", 1, 2.5)
    real_fdopen = os.fdopen
    monkeypatch.setattr(fileio.os, "fdopen", lambda *a, **k: _FullDisk(real_fdopen(*a, **k)))
    assert not saver.save_now()
    assert "No space left" in saver.last_error and "Autosave failed" in window.status_label.text()
    assert open(saver.path, encoding="utf-8").read() == previous
    assert sorted(os.listdir(saver.folder)) == [os.path.basename(saver.path)]


def test_a_deeply_nested_autosave_is_set_aside_at_start(window):
    folder = window.autosaver.folder
    os.makedirs(folder, exist_ok=True)
    orphan = os.path.join(folder, "autosave-999999997.attn.json")
    with open(orphan, "w", encoding="utf-8") as fh:
        fh.write("[" * 10_000 + "]" * 10_000)
    before = window.controller.scene.to_dict()
    assert not window.offer_recovery(ask=lambda text: True)
    assert not os.path.exists(orphan) and "could not be read" in window.status_label.text()
    assert window.controller.scene.to_dict() == before


# -- extreme but valid numbers -----------------------------------------------------------------------------------

def extreme_scene(variant: str, temperature: float, heads: int, causal: bool, mode: str = "translation") -> Scene:
    """Every q, k, v component of every token at ±MAX_COMPONENT, with the sharpest or flattest softmax."""
    scene = Scene()
    scene.set_settings(variant=variant, temperature=temperature, num_heads=heads, causal=causal, mode=mode)
    sign = np.where(np.arange(scene.d_model) % 3 == 0, -1.0, 1.0)
    values = {}
    for side in ("source", "target"):
        for i in range(len(scene.tokens(side).words)):
            for stage in ("q", "k", "v"):
                for d in range(scene.d_model):
                    values[(side, i, stage, d)] = float(sign[d] * MAX_COMPONENT * (-1) ** i)
    scene.set_overrides(values)
    return scene


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("variant", ["dot", "scaled", "uniform"])
@pytest.mark.parametrize("temperature", [MIN_TEMPERATURE, 1.0, MAX_TEMPERATURE])
@pytest.mark.parametrize("heads, causal, mode", [(1, False, "translation"), (16, True, "self"),
                                                 (4, True, "translation")])
def test_extreme_valid_numbers_stay_finite_without_a_warning(variant, temperature, heads, causal, mode):
    from attnstudio.gui.trace import compute_trace

    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        scene = extreme_scene(variant, temperature, heads, causal, mode)
        result = scene.result()
        assert_sane(result)
        for focus in range(len(result.query_words)):
            trace = compute_trace(result, focus, variant, temperature)
            assert np.isfinite(trace.weights).all() and np.isfinite(trace.exps).all()


def test_the_window_paints_extreme_numbers(window, qtbot):
    c = window.controller
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c.scene.load_dict(extreme_scene("dot", MIN_TEMPERATURE, 2, True).to_dict())
        assert_sane(c.result())
        image = window.grab()
        qtbot.wait(1)
    assert not image.isNull()
    assert window.inspector.snapshot() is not None


# -- undo as a property: any edits, undone, give back the scene exactly ---------------------------------------

SENTENCE_CHOICES = ["Le chien voit le chat", "The dog", "", "Un café, s'il vous plaît", "chat",
                    "Le chat noir dort sur le canapé", "The black cat sleeps on the couch", "The blac cat",
                    "🐈 猫 القط", "chat " * 513]
SETTING_CHOICES = [{"temperature": 0.5}, {"temperature": 3.0}, {"variant": "dot"}, {"variant": "uniform"},
                   {"num_heads": 4}, {"num_heads": 8}, {"num_heads": 1}, {"causal": True}, {"positions": False},
                   {"mode": "self"}, {"mode": "translation"}, {"num_heads": 3}, {"temperature": 0}]

controller_edits = st.one_of(
    st.tuples(st.just("component"), st.sampled_from(["source", "target"]), st.integers(0, 8),
              st.sampled_from(["q", "k", "v"]), st.integers(0, 16),
              st.one_of(st.floats(-1000, 1000, allow_nan=False), st.none(), st.sampled_from(["nan", "1,5", "x"])),
              st.booleans()),
    st.tuples(st.just("components"), st.integers(0, 6), st.lists(st.integers(0, 15), min_size=1, max_size=3),
              st.floats(-50, 50, allow_nan=False), st.booleans()),
    st.tuples(st.just("settings"), st.sampled_from(SETTING_CHOICES), st.booleans()),
    st.tuples(st.just("sentence"), st.sampled_from(["source", "target"]), st.sampled_from(SENTENCE_CHOICES)),
    st.tuples(st.just("reset")),
    st.tuples(st.just("end_merge")),
)


def apply_edit(controller, op) -> None:
    kind = op[0]
    if kind == "component":
        controller.set_component(*op[1:6], merge=op[6])
    elif kind == "components":
        _, index, dims, value, merge = op
        values = {("target", index, "q", d): value + d for d in dims}
        controller.set_components(values, "Drag the query", merge_key=("drag", index) if merge else None)
    elif kind == "settings":
        controller.set_settings(merge=op[2], **op[1])
    elif kind == "sentence":
        controller.set_sentence(op[1], op[2])
    elif kind == "reset":
        controller.reset_overrides()
    else:
        controller.end_merge()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(controller_edits, min_size=1, max_size=12))
def test_undo_all_gives_back_the_original_and_redo_all_the_edited_scene(qapp, ops):
    from attnstudio.gui.controller import Controller

    controller = Controller()
    try:
        original, original_weights = controller.scene.to_dict(), controller.result().head_weights.copy()
        for op in ops:
            apply_edit(controller, op)
            stack = controller.undo_stack
            assert 0 <= stack.index() <= stack.count()
            assert_sane(controller.result())
        edited, edited_weights = controller.scene.to_dict(), controller.result().head_weights.copy()
        undo_all(controller)
        assert controller.scene.to_dict() == original
        assert np.array_equal(controller.result().head_weights, original_weights)
        while controller.undo_stack.canRedo():
            controller.undo_stack.redo()
        assert controller.scene.to_dict() == edited
        assert np.array_equal(controller.result().head_weights, edited_weights)
    finally:
        controller.undo_stack.clear()  # commands point back at the controller: break the cycle now


def test_redo_of_a_typing_burst_that_dropped_an_edit_does_not_bring_it_back(qapp):
    from attnstudio.gui.controller import Controller

    c = Controller()
    c.set_component("target", BLACK, "q", 0, 5.0)
    c.end_merge()
    c.set_sentence("target", "The blac cat sleeps on the couch")  # "black" changed: its edit is dropped
    c.set_sentence("target", "The black cat sleeps on the couch")  # same burst: one undo step
    edited = c.scene.to_dict()
    assert c.scene.override("target", BLACK, "q", 0) is None and c.undo_stack.count() == 2
    c.undo_stack.undo()
    assert c.scene.override("target", BLACK, "q", 0) == 5.0
    c.undo_stack.redo()
    assert c.scene.to_dict() == edited
    c.undo_stack.clear()


def test_undo_gives_back_the_focus_and_head_an_edit_clamped(qapp):
    from attnstudio.gui.controller import Controller

    c = Controller()
    c.set_focus(5)
    c.set_sentence("target", "The")
    assert c.scene.focus == 0
    c.set_settings(num_heads=4)
    c.set_head(3)
    c.set_settings(num_heads=1)
    assert c.scene.head == 0
    c.undo_stack.undo()
    assert c.scene.head == 3
    c.undo_stack.undo()
    c.undo_stack.undo()
    assert c.scene.focus == 5 and c.scene.target == "The black cat sleeps on the couch"
    c.undo_stack.clear()


# -- lessons after the learner retyped the sentence ---------------------------------------------------------------

def test_show_me_after_the_learner_retyped_the_sentence_says_why_instead_of_raising(window, no_dialogs):
    """Every step of every shipped lesson: the lesson's words are gone, "Show me" explains (found by the soak)."""
    panel = window.lesson_panel
    c = window.controller
    tried, explained = 0, 0
    for lesson in panel.lessons():
        for step, content in enumerate(lesson.steps):
            solution = content.task.solution if content.task else ()
            if all(type(edit).__name__ == "SettingsEdit" for edit in solution) or tried >= 8:
                continue  # settings name no word: nothing to lose when the sentence changes
            assert panel.start_lesson(lesson, step), (lesson.id, step)
            c.set_sentence("source", "Zorglub")
            c.set_sentence("target", "Zorglub")
            window.show_message("")
            panel.show_me()  # used to raise EditError out of the button's slot
            assert_sane(c.result())
            tried += 1
            explained += window.status_label.text().startswith("Show me cannot work on this sentence")
    panel.leave()
    assert tried >= 5 and explained >= 3 and not no_dialogs
