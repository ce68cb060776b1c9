"""The wheel carries the package data (lexicon, examples), so a plain `pip install .` finds it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_contains_the_data(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                           str(tmp_path), str(ROOT)], capture_output=True, text=True)
    if proc.returncode != 0:  # an environment without setuptools for --no-build-isolation
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                              capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(tmp_path.glob("attnstudio-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in ("dimensions.toml", "concepts.toml", "identities.toml", "en.toml", "fr.toml"):
        assert f"attnstudio/data/lexicon/{data}" in names
    assert "attnstudio/data/examples.toml" in names
    # And it works from the wheel alone: unpack it somewhere else and look a word up.
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = ("from attnstudio.engine.lexicon import default_lexicon; import attnstudio; "
            "assert attnstudio.__file__.startswith(%r); print(default_lexicon().concept_of('canapé', 'fr'))" % str(target))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "couch"
