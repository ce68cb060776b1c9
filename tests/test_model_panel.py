"""The Model workspace: a tiny random BERT loaded in the background, heads chosen, a query dragged and undone.

The checkpoint is the one tests/test_bert.py writes (3 layers × 4 heads, d_head 4) in a temporary folder.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("safetensors")
pytest.importorskip("tokenizers")

from PySide6.QtCore import QEvent, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from attnstudio.engine.real.summaries import attention_rollout, keep_tokens, query_key_plane  # noqa: E402
from tests.test_bert import SENTENCE, write_tiny_bert  # noqa: E402

LOAD_TIMEOUT = 20_000  # ms


@pytest.fixture
def tiny_folder(tmp_path):
    folder = tmp_path / "tiny-bert"
    write_tiny_bert(folder)
    return folder


@pytest.fixture
def panel(qtbot):
    from attnstudio.gui.model_panel import ModelPanel

    widget = ModelPanel()
    widget.resize(1200, 700)
    qtbot.addWidget(widget, before_close_func=lambda w: w.shutdown())
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def loaded(panel, qtbot, tiny_folder):
    panel.sentence.setText(SENTENCE)
    panel.load(str(tiny_folder))
    assert panel.progress.isVisible()  # the load runs in the background; the window keeps drawing
    qtbot.waitUntil(lambda: panel.base is not None, timeout=LOAD_TIMEOUT)
    assert not panel.progress.isVisible()
    return panel


def _mouse(widget, kind, pos: QPointF, buttons=Qt.MouseButton.LeftButton):
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else buttons
    event = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, held, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def test_loads_in_the_background_and_lists_the_sentence_pieces(loaded):
    model = loaded.model
    assert (model.num_layers, model.num_heads) == (3, 4)
    assert loaded.base.tokens.pieces[0] == "[CLS]" and loaded.base.tokens.pieces[-1] == "[SEP]"
    assert loaded.focus_selector.count() == len(loaded.base.tokens)
    assert loaded.layer_selector.maximum() == 2 and loaded.head_selector.maximum() == 3
    assert loaded.grid.shape() == (3, 4)
    np.testing.assert_array_equal(loaded.attentions(), model.forward(SENTENCE).attentions)
    assert "3 layers × 4 heads" in loaded.status.text()


def test_layer_and_head_selectors_choose_the_head_shown(loaded):
    loaded.layer_selector.setValue(2)
    loaded.head_selector.setValue(1)
    assert (loaded.layer, loaded.head) == (2, 1)
    assert loaded.grid.selected == (2, 1)
    np.testing.assert_array_equal(loaded.lines.figure.weights, loaded.base.layers[2].weights[1].astype(float))
    assert loaded.lines.figure.query_labels == list(loaded.base.tokens.pieces)  # self-attention


def test_clicking_a_grid_cell_selects_that_head(loaded, qtbot):
    centre = loaded.grid.cell_rect(1, 3).center().toPoint()
    qtbot.mouseClick(loaded.grid, Qt.MouseButton.LeftButton, pos=centre)
    assert (loaded.layer, loaded.head) == (1, 3)
    assert (loaded.layer_selector.value(), loaded.head_selector.value()) == (1, 3)
    assert loaded.grid.selected == (1, 3)


def test_head_average_and_rollout_views(loaded):
    attentions = loaded.model.forward(SENTENCE).attentions
    loaded.select_head(1, 0)
    loaded.set_view("average")
    np.testing.assert_allclose(loaded.lines.figure.weights, attentions[1].mean(axis=0), atol=1e-7)
    loaded.set_view("rollout")
    a0 = 0.5 * attentions[0].mean(axis=0) + 0.5 * np.eye(attentions.shape[-1])
    a1 = 0.5 * attentions[1].mean(axis=0) + 0.5 * np.eye(attentions.shape[-1])
    np.testing.assert_allclose(loaded.shown_weights(), a1 @ a0, atol=1e-6)
    np.testing.assert_allclose(loaded.shown_weights().sum(axis=1), 1.0, atol=1e-9)


def test_hide_and_dim_special_tokens(loaded):
    n = len(loaded.base.tokens)
    loaded.hide_special.setChecked(True)
    fig = loaded.lines.figure
    assert "[CLS]" not in fig.key_labels and len(fig.key_labels) == n - 2
    np.testing.assert_allclose(fig.weights.sum(axis=1), 1.0, atol=1e-6)
    loaded.hide_special.setChecked(False)
    loaded.dim_special.setChecked(True)
    mask = loaded.lines.figure.mask
    assert not mask[:, 0].any() and not mask[:, -1].any() and mask[:, 1:-1].all()


def test_qkv_table_shows_the_focused_tokens_vectors(loaded):
    loaded.select_head(0, 2)
    loaded.set_focus(3)
    trace = loaded.base.layers[0]
    assert loaded.qkv_table.columnCount() == loaded.model.d_head
    assert loaded.qkv_table.item(0, 1).text() == f"{trace.q[2, 3, 1]:+.2f}"
    assert loaded.qkv_table.item(2, 0).text() == f"{trace.v[2, 3, 0]:+.2f}"


def test_dragging_the_query_with_the_mouse_is_one_undo_step_and_undo_is_exact(loaded, qtbot):
    loaded.select_head(1, 2)
    loaded.set_focus(2)
    before = loaded.head_weights().copy()
    later = loaded.attentions()[2].copy()
    plane = loaded.plane
    start = plane.focus_position()
    _mouse(plane, QEvent.Type.MouseButtonPress, start)
    for step in range(1, 6):
        _mouse(plane, QEvent.Type.MouseMove, start + QPointF(12 * step, -9 * step))
    _mouse(plane, QEvent.Type.MouseButtonRelease, start + QPointF(60, -45))
    assert loaded.undo_stack.count() == 1
    after = loaded.head_weights()
    assert not np.array_equal(after, before)
    np.testing.assert_allclose(after.sum(axis=1), 1.0, atol=1e-5)
    # the query moved inside the PCA plane only: its projection moved by the drag, the rest stayed
    natural = loaded.model.natural_queries(loaded.base, 1)[2]
    edited = loaded.layers[1].q[2, 2]
    mean, basis = query_key_plane(natural, loaded.base.layers[1].k[2])
    off_plane = (edited - natural[2]) - basis @ (basis.T @ (edited - natural[2]))
    assert np.abs(off_plane).max() < 1e-4 and np.abs(edited - natural[2]).max() > 1e-3
    # other tokens' rows of that head and other heads are untouched; later layers wait for Propagate
    np.testing.assert_array_equal(after[[0, 1, 3]], before[[0, 1, 3]])
    np.testing.assert_array_equal(loaded.attentions()[2], later)
    assert loaded.propagate_button.isEnabled()
    loaded.undo_button.click()
    np.testing.assert_array_equal(loaded.head_weights(), before)
    assert not loaded.propagate_button.isEnabled()
    loaded.redo_button.click()
    np.testing.assert_array_equal(loaded.head_weights(), after)


def test_two_drags_are_two_steps(loaded):
    loaded.drag_query((0.5, 0.0))
    loaded.drag_query((0.0, 0.5))
    assert loaded.undo_stack.count() == 2


def test_propagate_changes_later_layers_and_undo_restores_them(loaded):
    loaded.select_head(0, 1)
    loaded.set_focus(1)
    original = loaded.attentions().copy()
    loaded.drag_query((2.0, -1.5))
    assert not np.array_equal(loaded.attentions()[0, 1], original[0, 1])
    np.testing.assert_array_equal(loaded.attentions()[1:], original[1:])
    loaded.propagate_button.click()
    assert loaded.undo_stack.count() == 2
    assert not np.array_equal(loaded.attentions()[2], original[2])
    edited_q = loaded.layers[0].q[1, 1]
    expected = loaded.model.forward(SENTENCE, [
        __import__("attnstudio.engine.real.bert", fromlist=["QueryEdit"]).QueryEdit(0, 1, edited_q, 1)])
    np.testing.assert_array_equal(loaded.attentions(), expected.attentions)
    loaded.undo_stack.undo()
    loaded.undo_stack.undo()
    np.testing.assert_array_equal(loaded.attentions(), original)


def test_a_new_sentence_forgets_the_edits(loaded):
    loaded.drag_query((1.0, 1.0))
    loaded.set_sentence("a dog ran")
    assert loaded.undo_stack.count() == 0 and not loaded.edits
    assert loaded.base.tokens.pieces == ("[CLS]", "a", "dog", "ran", "[SEP]")


def test_a_bad_folder_shows_a_message_naming_the_problem(panel, qtbot, tmp_path):
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    panel.load(str(empty))
    qtbot.waitUntil(lambda: not panel.is_loading(), timeout=LOAD_TIMEOUT)
    assert "Cannot open this model" in panel.status.text() and "config.json" in panel.status.text()
    assert panel.model is None


def test_a_broken_weights_file_is_a_message_not_a_crash(panel, qtbot, tiny_folder):
    (tiny_folder / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    panel.load(str(tiny_folder))
    qtbot.waitUntil(lambda: not panel.is_loading(), timeout=LOAD_TIMEOUT)
    assert "Cannot open this model" in panel.status.text()


def test_rollout_and_keep_tokens_are_qt_free_maths():
    rng = np.random.default_rng(0)
    raw = rng.random((2, 3, 4, 4))
    attentions = raw / raw.sum(axis=-1, keepdims=True)
    rollout = attention_rollout(attentions)
    np.testing.assert_allclose(rollout.sum(axis=1), 1.0)
    np.testing.assert_allclose(keep_tokens(attentions[0, 0], [1, 2]).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="attentions must be"):
        attention_rollout(attentions[0])


def test_cli_exports_a_real_models_head(tiny_folder, tmp_path):
    out = tmp_path / "x.json"
    code = ("import sys; from attnstudio.cli import main; rc = main(sys.argv[1:]); "
            "assert 'PySide6' not in sys.modules, 'data export imported Qt'; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code, "export", "--model", str(tiny_folder), "--layer", "0",
                           "--head", "1", "--sentence", SENTENCE, "-o", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "attnstudio-model-weights" and (doc["layer"], doc["head"]) == (0, 1)
    from attnstudio.engine.real.bert import load_model

    expected = load_model(tiny_folder).forward(SENTENCE).attentions[0, 1]
    np.testing.assert_allclose(doc["weights"], expected, atol=1e-7)
    assert doc["tokens"][0] == "[CLS]"


def test_cli_model_export_draws_a_png_and_reports_bad_heads(tiny_folder, tmp_path, capsys):
    from attnstudio.cli import main

    png = tmp_path / "x.png"
    assert main(["export", "--model", str(tiny_folder), "--layer", "2", "--head", "3", "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["export", "--model", str(tiny_folder), "--layer", "0", "--head", "9", "-o",
                 str(tmp_path / "y.json")]) == 2
    assert "head 9" in capsys.readouterr().err


def test_main_window_has_the_model_workspace_and_open_model_action(window):
    from PySide6.QtGui import QAction

    assert window._model_panel is None  # noqa: SLF001 — not built at start: most sessions never open a model
    panel = window.model_panel  # built on first use …
    assert window.centre_stack.widget(1).widget() is panel  # … in a scroll area, in the centre
    action = window.findChild(QAction, "actionOpenModel")
    assert action is not None and action in window.file_menu.actions()
    assert window.model_panel.objectName() == "modelPanel"


def test_starting_the_window_loads_no_real_model_code(tmp_path):
    """The workspace, its modules and the BERT engine are imported when model mode is first entered."""
    import os
    import subprocess
    import sys

    probe = ("import sys; from attnstudio.gui.app import make_application; app = make_application([]); "
             "from attnstudio.gui.main_window import MainWindow; w = MainWindow(); w.show(); app.processEvents(); "
             "print(sorted(m for m in sys.modules if m.startswith(('attnstudio.engine.real', "
             "'attnstudio.gui.model_panel', 'attnstudio.gui.model_views')))); w.set_model_mode(True); "
             "print('attnstudio.engine.real.bert' in sys.modules)")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path),
               XDG_STATE_HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    before, after = out.stdout.strip().splitlines()[-2:]
    assert before == "[]" and after == "True"


def test_open_model_enters_model_mode_with_the_workspace_large(window, qtbot):
    assert not window.model_panel.isVisible()  # the toy lab's layout is untouched until a model is wanted
    window.model_panel.picker.addItem("a model found", None)  # so no folder dialog opens
    window.action_open_model.trigger()
    qtbot.waitUntil(window.model_panel.isVisible)
    assert window.model_mode() and window.model_panel.width() >= 900
