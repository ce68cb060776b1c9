"""What start-up does to be quick must not change what the learner gets: cached lessons, deferred work."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources

from attnstudio.lessons.library import shipped_lessons
from attnstudio.lessons.parse import parse_lesson_text


def _shipped_texts() -> list[tuple[str, str]]:
    folder = resources.files("attnstudio").joinpath("data", "lessons")
    return [(entry.name, entry.read_text(encoding="utf-8")) for entry in sorted(folder.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".toml")]


def test_shipped_lessons_read_back_from_the_json_cache_are_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    texts = _shipped_texts()
    for name, text in texts:
        plain = parse_lesson_text(text, name, "shipped", name[:-5])[0]
        first = parse_lesson_text(text, name, "shipped", name[:-5], cached=True)[0]  # writes the copy
        second = parse_lesson_text(text, name, "shipped", name[:-5], cached=True)[0]  # reads it back
        assert plain is not None and plain == first == second, name
    copies = sorted((tmp_path / "attnstudio" / "lessons").glob("*.json"))
    assert len(copies) == len(texts)
    copies[0].write_text("{not json", encoding="utf-8")  # a damaged copy is parsed again, never trusted
    copies[1].write_text("[1, 2]", encoding="utf-8")  # nor one that is not a table
    shipped_lessons.cache_clear()
    try:
        again = shipped_lessons()
    finally:
        shipped_lessons.cache_clear()
    assert [lesson.id for lesson in again] == [lesson.id for lesson in shipped_lessons()]
    assert all(a == b for a, b in zip(again, shipped_lessons()))


def test_the_window_module_imports_its_qt_free_half_before_pyside6():
    # PySide6 reads back the source of every module imported after it (see attnstudio.gui.app): NumPy and our
    # Qt-free packages come first.
    probe = ("import sys; import attnstudio.gui.app; order = list(sys.modules); "
             "qt = order.index('PySide6'); "
             "print(all(order.index(m) < qt for m in ('numpy', 'attnstudio.scene')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


WINDOW_PROBE = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from attnstudio.gui.app import make_application
from attnstudio.gui.main_window import MainWindow
app = make_application([])
window = MainWindow()
window.show()
app.processEvents()
print("at start:", "attnstudio.lessons" in sys.modules, window._lesson_holder.built)
window.docks["lessonDock"].raise_()
for _ in range(5):
    app.processEvents()
print("tab shown:", "attnstudio.lessons" in sys.modules, window._lesson_holder.built)
"""


def test_the_lessons_load_when_their_tab_is_first_shown_not_at_start(tmp_path):
    env = {**__import__("os").environ, "XDG_CONFIG_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", WINDOW_PROBE], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-2:] == ["at start: False False", "tab shown: True True"]


def test_a_cached_copy_is_used_only_for_the_very_text_it_was_parsed_from(tmp_path, monkeypatch):
    import json

    from attnstudio.toml_cache import cache_file, load_toml

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    text = 'title = "one"\nvalue = 1.5\n'
    assert load_toml(text, "x.toml", "lessons") == {"title": "one", "value": 1.5}
    copy = cache_file("lessons", "x.toml", text)
    assert copy is not None and json.loads(copy.read_text(encoding="utf-8"))["data"] == {"title": "one", "value": 1.5}
    # A clash of names (another text under the same CRC) or a stale copy: parsed again, never trusted.
    copy.write_text(json.dumps({"text": 'title = "two"\n', "data": {"title": "two"}}), encoding="utf-8")
    assert load_toml(text, "x.toml", "lessons") == {"title": "one", "value": 1.5}
    assert load_toml(text, "x.toml", "lessons") == {"title": "one", "value": 1.5}  # and the copy mended
    assert json.loads(copy.read_text(encoding="utf-8"))["text"] == text


def test_the_lexicon_s_word_keys_are_exactly_normalize_of_each_word():
    # load_lexicon inlines normalize() for ASCII words (a call per word was a third of its time): the keys must
    # stay exactly what normalize() makes of every word, the first concept listed keeping an ambiguous form.
    from attnstudio.engine.lexicon import _package_files, _read_toml, load_lexicon
    from attnstudio.engine.tokens import normalize

    files = _package_files()
    lexicon = load_lexicon(files)
    for name, text in files.items():
        data = _read_toml(name, text)
        if data.get("format") != "attnstudio-lexicon-language":
            continue
        expected: dict[str, str] = {}
        for concept, words in data["words"].items():
            for word in words:
                expected.setdefault(normalize(word), concept)
        assert lexicon.languages[data["language"]]["forms"] == expected, name
