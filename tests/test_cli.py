"""The data CLI: JSON/CSV export, errors, and running with no display and no Qt."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from attnstudio.cli import main

SEED = ["--source", "Le chat noir dort sur le canapé", "--target", "The black cat sleeps on the couch"]


def test_json_export(tmp_path):
    out = tmp_path / "w.json"
    assert main(["export", *SEED, "-o", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "attnstudio-weights" and doc["version"] == 1
    assert doc["queries"][1] == "black" and doc["keys"][-1] == "canapé"
    assert len(doc["weights"]) == 7 and all(abs(sum(r) - 1) < 1e-12 for r in doc["weights"])
    black = doc["weights"][1]
    assert doc["keys"][black.index(max(black))] == "noir"
    assert doc["settings"]["mode"] == "translation"


def test_csv_export_self_attention(tmp_path):
    out = tmp_path / "w.csv"
    assert main(["export", "--source", "Le chat noir dort", "--causal", "-o", str(out)]) == 0
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0][1:] == ["Le", "chat", "noir", "dort"]
    assert [r[0] for r in rows[1:]] == ["Le", "chat", "noir", "dort"]
    assert float(rows[1][2]) == 0.0  # causal: "Le" cannot see "chat"


def test_scene_file_and_options(tmp_path):
    from attnstudio.scene import Scene

    scene = Scene()
    scene.set_settings(num_heads=2)
    path = tmp_path / "s.attn.json"
    path.write_text(scene.to_json(), encoding="utf-8")
    out = tmp_path / "w.json"
    assert main(["export", "--scene", str(path), "--head", "1", "--temperature", "0.5", "--variant", "dot",
                 "-o", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["settings"]["num_heads"] == 2 and doc["settings"]["head"] == 1
    assert doc["settings"]["temperature"] == 0.5


@pytest.mark.parametrize("args, message", [
    (["--source", "", "-o", "OUT.json"], "empty"),
    (["--source", "chat", "-o", "OUT.txt"], "unknown extension"),
    (["--source", "chat", "-o", "OUT"], "unknown extension"),
    (["--source", "chat", "--temperature", "0", "-o", "OUT.json"], "temperature"),
    (["--source", "chat", "--heads", "3", "-o", "OUT.json"], "do not divide"),
    (["--source", "chat", "-o", "MISSING/OUT.json"], "does not exist"),
    (["-o", "OUT.json"], "--source"),
    (["--scene", "NOPE.attn.json", "-o", "OUT.json"], "cannot read"),
])
def test_errors_are_one_clear_line(tmp_path, capsys, args, message):
    args = [a.replace("OUT", str(tmp_path / "out")).replace("MISSING", str(tmp_path / "missing"))
            .replace("NOPE", str(tmp_path / "nope")) for a in args]
    assert main(["export", *args]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnstudio: error:") and message in err and "\n" not in err


def test_existing_file_is_replaced_atomically(tmp_path):
    out = tmp_path / "w.json"
    out.write_text("old", encoding="utf-8")
    assert main(["export", *SEED, "-o", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["format"] == "attnstudio-weights"
    assert [p.name for p in tmp_path.iterdir()] == ["w.json"]  # no temporary file left behind


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root can write anywhere")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert main(["export", *SEED, "-o", str(folder / "w.json")]) != 0
    finally:
        folder.chmod(0o700)


def test_cli_runs_without_display_and_without_qt(tmp_path):
    out = tmp_path / "w é.json"  # a path with a space and an accent
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    code = ("import sys; from attnstudio.cli import main; rc = main(sys.argv[1:]); "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]; "
            "print(bad, file=sys.stderr); sys.exit(rc or (3 if bad else 0))")
    proc = subprocess.run([sys.executable, "-c", code, "export", *SEED, "-o", str(out)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["queries"][0] == "The"


def test_version():
    proc = subprocess.run([sys.executable, "-m", "attnstudio", "--version"], capture_output=True, text=True)
    from attnstudio import __version__

    assert proc.returncode == 0 and proc.stdout.strip() == f"AttnStudio {__version__}"


def test_new_files_get_ordinary_permissions(tmp_path):
    out = tmp_path / "w.json"
    assert main(["export", *SEED, "-o", str(out)]) == 0
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
