"""Regenerate the figures in docs/images with the command line (no window, no display needed).

    python docs/make_figures.py

The seed pair's alignment as a 2× PNG (for the README and slides) and as SVG (every word editable text).
"""

from __future__ import annotations

import sys
from pathlib import Path

from attnstudio.cli import main

IMAGES = Path(__file__).resolve().parent / "images"
SEED = ["--source", "Le chat noir dort sur le canapé", "--target", "The black cat sleeps on the couch"]
FIGURES = {
    "seed-alignment.png": ["--view", "lines", "--scale", "2"],
    "seed-alignment.svg": ["--view", "lines"],
}


def make_figures() -> int:
    IMAGES.mkdir(exist_ok=True)
    for name, options in FIGURES.items():
        status = main(["export", *SEED, *options, "-o", str(IMAGES / name)])
        if status:
            return status
        print(f"wrote {IMAGES / name}")
    return 0


if __name__ == "__main__":
    sys.exit(make_figures())
