"""The scene: edits, notifications, overrides, and the versioned JSON document."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attnstudio.scene import SCENE_VERSION, Scene, SceneError, load_scene_file, parse_component


def test_seed_scene():
    scene = Scene()
    r = scene.result()
    assert [w.token.surface for w in r.query_words][:3] == ["The", "black", "cat"]
    assert r.weights.shape == (7, 7)
    assert scene.focus == 1  # "black"
    np.testing.assert_allclose(r.weights.sum(axis=1), 1.0)


def test_changes_are_announced_and_result_recomputed():
    scene = Scene()
    seen = []
    scene.changed.connect(seen.append)
    before = scene.result()
    scene.set_sentence("target", "The black cat")
    assert seen[-1] >= {"sentences"}
    assert scene.result() is not before and scene.result().weights.shape == (3, 7)
    scene.set_focus(2)
    assert seen[-1] == {"focus"}


def test_override_changes_weights_and_reset_restores_exactly():
    scene = Scene()
    before = scene.result().weights.copy()
    chat = scene.result().key_words[1].meaning
    for dim in range(12):  # point the query of "black" at "chat"
        scene.set_override("target", 1, "q", dim, 16 * chat[dim])
    r = scene.result()
    assert r.key_words[r.weights[1].argmax()].token.surface == "chat"
    scene.clear_overrides()
    np.testing.assert_array_equal(scene.result().weights, before)


def test_retyping_keeps_edits_of_unchanged_tokens():
    scene = Scene()
    scene.set_override("target", 1, "q", 0, 3.0)
    scene.set_override("target", 2, "q", 0, 4.0)
    scene.set_sentence("target", "The black dog sleeps on the couch")
    assert scene.override("target", 1, "q", 0) == 3.0
    assert scene.override("target", 2, "q", 0) is None  # "cat" became "dog": its edit is dropped


def test_modes_variants_heads_mask():
    scene = Scene()
    scene.set_settings(mode="self")
    assert scene.result().weights.shape == (7, 7)
    scene.set_settings(causal=True)
    w = scene.result().weights
    assert np.allclose(np.triu(w, 1), 0)
    scene.set_settings(variant="uniform", causal=False)
    np.testing.assert_allclose(scene.result().weights, 1 / 7)
    scene.set_settings(variant="dot", num_heads=4)
    assert scene.result().head_weights.shape == (4, 7, 7)
    scene.set_head(3)
    assert scene.result().head == 3
    np.testing.assert_array_equal(scene.result().weights, scene.result().head_weights[3])


@pytest.mark.parametrize("changes, message", [
    ({"num_heads": 3}, "3 heads do not divide the model width 16"),
    ({"temperature": 0}, "temperature"),
    ({"temperature": -1.0}, "temperature"),
    ({"temperature": float("nan")}, "temperature"),
    ({"temperature": 1e9}, "temperature"),
    ({"mode": "sideways"}, "mode"),
    ({"colour": "red"}, "unknown setting"),
])
def test_bad_settings_are_refused_and_change_nothing(changes, message):
    scene = Scene()
    before = scene.to_dict()
    with pytest.raises(SceneError, match=message):
        scene.set_settings(**changes)
    assert scene.to_dict() == before


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e308", "--1", "", "abc", "1001"])
def test_bad_components_are_refused(text):
    with pytest.raises(SceneError):
        parse_component(text)


@pytest.mark.parametrize("text, value", [("1,5", 1.5), (" -2 ", -2.0), ("1e-320", 0.0), ("\u22123", -3.0)])
def test_component_parsing(text, value):
    assert parse_component(text) == value


def test_empty_sentence_gives_empty_result_not_nan():
    scene = Scene()
    scene.set_sentence("source", "")
    r = scene.result()
    assert r.weights.shape == (7, 0) and np.isfinite(r.output).all()
    scene.set_sentence("target", "")
    assert scene.result().weights.shape == (0, 0)


def test_512_tokens_per_side_work_and_513_are_refused():
    scene = Scene()
    scene.set_sentence("source", " ".join(["chat"] * 512))
    scene.set_sentence("target", " ".join(["cat"] * 512))
    assert scene.result().weights.shape == (512, 512)
    with pytest.raises(SceneError, match="512"):
        scene.set_sentence("source", "chat " * 513)
    assert len(scene.result().key_words) == 512


def test_json_round_trip_is_exact():
    scene = Scene()
    scene.set_sentence("target", "The black cat sleeps on the couch!")
    scene.set_settings(temperature=0.37, num_heads=2, causal=True)
    scene.set_override("target", 1, "q", 3, 0.1 + 0.2)
    scene.set_override("source", 2, "k", 15, -7.25)
    scene.set_focus(4)
    text = scene.to_json()
    other = Scene()
    other.load_json(text)
    assert other.to_dict() == scene.to_dict()
    assert other.to_json() == text
    np.testing.assert_array_equal(other.result().weights, scene.result().weights)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(version=SCENE_VERSION + 1), "newer AttnStudio"),
    (lambda d: d.update(format="something"), "not a scene file"),
    (lambda d: d["settings"].update(num_heads=5), "heads"),
    (lambda d: d["overrides"].append({"side": "target", "index": 99, "stage": "q", "dim": 0, "token": "x", "value": 1}), "index"),
    (lambda d: d["overrides"].append({"side": "target", "index": 0, "stage": "q", "dim": 16, "token": "x", "value": 1}), "dim"),
    (lambda d: d["overrides"].append({"side": "target", "index": 0, "stage": "q", "dim": 1, "token": "x", "value": "big"}), "not a number"),
    (lambda d: d["overrides"].append({"side": "target"}), "incomplete"),
    (lambda d: d.update(source=5), "text"),
    (lambda d: d.update(settings=[]), "settings"),
])
def test_corrupt_documents_are_refused_and_change_nothing(mutate, message):
    scene = Scene()
    doc = scene.to_dict()
    mutate(doc)
    target = Scene()
    target.set_sentence("target", "The cat")
    before = target.to_dict()
    with pytest.raises(SceneError, match=message):
        target.load_dict(doc)
    assert target.to_dict() == before


@pytest.mark.parametrize("content", ["", "{", "[1, 2]", "null", "\x00\x01binary", '{"format": "attnstudio-scene"}'])
def test_broken_files_give_clear_errors(tmp_path, content):
    path = tmp_path / "broken.attn.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SceneError) as info:
        load_scene_file(str(path))
    assert "broken.attn.json" in str(info.value)


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(SceneError, match="cannot read"):
        load_scene_file(str(tmp_path))
    with pytest.raises(SceneError, match="cannot read"):
        load_scene_file(str(tmp_path / "missing.attn.json"))


edits = st.one_of(
    st.tuples(st.just("override"), st.sampled_from(["source", "target"]), st.integers(0, 6),
              st.sampled_from(["q", "k", "v"]), st.integers(0, 15), st.floats(-50, 50, allow_nan=False)),
    st.tuples(st.just("settings"), st.sampled_from([{"temperature": 0.5}, {"variant": "dot"}, {"num_heads": 4},
                                                    {"causal": True}, {"positions": False}, {"mode": "self"}])),
    st.tuples(st.just("sentence"), st.sampled_from(["source", "target"]),
              st.sampled_from(["Le chien voit le chat", "The dog", "", "Un café, s'il vous plaît"])),
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(edits, max_size=8))
def test_any_reachable_scene_round_trips(ops):
    scene = Scene()
    for op in ops:
        try:
            if op[0] == "override":
                scene.set_override(*op[1:])
            elif op[0] == "settings":
                scene.set_settings(**op[1])
            else:
                scene.set_sentence(op[1], op[2])
        except SceneError:
            pass
    other = Scene()
    other.load_json(scene.to_json())
    assert other.to_dict() == scene.to_dict()
    a, b = scene.result(), other.result()
    np.testing.assert_array_equal(a.head_weights, b.head_weights)
    assert np.isfinite(a.output).all()


def test_engine_and_scene_import_no_qt():
    code = ("import sys, attnstudio.engine, attnstudio.scene, attnstudio.cli; "
            "attnstudio.scene.Scene().result(); "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'shiboken6'))]; "
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
