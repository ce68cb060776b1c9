"""Start-up: process start → main window painted, against a bare PySide6 + pyqtgraph window started the same way.

Both are ``python -m benchmarks.child {app,floor}`` (see ``child.py``), alternated, each in a fresh process;
the child stamps CLOCK_MONOTONIC when its interpreter is ready, its imports are done, its window is built and
its first paint is over, and the parent stamps just before spawning it. Then ``-X importtime`` shows which
imports cost most, and the data export of the CLI is checked to import neither Qt nor pyqtgraph.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time

from benchmarks.common import REPO, child_env, paired_ratio, ratio, summary

TARGET_RATIO = 1.3
SEED = ["--source", "Le chat noir dort sur le canapé", "--target", "The black cat sleeps on the couch"]


def _spawn_child(mode: str, env: dict[str, str], extra: list[str] | None = None, timeout: float = 120.0) -> dict:
    command = [sys.executable, "-m", "benchmarks.child", mode, *(extra or [])]
    start = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout)
    end = time.monotonic()
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report = json.loads(lines[-1])
    report["spawned"], report["exited"] = start, end
    return report


def _phases(reports: list[dict]) -> dict:
    """Durations (seconds) of each phase: spawn→interpreter, →imports, →window built, →painted; and the total."""
    keys = (("interpreter", "spawned", "interpreter_ready"), ("imports", "interpreter_ready", "imported"),
            ("build_window", "imported", "built"), ("first_paint", "built", "painted"),
            ("total_to_painted", "spawned", "painted"))
    return {name: summary([r[b] - r[a] for r in reports]) for name, a, b in keys}


def _startup(repeats: int, bytecode: bool = True) -> dict:
    # One home for the series: the second start on finds the settings and caches the first one left.
    env = child_env(bytecode=bytecode, home=tempfile.mkdtemp(prefix="attnstudio-bench-home-"))
    _spawn_child("app", env)  # warm the file cache, .pyc files and the app's caches, untimed
    _spawn_child("floor", env)
    app, floor = [], []
    for i in range(repeats):
        for mode in (("app", "floor") if i % 2 == 0 else ("floor", "app")):
            (app if mode == "app" else floor).append(_spawn_child(mode, env))
    app_total = [r["painted"] - r["spawned"] for r in app]
    floor_total = [r["painted"] - r["spawned"] for r in floor]
    out = {"repeats": repeats, "app": _phases(app), "floor": _phases(floor)}
    out["ratio"] = ratio(out["app"]["total_to_painted"], out["floor"]["total_to_painted"])
    out["ratio_p95"] = ratio(out["app"]["total_to_painted"], out["floor"]["total_to_painted"], "p95_ms")
    out["paired_ratio"] = paired_ratio(app_total, floor_total)
    # CPU time to the first paint, main thread only: the same work measured without the waits of a loaded machine
    # (the floor's process CPU also counts OpenBLAS threads spinning up, which delay nothing).
    app_cpu = [r["main_thread_cpu"] for r in app if "main_thread_cpu" in r]
    floor_cpu = [r["main_thread_cpu"] for r in floor if "main_thread_cpu" in r]
    if app_cpu and floor_cpu:
        out["main_thread_cpu"] = {"app": summary(app_cpu), "floor": summary(floor_cpu)}
        out["main_thread_cpu"]["ratio"] = ratio(out["main_thread_cpu"]["app"], out["main_thread_cpu"]["floor"])
        out["main_thread_cpu"]["paired_ratio"] = paired_ratio(app_cpu, floor_cpu)
    out["target_ratio"] = TARGET_RATIO
    out["within_target"] = out["ratio"] is not None and out["ratio"] <= TARGET_RATIO
    return out


_IMPORT_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def parse_importtime(stderr: str) -> list[dict]:
    """``-X importtime`` lines as dicts: module, self and cumulative µs, nesting depth."""
    rows = []
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            own, cumulative, indent, module = match.groups()
            rows.append({"module": module, "self_us": int(own), "cumulative_us": int(cumulative),
                         "depth": (len(indent) - 1) // 2})
    return rows


def _importtime(code: str, top: int = 15) -> dict:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          env=child_env(), cwd=REPO, timeout=120)  # the .pyc cache is warm by now
    rows = parse_importtime(proc.stderr)
    packages: dict[str, int] = {}
    for row in rows:
        root = row["module"].split(".")[0]
        packages[root] = packages.get(root, 0) + row["self_us"]
    total = sum(packages.values())
    return {
        "code": code, "modules": len(rows), "total_self_ms": round(total / 1e3, 1),
        "by_package_ms": {k: round(v / 1e3, 1) for k, v in sorted(packages.items(), key=lambda kv: -kv[1])[:top]},
        "top_self_ms": [{"module": r["module"], "self_ms": round(r["self_us"] / 1e3, 2)}
                        for r in sorted(rows, key=lambda r: -r["self_us"])[:top]],
        "top_cumulative_ms": [{"module": r["module"], "cumulative_ms": round(r["cumulative_us"] / 1e3, 1)}
                              for r in sorted(rows, key=lambda r: -r["cumulative_us"]) if r["depth"] <= 1][:top],
        "imports_qt": any(r["module"].startswith("PySide6") for r in rows),
        "imports_pyqtgraph": any(r["module"].startswith("pyqtgraph") for r in rows),
    }


def _cli_export(repeats: int) -> dict:
    """``attnstudio export … -o weights.json`` against a bare ``python -c pass``: wall time, and what it imports."""
    folder = tempfile.mkdtemp(prefix="attnstudio-bench-export-")
    out = os.path.join(folder, "weights.json")
    export = [sys.executable, "-m", "attnstudio", "export", *SEED, "-o", out]
    bare = [sys.executable, "-c", "pass"]
    times: dict[str, list[float]] = {"export": [], "python_bare": []}
    env = child_env()
    for i in range(repeats + 1):
        for name, command in ((("export", export), ("python_bare", bare)) if i % 2 == 0
                              else (("python_bare", bare), ("export", export))):
            start = time.perf_counter()
            proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
            elapsed = time.perf_counter() - start
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed: {proc.stderr[-2000:]}")
            if i:  # the first round warms the cache
                times[name].append(elapsed)
    stats = {name: summary(t) for name, t in times.items()}
    probe = ("import sys; from attnstudio.cli import main; "
             f"main(['export', *{SEED!r}, '-o', {out!r}])")
    imports = _importtime(probe)
    # The figure export needs Qt (offscreen) but not pyqtgraph; checking a lesson file needs neither.
    png = os.path.join(folder, "figure.png")
    image = _importtime(f"from attnstudio.cli import main; main(['export', *{SEED!r}, '-o', {png!r}])")
    lesson = str(REPO / "attnstudio" / "data" / "lessons" / "01-equal-weighting.toml")
    check = _importtime(f"from attnstudio.cli import main; main(['lesson', 'check', {lesson!r}])")
    return {"repeats": repeats, "stats": stats, "ratio_vs_bare_python": ratio(stats["export"], stats["python_bare"]),
            "imports_qt": imports["imports_qt"], "imports_pyqtgraph": imports["imports_pyqtgraph"],
            "image_export_imports_qt": image["imports_qt"], "image_export_imports_pyqtgraph": image["imports_pyqtgraph"],
            "lesson_check_imports_qt": check["imports_qt"], "lesson_check_imports_pyqtgraph": check["imports_pyqtgraph"],
            "imports": imports}


def run(quick: bool = False) -> dict:
    repeats = 2 if quick else 15
    result = {"startup": _startup(repeats)}
    # As in a development shell with PYTHONDONTWRITEBYTECODE=1: every module of ours compiled at each start.
    result["startup_without_bytecode"] = _startup(2 if quick else 5, bytecode=False)
    result["importtime_app"] = _importtime("import attnstudio.gui.app, attnstudio.gui.main_window")
    result["importtime_floor"] = _importtime("import PySide6.QtWidgets, pyqtgraph")
    result["cli_export"] = _cli_export(2 if quick else 10)
    result["notes"] = ["total_to_painted: parent's monotonic clock before spawning → child's after its first paint pass",
                       "app = make_application + MainWindow() + show, as run_app does; floor = QApplication + "
                       "QMainWindow(PlotWidget) + show; both 1280×800-ish, same platform",
                       "importtime numbers are from one run each (self times; noisy)"]
    return result


def report(result: dict) -> list[str]:
    s = result["startup"]
    lines = [f"start → painted ({s['repeats']} each, alternated):"]
    for who in ("app", "floor"):
        p = s[who]
        lines.append(f"  {who:<6} total {p['total_to_painted']['median_ms']:.0f}/{p['total_to_painted']['p95_ms']:.0f} ms "
                     f"(interpreter {p['interpreter']['median_ms']:.0f}, imports {p['imports']['median_ms']:.0f}, "
                     f"build {p['build_window']['median_ms']:.0f}, first paint {p['first_paint']['median_ms']:.0f})")
    lines.append(f"  ratio app/floor {s['ratio']:.2f} (p95 {s['ratio_p95']:.2f}, paired {s['paired_ratio']:.2f}); "
                 f"target ≤ {s['target_ratio']}: {'ok' if s['within_target'] else 'OVER'}")
    cpu = s.get("main_thread_cpu")
    if cpu:
        lines.append(f"  main-thread CPU to painted: app {cpu['app']['median_ms']:.0f}/{cpu['app']['p95_ms']:.0f} ms, "
                     f"floor {cpu['floor']['median_ms']:.0f}/{cpu['floor']['p95_ms']:.0f} ms; ratio {cpu['ratio']:.2f} "
                     f"(paired {cpu['paired_ratio']:.2f})")
    nb = result.get("startup_without_bytecode")
    if nb:
        lines.append(f"  without .pyc (PYTHONDONTWRITEBYTECODE=1): app {nb['app']['total_to_painted']['median_ms']:.0f} ms, "
                     f"floor {nb['floor']['total_to_painted']['median_ms']:.0f} ms, ratio {nb['ratio']:.2f}")
    for key in ("importtime_app", "importtime_floor"):
        imp = result[key]
        lines.append(f"  {key}: {imp['total_self_ms']} ms self over {imp['modules']} modules; by package: " +
                     ", ".join(f"{k} {v}" for k, v in list(imp["by_package_ms"].items())[:6]))
        lines.append("    top modules: " + ", ".join(f"{r['module']} {r['self_ms']}" for r in imp["top_self_ms"][:8]))
    cli = result["cli_export"]
    lines.append(f"  CLI export .json: {cli['stats']['export']['median_ms']:.0f}/{cli['stats']['export']['p95_ms']:.0f} ms "
                 f"vs bare python {cli['stats']['python_bare']['median_ms']:.0f} ms (×{cli['ratio_vs_bare_python']}); "
                 f"imports Qt: {cli['imports_qt']}, pyqtgraph: {cli['imports_pyqtgraph']}")
    lines.append(f"  CLI export .png imports Qt: {cli['image_export_imports_qt']}, pyqtgraph: "
                 f"{cli['image_export_imports_pyqtgraph']}; lesson check imports Qt: {cli['lesson_check_imports_qt']}, "
                 f"pyqtgraph: {cli['lesson_check_imports_pyqtgraph']}")
    return lines
