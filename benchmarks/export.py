"""Export: PNG at 1× and 4×, SVG and PDF of the seed pair and of 128 words a side, through the exporters.

Each file is rendered to bytes (``Exporter.export(to_bytes=True)``: layout, paint, encode) many times. Beside it,
measured interleaved in the same run: for PNG the paint alone (``to_image``) and the encoding of a blank image of
the same size (what PNG compression costs by itself); for every format the 1× raster paint of the same figure
(what the drawing costs without a file format). The CLI's image export is timed against its data export.
Skipped, with a note, when the export package is not there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from benchmarks.common import REPO, child_env, interleaved, ratio, repeats_for, sentence_pair, summary

SIZES = (7, 128)
QUICK_SIZES = (7,)
FORMATS = (("png_1x", ".png", 1.0), ("png_4x", ".png", 4.0), ("svg", ".svg", 1.0), ("pdf", ".pdf", 1.0))


def _available() -> str | None:
    """None when the exporters can be imported, else why not."""
    try:
        from attnstudio.export import figures, render  # noqa: F401
    except ImportError as exc:
        return f"attnstudio.export.render is not available ({exc}); export section skipped"
    return None


def _scene(n_tokens: int):
    from attnstudio.scene import Scene

    scene = Scene()
    source, target = sentence_pair(n_tokens)
    scene.set_sentence("source", source)
    scene.set_sentence("target", target)
    return scene


def _case(n_tokens: int, quick: bool) -> dict:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage

    from attnstudio.export import figures, render

    fig = figures.scene_figure(_scene(n_tokens))
    base = render.PngExporter(fig, render.ExportOptions(scale=1.0))

    def paint_1x() -> None:
        base.to_image()

    out: dict = {"tokens_per_side": n_tokens, "formats": {}}
    for name, suffix, scale in FORMATS:
        exporter = render.exporter_for("x" + suffix)(fig, render.ExportOptions(scale=scale))

        def export(exporter=exporter) -> bytes:
            return exporter.export(to_bytes=True)

        start = time.perf_counter()
        size = len(export())
        estimate = time.perf_counter() - start
        cases = {"export": export, "paint_1x": paint_1x}
        if suffix == ".png":
            cases["paint_only"] = exporter.to_image
            pixels = exporter.pixel_size()
            blank = QImage(pixels, QImage.Format.Format_RGB32)
            blank.fill(0xFFFFFFFF)

            def encode_blank(blank=blank) -> None:
                data = QByteArray()
                buffer = QBuffer(data)
                buffer.open(QIODevice.OpenModeFlag.WriteOnly)
                blank.save(buffer, "PNG", render.PNG_QUALITY)

            cases["encode_blank"] = encode_blank
        reps = 3 if quick else repeats_for(estimate * 2.5, 8.0, 10, 200)
        times = interleaved(cases, reps, warmup=1)
        stats = {key: summary(value) for key, value in times.items()}
        entry = {"repeats": reps, "bytes": size, "stats": stats,
                 "ratio_vs_paint_1x": ratio(stats["export"], stats["paint_1x"])}
        if suffix == ".png":
            entry["pixels"] = [exporter.pixel_size().width(), exporter.pixel_size().height()]
            entry["encode_share"] = round(1 - stats["paint_only"]["median_ms"] / stats["export"]["median_ms"], 3)
        out["formats"][name] = entry
    return out


def _cli(quick: bool) -> dict:
    """``attnstudio export … -o fig.png`` (Qt offscreen, in a fresh process) against ``… -o weights.json``."""
    folder = tempfile.mkdtemp(prefix="attnstudio-bench-cli-")
    source, target = sentence_pair(7)
    base = [sys.executable, "-m", "attnstudio", "export", "--source", source, "--target", target, "-o"]
    commands = {"png": base + [os.path.join(folder, "fig.png")], "json": base + [os.path.join(folder, "w.json")]}
    env = child_env()
    times: dict[str, list[float]] = {name: [] for name in commands}
    repeats = 2 if quick else 8
    for i in range(repeats + 1):
        for name in (("png", "json") if i % 2 == 0 else ("json", "png")):
            start = time.perf_counter()
            proc = subprocess.run(commands[name], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
            elapsed = time.perf_counter() - start
            if proc.returncode != 0:
                return {"error": f"{' '.join(commands[name])} failed: {proc.stderr[-1500:]}"}
            if i:
                times[name].append(elapsed)
    stats = {name: summary(t) for name, t in times.items()}
    return {"repeats": repeats, "stats": stats, "ratio_png_vs_json": ratio(stats["png"], stats["json"])}


def run(quick: bool = False) -> dict:
    missing = _available()
    if missing:
        return {"skipped": missing, "cases": []}
    from attnstudio.export.render import ensure_gui_application

    ensure_gui_application()
    cases = [_case(n, quick) for n in (QUICK_SIZES if quick else SIZES)]
    return {"cases": cases, "cli": _cli(quick),
            "notes": ["export = Exporter.export(to_bytes=True): layout, paint and encoding, no disk",
                      "paint_1x = PngExporter(scale 1).to_image() of the same figure: the drawing alone",
                      "encode_blank = PNG encoding of a blank image of the same size at the exporter's zlib effort",
                      "light theme, opaque, view 'lines' (the default)"]}


def report(result: dict) -> list[str]:
    if result.get("skipped"):
        return [f"skipped: {result['skipped']}"]
    lines = [f"{'tokens':>7} {'format':<8}{'reps':>6}{'export med/p95 ms':>20}{'paint 1x':>10}{'×paint':>8}"
             f"{'bytes':>11}   png: paint only / encode blank"]
    for case in result["cases"]:
        for name, entry in case["formats"].items():
            s = entry["stats"]
            extra = (f"   {s['paint_only']['median_ms']:.1f} / {s['encode_blank']['median_ms']:.1f} ms"
                     if "paint_only" in s else "")
            lines.append(f"{case['tokens_per_side']:>7} {name:<8}{entry['repeats']:>6}"
                         f"{s['export']['median_ms']:>11.1f}/{s['export']['p95_ms']:<8.1f}"
                         f"{s['paint_1x']['median_ms']:>10.1f}{entry['ratio_vs_paint_1x']:>8.2f}{entry['bytes']:>11,}{extra}")
    cli = result.get("cli", {})
    if "stats" in cli:
        lines.append(f"  CLI seed pair: -o fig.png {cli['stats']['png']['median_ms']:.0f}/{cli['stats']['png']['p95_ms']:.0f} ms"
                     f" vs -o w.json {cli['stats']['json']['median_ms']:.0f} ms (×{cli['ratio_png_vs_json']})")
    elif cli:
        lines.append(f"  CLI: {cli.get('error')}")
    return lines
