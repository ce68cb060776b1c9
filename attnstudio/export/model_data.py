"""A real model's attention as data: the ``attnstudio-model-weights`` JSON document and a CSV matrix. No Qt."""

from __future__ import annotations

import csv
import io
import json

import numpy as np

from attnstudio.engine.real.summaries import attention_rollout, head_average, keep_tokens

__all__ = ["MODEL_VIEWS", "model_weights", "model_weights_bytes", "model_weights_document"]

MODEL_VIEWS = ("head", "average", "rollout")  # one head, the layer's head average, attention rollout to the layer


def model_weights(run, layer: int, head: int, view: str = "head",
                  hide_special: bool = False) -> tuple[list[str], np.ndarray]:
    """(token labels, (n, n) weights) of one view of a :class:`BertForward`."""
    attentions = run.attentions  # (L, h, n, n)
    L, h = attentions.shape[:2]
    if not 0 <= layer < L:
        raise ValueError(f"layer {layer} does not exist; this model has layers 0..{L - 1}")
    if not 0 <= head < h:
        raise ValueError(f"head {head} does not exist; this model has heads 0..{h - 1}")
    if view == "head":
        weights = np.asarray(attentions[layer, head], dtype=np.float64)
    elif view == "average":
        weights = head_average(attentions, layer)
    elif view == "rollout":
        weights = attention_rollout(attentions, layer)
    else:
        raise ValueError(f"unknown view {view!r}; use one of {', '.join(MODEL_VIEWS)}")
    pieces = list(run.tokens.pieces)
    if hide_special:
        keep = [i for i, s in enumerate(run.tokens.special) if not s]
        return [pieces[i] for i in keep], keep_tokens(weights, keep)
    return pieces, weights


def model_weights_document(model, run, layer: int, head: int, view: str = "head", hide_special: bool = False) -> dict:
    """The JSON document: the model, the sentence, its word pieces and one view's weights."""
    labels, weights = model_weights(run, layer, head, view, hide_special)
    return {
        "format": "attnstudio-model-weights",
        "version": 1,
        "model": model.name,
        "sentence": run.tokens.text,
        "tokens": labels,
        "layer": layer,
        "head": head if view == "head" else None,
        "view": view,
        "special_hidden": hide_special,
        "weights": weights.tolist(),
    }


def model_weights_bytes(model, run, layer: int, head: int, suffix: str, view: str = "head",
                        hide_special: bool = False) -> bytes:
    """The file contents for ``suffix`` (".json" or ".csv"), UTF-8."""
    doc = model_weights_document(model, run, layer, head, view, hide_special)
    suffix = suffix.lower()
    if suffix == ".json":
        return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["query \\ key", *doc["tokens"]])
        for label, row in zip(doc["tokens"], doc["weights"]):
            writer.writerow([label, *(repr(float(x)) for x in row)])
        return buffer.getvalue().encode("utf-8")
    raise ValueError(f"unknown data format {suffix!r}; use .json or .csv")
