"""``attnstudio export`` draws figures with no window and no display, batch-friendly: exit 0 and silence on
success, one clear line and a non-zero code on error, files replaced whole or not at all."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from attnstudio.cli import main

SEED = ["--source", "Le chat noir dort sur le canapé", "--target", "The black cat sleeps on the couch"]
NO_DISPLAY = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """The CLI in a fresh process with no display and no Qt platform chosen (as on a build server)."""
    return subprocess.run([sys.executable, "-m", "attnstudio", "export", *args], capture_output=True, text=True,
                          env=NO_DISPLAY, timeout=120)


@pytest.mark.slow
def test_png_svg_pdf_without_a_display(tmp_path):
    png, svg, pdf = tmp_path / "seed é.png", tmp_path / "seed.svg", tmp_path / "seed.pdf"
    for out, extra in ((png, ["--scale", "2", "--view", "both"]), (svg, ["--view", "heatmap"]),
                       (pdf, ["--theme", "dark", "--title", "Le canapé"])):
        proc = run_cli(*SEED, *extra, "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "" and proc.stderr == "", "a batch job's log stays quiet on success"
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert not image.isNull() and image.width() > 1000, "2× of a side-by-side figure"
    root = ET.parse(svg).getroot()
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "canapé" in texts and "couch" in texts and "attention weight" in texts
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) == 1


@pytest.mark.slow
def test_data_formats_still_load_no_qt(tmp_path):
    out = tmp_path / "w.csv"
    code = ("import sys; from attnstudio.cli import main; rc = main(sys.argv[1:]); "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph'))]; "
            "print(bad, file=sys.stderr); sys.exit(rc or (3 if bad else 0))")
    proc = subprocess.run([sys.executable, "-c", code, "export", *SEED, "--view", "both", "-o", str(out)],
                          capture_output=True, text=True, env=NO_DISPLAY)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8").startswith("query \\ key,Le,chat")


@pytest.mark.slow
def test_error_in_a_fresh_process_is_one_line(tmp_path):
    proc = run_cli(*SEED, "-o", str(tmp_path / "nowhere" / "seed.png"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("attnstudio: error: cannot save to")


def test_options_reach_the_drawing(qapp, tmp_path):
    out = tmp_path / "fig.svg"
    assert main(["export", *SEED, "--view", "both", "--title", "Le chat", "--caption", "Figure 3: canapé.",
                 "--no-colorbar", "--focus", "none", "--transparent", "-o", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    assert ">Le chat<" in svg and ">Figure 3: canapé.<" in svg
    assert "attention weight" not in svg, "no colour bar"
    assert "91%" not in svg, "no focused query: no percentages"
    assert 'fill="#ffffff"' not in svg.split("<text", 1)[0], "no background rectangle before the first text"


def test_empty_title_and_dark_theme(qapp, tmp_path):
    from PySide6.QtGui import QImage

    from attnstudio.gui.painting import Theme

    out = tmp_path / "fig.png"
    assert main(["export", *SEED, "--title", "", "--theme", "dark", "-o", str(out)]) == 0
    image = QImage(str(out))
    assert image.pixelColor(2, 2).name() == Theme.dark().background.name()


def test_scene_file_and_heatmap(qapp, tmp_path):
    from attnstudio.scene import Scene

    scene = Scene()
    scene.set_sentence("source", "Le garçon mange une pomme")
    scene.set_settings(mode="self", causal=True)
    path = tmp_path / "s.attn.json"
    path.write_text(scene.to_json(), encoding="utf-8")
    out = tmp_path / "fig.svg"
    assert main(["export", "--scene", str(path), "--view", "heatmap", "-o", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    assert "garçon" in svg and "Self-attention in French" in svg


@pytest.mark.parametrize("args, message", [
    (["-o", "OUT.tiff"], "unknown extension '.tiff'; use one of .json, .csv, .png, .svg, .pdf"),
    (["-o", "OUT"], "unknown extension"),
    (["-o", "MISSING/OUT.png"], "does not exist"),
    (["--scale", "0", "-o", "OUT.png"], "--scale must be between"),
    (["--scale", "5", "-o", "OUT.png"], "--scale must be between"),
    (["--focus", "99", "-o", "OUT.png"], "--focus 99 does not exist"),
    (["--focus", "black", "-o", "OUT.png"], "--focus takes a word position"),
])
def test_errors_are_one_clear_line(qapp, tmp_path, capsys, args, message):
    args = [a.replace("OUT", str(tmp_path / "out")).replace("MISSING", str(tmp_path / "missing")) for a in args]
    assert main(["export", *SEED, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnstudio: error:") and message in err and "\n" not in err
    assert not any(tmp_path.iterdir()), "nothing written"


def test_existing_file_is_replaced_whole(qapp, tmp_path):
    out = tmp_path / "fig.pdf"
    out.write_bytes(b"old")
    assert main(["export", *SEED, "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir()] == ["fig.pdf"], "no temporary file left behind"


def test_failed_write_keeps_the_old_file(qapp, tmp_path, monkeypatch, capsys):
    out = tmp_path / "fig.png"
    out.write_bytes(b"old")
    monkeypatch.setattr("attnstudio.fileio.os.replace",
                        lambda *a: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    assert main(["export", *SEED, "-o", str(out)]) == 2
    assert "Permission denied" in capsys.readouterr().err
    assert out.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["fig.png"]


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root can write anywhere")
def test_read_only_folder(qapp, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert main(["export", *SEED, "-o", str(folder / "fig.png")]) == 2
    finally:
        folder.chmod(0o700)
