"""Fuzzing the scene and lesson readers: whatever the bytes, the only failure is a clean, named error.

A scene file may fail with ``SceneError`` and a lesson with ``LessonError`` (or a list of problems from
``check_lesson_text``) — never ``TypeError``, ``RecursionError``, ``UnicodeError``, ``OverflowError``… A file that
is accepted must give finite results and survive a save and a reload unchanged.

Two kinds of input: a seeded mutator (byte flips, truncation, type swaps, huge numbers, deep nesting, odd
text) applied to valid files, so that most inputs get deep into the reader; and hypothesis, for inputs no
mutator thought of. ``FUZZ_SCALE=10 pytest tests/test_fuzz.py`` runs ten times as many.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import warnings
from importlib import resources

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attnstudio.lessons import LessonError, check_lesson_file, check_lesson_text, load_lesson_text
from attnstudio.scene import Scene, SceneError, load_scene_file

SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1")))
SCENE_MUTANTS = 3000 * SCALE  # structure-aware mutants of valid scene documents
SCENE_BYTE_MUTANTS = 2000 * SCALE  # byte-level mutants of valid scene files
LESSON_MUTANTS = 1000 * SCALE  # text-level mutants of the shipped lessons
HYPOTHESIS_EXAMPLES = 200 * SCALE

DEEP = 10_000  # nesting depth: well past Python's recursion limit


# -- valid seeds ---------------------------------------------------------------------------------------------

def seed_scenes() -> list[dict]:
    """A few valid documents that reach every branch of the reader: overrides, heads, self mode, odd text."""
    seeds = []
    scene = Scene()
    scene.set_override("target", 1, "q", 3, 2.5)
    scene.set_override("source", 2, "k", 0, -1.0)
    scene.set_override("source", 6, "v", 15, 1000.0)
    seeds.append(scene.to_dict())
    scene.set_settings(num_heads=4, causal=True, variant="dot", temperature=0.25)
    scene.set_head(3)
    seeds.append(scene.to_dict())
    other = Scene()
    other.set_settings(mode="self", positions=False)
    other.set_sentence("source", "L'élève 🐈 lit « 猫 » — aujourd'hui !")
    other.set_override("source", 0, "q", 0, -3.0)
    other.set_focus(3)
    seeds.append(other.to_dict())
    empty = Scene()
    empty.set_sentence("target", "")
    seeds.append(empty.to_dict())
    return seeds


def shipped_lesson_texts() -> list[tuple[str, str]]:
    folder = resources.files("attnstudio").joinpath("data", "lessons")
    return [(e.name, e.read_text(encoding="utf-8")) for e in sorted(folder.iterdir(), key=lambda e: e.name)
            if e.name.endswith(".toml")]


# -- the mutator -----------------------------------------------------------------------------------------------

ODD_VALUES = [
    None, True, False, 0, -1, 1, 2, 7, 16, 2**31, 2**63, -(2**63), 10**400, 1e308, -1e308, 5e-324, -0.0,
    float("nan"), float("inf"), float("-inf"), "", " ", "x", "translation", "self", "source", "target", "q", "k", "v",
    "fr", "en", "attnstudio-scene", "\ud800", "\x00", "\u202e", "chat " * 600, "é" * 10_000, [], {}, [1, "a"],
    {"side": "target"}, [[[[[]]]]], {"a": {"b": {"c": None}}},
]


def odd(rng: random.Random):
    """One of ODD_VALUES, copied: a shared list or dict mutated later must not end up inside itself."""
    return copy.deepcopy(rng.choice(ODD_VALUES))


def deep(depth: int = DEEP):
    """A list nested ``depth`` deep, built without recursion."""
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _containers(value, path=()):
    """Every (path, container) inside ``value``, iteratively (a mutant may already be deeply nested)."""
    stack, seen = [(path, value)], []
    while stack and len(seen) < 2000:
        p, v = stack.pop()
        if isinstance(v, (dict, list)):
            seen.append((p, v))
            items = v.items() if isinstance(v, dict) else enumerate(v)
            if len(p) < 8:  # never walk down a 10,000-deep list: mutate near the top of the document
                stack.extend((p + (k,), child) for k, child in items if isinstance(child, (dict, list)))
    return seen


AN_OVERRIDE = {"side": "target", "index": 0, "stage": "q", "dim": 0, "token": "the", "value": 1.0}


def other_types(value) -> list:
    """The same value dressed as other JSON types: "2" for 2, 2.0 for 2, [x] for x, 1 for true…"""
    if isinstance(value, bool):
        return [int(value), str(value).lower(), None]
    if isinstance(value, int):
        return [str(value), float(value) if abs(value) < 1e300 else 1e300, [value], value == 1]
    if isinstance(value, float):
        return [str(value), int(value) if np.isfinite(value) else 0, None]
    if isinstance(value, str):
        return [0, [value], None, {"text": value}]
    return [{}, "", 0] if isinstance(value, list) else [[], "", 0]


def mutate_document(rng: random.Random, doc):
    """One structural change somewhere in ``doc`` (in place when possible); returns the new document."""
    places = _containers(doc)
    if not places:
        return odd(rng) if rng.random() < 0.9 else deep()
    _, container = rng.choice(places)
    keys = list(container) if isinstance(container, dict) else list(range(len(container)))
    roll = rng.random()
    if keys and roll < 0.15:
        del container[rng.choice(keys)]
    elif roll < 0.25 and isinstance(container, dict):
        container[rng.choice(["colour", "settings", "overrides", "token", "focus", "version", "mode", "x" * 50])] = \
            odd(rng)
    elif roll < 0.30 and isinstance(container, list):
        container.append(odd(rng) if rng.random() < 0.8 else dict(AN_OVERRIDE))
    elif keys and roll < 0.35:
        container[rng.choice(keys)] = deep(rng.choice([50, 990, 1500, DEEP]))
    elif keys and roll < 0.45:
        key = rng.choice(keys)
        container[key] = rng.choice(other_types(container[key]))
    elif keys:
        container[rng.choice(keys)] = odd(rng)
    return doc


def dumps(doc, ensure_ascii: bool = True) -> str:
    """json.dumps, except that deeply nested lists (which json.dumps cannot write) are spliced in as text."""
    text = json.dumps(_mark_deep(doc), ensure_ascii=ensure_ascii)
    return re.sub(r'"__deep_(\d+)__"', lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), text)


def _mark_deep(value):
    depth, inner = 0, value
    while isinstance(inner, list) and len(inner) == 1 and depth <= 100:
        inner, depth = inner[0], depth + 1
    if depth > 100:
        while isinstance(inner, list) and inner:
            inner, depth = inner[0], depth + 1
        return f"__deep_{depth + 1}__"
    if isinstance(value, dict):
        return {k: _mark_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_deep(v) for v in value]
    return value


def to_text(rng: random.Random, doc) -> str:
    text = dumps(doc, ensure_ascii=rng.random() < 0.5)
    roll = rng.random()
    if roll < 0.05:  # numbers json.dumps would never write: too many digits, too big, malformed
        text = text.replace("1", "9" * rng.choice([400, 4301, 5000]), 1)
    elif roll < 0.08:
        text = text.replace("0", "1e99999", 1)
    return text


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """Byte-level damage: flips, truncation, insertions, duplicated or removed spans, a BOM, a NUL."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        roll = rng.random()
        at = rng.randrange(len(data) + 1)
        if roll < 0.35 and data:
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif roll < 0.5:
            del data[at:]
        elif roll < 0.65:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif roll < 0.75 and data:
            j = min(len(data), at + rng.randint(1, 200))
            data[at:at] = data[at:j]
        elif roll < 0.85 and data:
            del data[at:at + rng.randint(1, 50)]
        elif roll < 0.9:
            data[0:0] = b"\xef\xbb\xbf"
        elif roll < 0.95:
            data[at:at] = b"[" * DEEP
        else:
            data[at:at] = rng.choice([b"\x00", b"\xff\xfe", b"\xed\xa0\x80", b"NaN", b"-Infinity", b"1e999"])
    return bytes(data)


# -- scene readers ---------------------------------------------------------------------------------------------

def assert_loads_cleanly(text: str, what: str) -> bool:
    """Load ``text`` as a scene: either a SceneError, or a scene that computes finite numbers and round-trips."""
    scene = Scene()
    try:
        scene.load_json(text)
    except SceneError as exc:
        assert str(exc), what
        return False
    except Exception as exc:  # noqa: BLE001 (the point: no other exception type may escape)
        pytest.fail(f"{what}: {type(exc).__name__}: {str(exc)[:200]}\ninput: {text[:300]!r}")
    result = scene.result()
    for name in ("q", "k", "v", "output", "head_weights"):
        assert np.isfinite(getattr(result, name)).all(), (what, name)
    again = Scene()
    again.load_json(scene.to_json())  # what was accepted can be saved (UTF-8) and read back unchanged
    assert again.to_dict() == scene.to_dict(), what
    return True


def test_mutated_scene_documents_fail_only_with_scene_errors():
    rng = random.Random(20240611)
    seeds = seed_scenes()
    accepted = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for n in range(SCENE_MUTANTS):
            doc = json.loads(json.dumps(rng.choice(seeds)))
            for _ in range(rng.randint(1, 3)):
                doc = mutate_document(rng, doc)
            accepted += assert_loads_cleanly(to_text(rng, doc), f"scene mutant {n}")
    assert 0.02 * SCENE_MUTANTS < accepted < 0.9 * SCENE_MUTANTS  # the mutants reach both outcomes


def test_damaged_scene_files_fail_only_with_scene_errors(tmp_path):
    rng = random.Random(7)
    seeds = [json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8") for doc in seed_scenes()]
    path = tmp_path / "fuzz.attn.json"
    for n in range(SCENE_BYTE_MUTANTS):
        data = mutate_bytes(rng, rng.choice(seeds))
        if n % 10 == 0:  # through the file reader (decoding, size limit) every tenth time; it is slower
            path.write_bytes(data)
            try:
                load_scene_file(str(path))
            except SceneError:
                pass
            except Exception as exc:  # noqa: BLE001
                pytest.fail(f"byte mutant {n}: {type(exc).__name__}: {exc}\ninput: {data[:300]!r}")
        else:
            assert_loads_cleanly(data.decode("utf-8", errors="surrogateescape"), f"byte mutant {n}")


@pytest.mark.parametrize("where", ["top", "source", "settings", "overrides", "override", "value", "focus"])
def test_deep_nesting_anywhere_is_a_clean_scene_error(where):
    doc = seed_scenes()[0]
    nested = deep()
    if where == "top":
        doc = nested
    elif where == "settings":
        doc["settings"]["temperature"] = nested
    elif where == "override":
        doc["overrides"].append(nested)
    elif where == "value":
        doc["overrides"][0]["value"] = nested
    else:
        doc[where] = nested
    with pytest.raises(SceneError, match="broken"):
        Scene().load_json(dumps(doc))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
scene_keys = st.sampled_from(["format", "version", "source", "target", "settings", "focus", "head", "overrides"])
setting_keys = st.sampled_from(["mode", "variant", "temperature", "num_heads", "causal", "positions",
                                "source_language", "target_language", "other"])
override_keys = st.sampled_from(["side", "index", "stage", "dim", "token", "value"])


@settings(max_examples=HYPOTHESIS_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_hypothesis_scene_documents(data):
    doc = json.loads(json.dumps(data.draw(st.sampled_from(seed_scenes()))))
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(["top", "settings", "override"]))
        if where == "top":
            doc[data.draw(scene_keys)] = data.draw(json_values)
        elif where == "settings" and isinstance(doc.get("settings"), dict):
            doc["settings"][data.draw(setting_keys)] = data.draw(json_values)
        elif isinstance(doc.get("overrides"), list) and doc["overrides"] and isinstance(doc["overrides"][0], dict):
            doc["overrides"][0][data.draw(override_keys)] = data.draw(json_values)
    assert_loads_cleanly(json.dumps(doc), "hypothesis document")


@settings(max_examples=HYPOTHESIS_EXAMPLES, deadline=None)
@given(st.binary(max_size=600) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_hypothesis_random_bytes_as_a_scene(data):
    assert_loads_cleanly(data.decode("utf-8", errors="surrogateescape"), "random bytes")


# -- lesson readers ----------------------------------------------------------------------------------------------

LESSON_ODD_VALUES = ['1', '-3', '0', '1.5e308', '1e999', 'nan', '-inf', '"x"', 'true', '[]', '{}', '[1, "a"]',
                     '{ a = 1 }', '"le#0"', '"#3"', '"black#99"', '"\\ud800"', '"\\u0000"', '"""unclosed', "'''",
                     "9" * 4301, "0x7fffffffffffffff1", "1979-05-27T07:32:00Z", "[" * DEEP + "]" * DEEP,
                     "{ a = " * 2000 + "1" + " }" * 2000, '"' + "chat " * 600 + '"', '{ kind = "argmax" }',
                     '[{ settings = { heads = 3 } }]', '[{ override = { token = "black", stage = "q", dim = 99, '
                     'value = 1 } }]', '[{ head = 0 }]', '{ show = ["nope"] }']


def mutate_lesson(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        roll = rng.random()
        if roll < 0.45 and "=" in lines[i]:
            lines[i] = lines[i].split("=", 1)[0] + "= " + rng.choice(LESSON_ODD_VALUES)
        elif roll < 0.55:
            del lines[i]
        elif roll < 0.65:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        elif roll < 0.75:
            lines.insert(i, lines[rng.randrange(len(lines))])  # a duplicated key or table
        elif roll < 0.85:
            lines.insert(i, rng.choice(["[[steps]]", "[steps.task]", "[steps.scene]", "[scene]", "[[steps.task]]",
                                        'x = 1', 'steps = 3', '"a.b" = 1']))
        else:
            data = mutate_bytes(rng, "\n".join(lines).encode("utf-8"))
            return data.decode("utf-8", errors="replace")
    return "\n".join(lines)


def assert_lesson_reader_is_clean(text: str, what: str) -> None:
    try:
        lesson, problems = check_lesson_text(text, "fuzz.toml")
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"{what}: check_lesson_text raised {type(exc).__name__}: {str(exc)[:200]}\ninput: {text[:400]!r}")
    assert (lesson is None) == any(p.severity == "error" for p in problems), what
    assert all(p.file == "fuzz.toml" and p.message for p in problems), what
    try:
        load_lesson_text(text, "fuzz.toml")
    except LessonError as exc:
        assert str(exc).startswith("fuzz.toml"), what
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"{what}: load_lesson_text raised {type(exc).__name__}: {str(exc)[:200]}\ninput: {text[:400]!r}")


def test_mutated_shipped_lessons_fail_only_with_lesson_problems():
    rng = random.Random(1789)
    lessons = shipped_lesson_texts()
    assert len(lessons) >= 8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for n in range(LESSON_MUTANTS):
            name, text = rng.choice(lessons)
            assert_lesson_reader_is_clean(mutate_lesson(rng, text), f"lesson mutant {n} of {name}")


def test_damaged_lesson_files_are_problems_not_exceptions(tmp_path):
    rng = random.Random(42)
    lessons = shipped_lesson_texts()
    path = tmp_path / "fuzz.toml"
    for n in range(LESSON_MUTANTS // 10):
        path.write_bytes(mutate_bytes(rng, rng.choice(lessons)[1].encode("utf-8")))
        try:
            lesson, problems = check_lesson_file(path)
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"lesson file mutant {n}: {type(exc).__name__}: {exc}")
        assert lesson is not None or problems


@settings(max_examples=HYPOTHESIS_EXAMPLES, deadline=None)
@given(st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.decode("utf-8", errors="replace")))
def test_hypothesis_random_text_as_a_lesson(text):
    assert_lesson_reader_is_clean(text, "random text")


@settings(max_examples=HYPOTHESIS_EXAMPLES, deadline=None)
@given(st.data())
def test_hypothesis_values_in_a_shipped_lesson(data):
    name, text = data.draw(st.sampled_from(shipped_lesson_texts()))
    lines = text.split("\n")
    assignments = [i for i, line in enumerate(lines) if "=" in line and not line.lstrip().startswith("#")]
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.sampled_from(assignments))
        value = data.draw(st.one_of(st.sampled_from(LESSON_ODD_VALUES), st.integers().map(str),
                                    st.floats(allow_nan=False, allow_infinity=False).map(repr),
                                    st.text(max_size=30).map(json.dumps)))
        lines[i] = lines[i].split("=", 1)[0] + "= " + value
    assert_lesson_reader_is_clean("\n".join(lines), f"hypothesis values in {name}")
