"""Write ``identities.toml``: a well-spread identity fingerprint for every concept of the lexicon.

Run ``python -m attnstudio.engine.lexicon_build`` after adding concepts. Within each kind the fingerprints
are pushed apart (a few hundred steps of repulsion on the unit sphere, from a seeded start), so that two
words of the same kind — two animals, two colours — point as differently as the dimensions allow. The
result depends only on ``concepts.toml``; a test checks the shipped file is up to date.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from attnstudio.engine.lexicon import FUNCTION_KIND, Lexicon, _package_files, hashed_identity, load_lexicon


def spread_codes(names: list[str], n: int, steps: int = 400) -> np.ndarray:
    """Unit vectors in ``n`` dimensions, one per name, pushed apart; deterministic for the same names."""
    codes = np.stack([hashed_identity("concept:" + name, n) for name in names]) if names else np.zeros((0, n))
    if len(names) < 2:
        return codes
    step = 0.05
    for _ in range(steps):
        cos = codes @ codes.T  # (m, m)
        np.fill_diagonal(cos, -1.0)
        # Push each code away from its neighbours, harder from the closest (a soft maximum of the cosines).
        push = np.exp(8.0 * cos)
        np.fill_diagonal(push, 0.0)
        force = push @ codes / push.sum(axis=1, keepdims=True)
        codes = codes - step * force
        codes /= np.linalg.norm(codes, axis=1, keepdims=True)
    return codes


def build_identities(lexicon: Lexicon) -> dict[str, np.ndarray]:
    result: dict[str, np.ndarray] = {}
    for kind in [*lexicon.kinds, FUNCTION_KIND]:
        names = sorted(cid for cid, c in lexicon.concepts.items() if c["kind"] == kind)
        for name, code in zip(names, spread_codes(names, lexicon.n_identity)):
            result[name] = code
    return result


def render(identities: dict[str, np.ndarray]) -> str:
    lines = [
        "# Written by `python -m attnstudio.engine.lexicon_build` from concepts.toml; do not edit by hand.",
        'format = "attnstudio-lexicon-identities"',
        "version = 1",
        "",
        "[identities]",
    ]
    for cid in sorted(identities):
        numbers = ", ".join(f"{x:.4f}" for x in identities[cid])
        lines.append(f"{cid} = [{numbers}]")
    return "\n".join(lines) + "\n"


def main() -> int:
    files = _package_files()
    files.pop("identities.toml", None)
    text = render(build_identities(load_lexicon(files)))
    target = Path(__file__).resolve().parent.parent / "data" / "lexicon" / "identities.toml"
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
