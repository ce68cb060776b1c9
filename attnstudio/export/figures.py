"""The figure of a scene — queries, keys, the shown head's weights, captions — built with no widget.

The window's canvases build the same figure from their controller (``gui.alignment.alignment_figure``);
``tests/test_export.py`` checks that the two agree.
"""

from __future__ import annotations

from attnstudio.gui.painting import AlignmentFigure
from attnstudio.scene import Scene, SceneResult

__all__ = ["LANGUAGE_NAMES", "figure_title", "language_name", "scene_figure"]

LANGUAGE_NAMES = {"fr": "French", "en": "English", "de": "German", "es": "Spanish", "it": "Italian"}


def language_name(scene: Scene, code: str) -> str:
    """"French" for "fr": our names first, then the lexicon's, else the code itself."""
    names = scene.model.lexicon.languages
    return LANGUAGE_NAMES.get(code) or str(names.get(code, {}).get("name", code))


def figure_title(scene: Scene, result: SceneResult | None = None) -> str:
    """The heading of a scene's figure: "English → French: where each English word looks" (and the head)."""
    result = result or scene.result()
    settings = scene.settings
    source = language_name(scene, settings.source_language)
    if settings.mode == "translation":
        target = language_name(scene, settings.target_language)
        heading = f"{target} → {source}: where each {target} word looks"
    else:
        heading = f"Self-attention in {source}"
    if result.num_heads > 1:
        heading += f" (head {result.head + 1} of {result.num_heads})"
    return heading


def scene_figure(scene: Scene, result: SceneResult | None = None, title: bool | str = True) -> AlignmentFigure:
    """The figure of ``scene``: ``title`` True for the usual heading, False for none, or a text of its own."""
    result = result or scene.result()
    settings = scene.settings
    source = language_name(scene, settings.source_language)
    if settings.mode == "translation":
        target = language_name(scene, settings.target_language)
        query_caption, key_caption = f"{target} · queries (the translation)", f"{source} · keys (the source)"
    else:
        query_caption, key_caption = f"{source} · queries", f"{source} · keys (the same sentence)"
    queries = [w.token.surface for w in result.query_words]
    heading = figure_title(scene, result) if title is True else (title or "")
    return AlignmentFigure(
        query_labels=queries,
        key_labels=[w.token.surface for w in result.key_words],
        weights=result.weights,  # (n_q, n_k)
        focus=min(scene.focus, len(queries) - 1) if queries else None,
        title=heading,
        query_caption=query_caption,
        key_caption=key_caption,
        mask=result.mask,
    )
