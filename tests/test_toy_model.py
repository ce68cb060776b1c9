"""The lexicon and the default projections translate: each English word attends most to its French word."""

from __future__ import annotations

import tomllib
import unicodedata
from importlib import resources

import numpy as np
import pytest

from attnstudio.engine.lexicon import LexiconError, default_lexicon, load_lexicon
from attnstudio.engine.lexicon_build import build_identities, render
from attnstudio.scene import Scene

SEED_ALIGNMENT = {"The": "Le", "black": "noir", "cat": "chat", "sleeps": "dort", "on": "sur", "couch": "canapé"}


def attended(source: str, target: str, **settings) -> list[tuple[str, str]]:
    scene = Scene()
    scene.set_sentence("source", source)
    scene.set_sentence("target", target)
    if settings:
        scene.set_settings(**settings)
    r = scene.result()
    best = r.weights.argmax(axis=1)
    return [(q.token.surface, r.key_words[j].token.surface) for q, j in zip(r.query_words, best)]


def test_seed_pair_alignment_including_the_two_articles():
    pairs = attended("Le chat noir dort sur le canapé", "The black cat sleeps on the couch")
    assert pairs[0] == ("The", "Le")  # the first "The" finds the first "Le" …
    assert pairs[5] == ("the", "le")  # … and the second "the" the second "le": position tells them apart
    for query, key in pairs:
        if query in SEED_ALIGNMENT:
            assert key == SEED_ALIGNMENT[query]


def test_without_positions_both_articles_attend_alike():
    scene = Scene()
    scene.set_settings(positions=False)
    w = scene.result().weights
    np.testing.assert_allclose(w[0], w[5], rtol=1e-12)  # "The" and "the" have identical rows
    assert w[0, 0] == pytest.approx(w[0, 5])  # and split their weight between "Le" and "le"


@pytest.mark.parametrize("source, target, expected", [
    ("Le chien voit le chat", "The dog sees the cat", {"dog": "chien", "cat": "chat", "sees": "voit"}),
    ("Le chien blanc et le chat noir jouent", "The white dog and the black cat play",
     {"white": "blanc", "dog": "chien", "black": "noir", "cat": "chat", "play": "jouent", "and": "et"}),
    ("La fille mange une pomme rouge", "The girl eats a red apple",
     {"girl": "fille", "eats": "mange", "red": "rouge", "apple": "pomme", "a": "une"}),
    ("Le petit garçon lit un livre", "The little boy reads a book",
     {"little": "petit", "boy": "garçon", "reads": "lit", "book": "livre"}),
    ("La voiture bleue est rapide", "The blue car is fast", {"blue": "bleue", "car": "voiture", "fast": "rapide"}),
])
def test_same_kind_words_find_their_own_translation(source, target, expected):
    got = dict(attended(source, target))
    for query, key in expected.items():
        assert got[query] == key, f"{query} attended to {got[query]}, expected {key}"


def test_translation_accuracy_over_random_same_kind_pairs():
    """Sentences of two nouns of the same kind: how often does each find its translation?"""
    lex = default_lexicon()
    rng = np.random.default_rng(7)
    hits = total = 0
    for kind in ("animal", "person", "thing", "quality", "action"):
        ids = sorted(c for c, e in lex.concepts.items() if e["kind"] == kind)
        for _ in range(40):
            a, b = rng.choice(len(ids), size=2, replace=False)
            ca, cb = ids[a], ids[b]
            fr = f"{lex.lemma(ca, 'fr')} {lex.lemma(cb, 'fr')}"
            en = f"{lex.lemma(cb, 'en')} {lex.lemma(ca, 'en')}"  # crossed order
            scene = Scene()
            scene.set_sentence("source", fr)
            scene.set_sentence("target", en)
            r = scene.result()
            want = [len(r.key_words) - 1, 0]  # crude: lemmas are single tokens for most concepts
            if len(r.key_words) != 2 or len(r.query_words) != 2:
                continue
            got = r.weights.argmax(axis=1).tolist()
            hits += got == want
            total += 1
    assert total > 100
    assert hits / total >= 0.97, f"only {hits}/{total} crossed pairs aligned"


def test_lexicon_is_big_and_consistent():
    lex = default_lexicon()
    assert len(lex.concepts) >= 500
    assert {"en", "fr"} <= set(lex.languages)
    for code in ("en", "fr"):
        assert set(lex.languages[code]["lemmas"]) == set(lex.concepts), f"{code} misses concepts"
        for form in lex.languages[code]["forms"]:
            assert unicodedata.is_normalized("NFC", form)
    assert lex.concept_of("canapé", "fr") == "couch"
    assert lex.concept_of("Noires", "fr") == lex.concept_of("black", "en")


def test_unknown_words_get_a_fixed_vector_and_are_flagged():
    lex = default_lexicon()
    a = lex.analyse("Zorglub zorglub !", "fr")
    assert [w.kind for w in a] == ["unknown", "unknown", "punctuation"]
    np.testing.assert_array_equal(a[0].meaning, a[1].meaning)
    assert np.linalg.norm(a[0].meaning) == pytest.approx(1.0)


def test_identities_file_is_up_to_date():
    folder = resources.files("attnstudio").joinpath("data", "lexicon")
    shipped = folder.joinpath("identities.toml").read_text(encoding="utf-8")
    lex = default_lexicon()
    assert shipped == render(build_identities(lex)), "run: python -m attnstudio.engine.lexicon_build"


def test_meaning_vectors_are_unit_and_distinct():
    lex = default_lexicon()
    vectors = np.stack([lex.meaning_of_concept(c) for c in sorted(lex.concepts)])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0)
    cos = vectors @ vectors.T
    np.fill_diagonal(cos, -1)
    assert cos.max() < 0.999


def test_a_new_language_is_only_a_data_file():
    folder = resources.files("attnstudio").joinpath("data", "lexicon")
    files = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.name.endswith(".toml")}
    files["es.toml"] = ('format = "attnstudio-lexicon-language"\nversion = 1\nlanguage = "es"\nname = "Español"\n'
                        '[words]\ncat = ["gato", "gatos"]\nblack = ["negro", "negra"]\n')
    lex = load_lexicon(files)
    assert lex.concept_of("gato", "es") == "cat"
    np.testing.assert_array_equal(lex.meaning_of_concept(lex.concept_of("negra", "es")),
                                  lex.meaning_of_concept(lex.concept_of("noir", "fr")))


@pytest.mark.parametrize("name, text, message", [
    ("concepts.toml", "this is = = not toml", "not valid TOML"),
    ("concepts.toml", 'format = "x"\nversion = 1', "expected format"),
    ("fr.toml", 'format = "attnstudio-lexicon-language"\nversion = 1\nlanguage = "fr"\n[words]\nnope = ["x"]', "not a concept"),
])
def test_broken_lexicon_files_give_named_errors(name, text, message):
    folder = resources.files("attnstudio").joinpath("data", "lexicon")
    files = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.name.endswith(".toml")}
    files[name] = text
    with pytest.raises(LexiconError, match=message) as info:
        load_lexicon(files)
    assert name in str(info.value)


def test_dimension_names_are_readable():
    lex = default_lexicon()
    assert len(lex.dimensions) == 16
    assert {d.role for d in lex.dimensions} == {"kind", "identity", "position"}
    assert all(d.description for d in lex.dimensions)
    tomllib.loads(resources.files("attnstudio").joinpath("data", "lexicon", "dimensions.toml").read_text("utf-8"))


def test_lexicon_files_are_read_back_from_a_json_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = resources.files("attnstudio").joinpath("data", "lexicon")
    files = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.name.endswith(".toml")}
    first = load_lexicon(files)
    cached = sorted((tmp_path / "attnstudio" / "lexicon").glob("*.json"))
    assert sorted(p.name.rsplit("-", 1)[0] for p in cached) == sorted(name.removesuffix(".toml") for name in files)
    cached[0].write_text("{not json", encoding="utf-8")  # a damaged copy is parsed again, never trusted
    second = load_lexicon(files)
    assert second.dimension_names == first.dimension_names and second.languages == first.languages
    assert all(np.array_equal(second.identities[c], first.identities[c]) for c in first.identities)
