"""The weights of a scene as data: the ``attnstudio-weights`` JSON document and a CSV matrix. No Qt."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict

__all__ = ["DATA_FORMATS", "weights_bytes", "weights_csv", "weights_document"]

DATA_FORMATS = (".json", ".csv")


def weights_document(scene) -> dict:
    """The ``attnstudio-weights`` JSON document of a scene's current weights."""
    result = scene.result()
    return {
        "format": "attnstudio-weights",
        "version": 1,
        "queries": [w.token.surface for w in result.query_words],
        "keys": [w.token.surface for w in result.key_words],
        "weights": result.weights.tolist(),
        "settings": {**asdict(scene.settings), "head": result.head, "source": scene.source,
                     "target": scene.target if scene.settings.mode == "translation" else None},
    }


def weights_csv(scene) -> str:
    """The weight matrix as CSV: a header of keys, then one row per query (exact ``repr`` floats)."""
    doc = weights_document(scene)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["query \\ key", *doc["keys"]])
    for query, row in zip(doc["queries"], doc["weights"]):
        writer.writerow([query, *(repr(float(x)) for x in row)])
    return buffer.getvalue()


def weights_bytes(scene, suffix: str) -> bytes:
    """The file contents for ``suffix`` (".json" or ".csv"), UTF-8."""
    suffix = suffix.lower()
    if suffix == ".json":
        return (json.dumps(weights_document(scene), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if suffix == ".csv":
        return weights_csv(scene).encode("utf-8")
    raise ValueError(f"unknown data format {suffix!r}; use one of {', '.join(DATA_FORMATS)}")
