"""Memory: peak RSS of the app with the seed scene and with 512 words a side, each in a fresh process.

The child (``benchmarks.child``) reports its own VmHWM (peak resident set, /proc/self/status) once its window has
painted; with ``--tokens 512 --edits N`` it then loads the long sentences and paints N edits first. Beside it: a
bare PySide6 + pyqtgraph window (the floor) and the CLI's data export (no Qt at all). The parent's
``RUSAGE_CHILDREN`` is not used: a child forked from a parent that holds large arrays (the engine section)
reports the parent's pages as its own peak until it execs.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile

from benchmarks.common import REPO, child_env, sentence_pair

CLI_PROBE = (
    "import sys, json; from attnstudio.cli import main; rc = main(sys.argv[1:]); "
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]; "
    "print(json.dumps({'peak_rss_mib': round(int(hwm) / 1024, 1)}))"
)


def _child(args: list[str], env: dict[str, str]) -> float:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{args} failed ({proc.returncode}): {proc.stderr[-1500:]}")
    return float(json.loads(lines[-1])["peak_rss_mib"])


def run(quick: bool = False) -> dict:
    repeats = 1 if quick else 3
    tokens, edits = (32, 2) if quick else (512, 10)
    env = child_env(home=tempfile.mkdtemp(prefix="attnstudio-bench-home-"))
    out_file = tempfile.mktemp(prefix="attnstudio-bench-", suffix=".json")
    source, target = sentence_pair(7)
    cases = {
        "app_seed": ["-m", "benchmarks.child", "app"],
        f"app_{tokens}_tokens": ["-m", "benchmarks.child", "app", "--tokens", str(tokens), "--edits", str(edits)],
        "floor_pyqtgraph_window": ["-m", "benchmarks.child", "floor"],
        "cli_export_json": ["-c", CLI_PROBE, "export", "--source", source, "--target", target, "-o", out_file],
    }
    _child(cases["app_seed"], env)  # warm the caches (bytecode, lexicon) as a returning user's would be
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, args in cases.items():
            samples[name].append(_child(args, env))
    peaks = {name: {"median_mib": statistics.median(v), "max_mib": max(v), "samples_mib": v}
             for name, v in samples.items()}
    floor = peaks["floor_pyqtgraph_window"]["median_mib"]
    for name, entry in peaks.items():
        entry["ratio_vs_floor"] = round(entry["median_mib"] / floor, 3)
    return {"repeats": repeats, "tokens": tokens, "edits": edits, "peaks": peaks,
            "notes": ["peak RSS = VmHWM of the child after its window painted (and, for the long scene, after "
                      "the sentences were set and every edit painted)",
                      "the window is 1280×800 offscreen; the floor is a QMainWindow with one PlotWidget"]}


def report(result: dict) -> list[str]:
    lines = [f"{'process':<26}{'peak RSS MiB (median)':>22}{'max':>8}{'× floor':>9}"]
    for name, entry in result["peaks"].items():
        lines.append(f"{name:<26}{entry['median_mib']:>22.1f}{entry['max_mib']:>8.1f}{entry['ratio_vs_floor']:>9.2f}")
    return lines
