"""The controller: every edit an undoable command; bursts merge; refused input changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from attnstudio.gui.controller import Controller


@pytest.fixture
def controller(qapp):
    return Controller()


def test_component_edit_and_undo_restore_exactly(controller):
    before = controller.result().weights.copy()
    assert controller.set_component("target", 1, "q", 1, "5")
    assert not np.array_equal(controller.result().weights, before)
    assert controller.undo_stack.count() == 1
    assert controller.undo_stack.undoText() == "Edit q[animal] of 'black'"
    controller.undo_stack.undo()
    np.testing.assert_array_equal(controller.result().weights, before)
    controller.undo_stack.redo()
    assert controller.scene.override("target", 1, "q", 1) == 5.0


def test_drag_merges_into_one_step_and_end_merge_splits(controller):
    for value in (1.0, 1.5, 2.0, 2.5):
        controller.set_component("target", 1, "q", 3, value, merge=True)
    assert controller.undo_stack.count() == 1
    controller.end_merge()
    controller.set_component("target", 1, "q", 3, 3.0, merge=True)
    assert controller.undo_stack.count() == 2
    controller.undo_stack.undo()
    assert controller.scene.override("target", 1, "q", 3) == 2.5
    controller.undo_stack.undo()
    assert controller.scene.override("target", 1, "q", 3) is None


def test_typing_merges_and_undo_restores_sentence_and_edits(controller):
    controller.set_component("target", 2, "q", 1, 9.0)
    controller.end_merge()
    for text in ("The black dog", "The black do", "The black d"):
        controller.set_sentence("target", text)
    assert controller.undo_stack.count() == 2
    assert controller.scene.override("target", 2, "q", 1) is None
    controller.undo_stack.undo()
    assert controller.scene.target == "The black cat sleeps on the couch"
    assert controller.scene.override("target", 2, "q", 1) == 9.0


@pytest.mark.parametrize("text", ["nan", "inf", "1e308", "abc", ""])
def test_bad_cell_input_is_refused_with_a_message(controller, qtbot, text):
    before = controller.scene.to_dict()
    with qtbot.waitSignal(controller.message) as blocker:
        assert not controller.set_component("target", 1, "q", 0, text)
    assert blocker.args[0]
    assert controller.scene.to_dict() == before and controller.undo_stack.count() == 0


def test_settings_commands(controller, qtbot):
    assert controller.set_settings(variant="uniform")
    np.testing.assert_allclose(controller.result().weights, 1 / 7)
    assert not controller.set_settings(num_heads=3)
    assert controller.undo_stack.count() == 1
    for t in (0.5, 0.4, 0.3):
        controller.set_settings(merge=True, temperature=t)
    assert controller.undo_stack.count() == 2
    controller.undo_stack.undo()
    assert controller.scene.settings.temperature == 1.0
    controller.undo_stack.undo()
    assert controller.scene.settings.variant == "scaled"


def test_focus_is_navigation_not_an_edit(controller, qtbot):
    with qtbot.waitSignal(controller.focus_changed) as blocker:
        controller.set_focus(3)
    assert blocker.args == [3] and controller.undo_stack.count() == 0


def test_reset_overrides_is_one_undo_step(controller):
    controller.set_component("target", 1, "q", 0, 1.0)
    controller.set_component("source", 2, "k", 4, 2.0)
    before = controller.scene.overrides
    controller.reset_overrides()
    assert controller.scene.overrides == {}
    controller.undo_stack.undo()
    assert controller.scene.overrides == before


def test_save_and_open_round_trip(controller, tmp_path):
    controller.set_component("target", 1, "q", 0, 1.25)
    path = tmp_path / "scène.attn.json"
    assert controller.save_scene(str(path))
    assert controller.undo_stack.isClean()
    other = Controller()
    assert other.open_scene(str(path))
    assert other.scene.to_dict() == controller.scene.to_dict()
    np.testing.assert_array_equal(other.result().weights, controller.result().weights)


def test_failed_save_leaves_old_file_and_says_why(controller, tmp_path, qtbot):
    path = tmp_path / "s.attn.json"
    path.write_text("precious", encoding="utf-8")
    with qtbot.waitSignal(controller.message) as blocker:
        assert not controller.save_scene(str(tmp_path / "missing" / "s.attn.json"))
    assert "does not exist" in blocker.args[0]
    assert path.read_text(encoding="utf-8") == "precious"


def test_derived_values_are_made_once_per_state_of_the_scene(controller):
    calls = []

    def make():
        calls.append(1)
        return object()

    first = controller.derived("thing", make)
    assert controller.derived("thing", make) is first and len(calls) == 1  # asked again: the same object
    side, index = controller.scene.query_side(), controller.scene.focus
    assert controller.set_component(side, index, "q", 0, 1.25)
    second = controller.derived("thing", make)
    assert second is not first and len(calls) == 2  # an edit: made anew
    controller.scene.set_focus((index + 1) % len(controller.result().query_words))
    assert controller.derived("thing", make) is not second  # another focus: made anew
    controller.undo_stack.undo()
    assert controller.derived("thing", make) is not second
