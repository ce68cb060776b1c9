"""Edit → repaint latency: one query component changes through the controller until the panels have painted.

Each repetition: ``controller.set_component(query side, focus, "q", dim, value)`` (the undoable edit, the scene
recompute and every panel's slot), then the window's pending UpdateRequest is delivered at once, which paints
every widget the edit made dirty exactly once, as the next frame on screen would. An event filter checks that
the alignment canvas, the heatmap, the vector inspector and the computation trace each got their Paint event;
one that did not is forced with ``repaint()`` (counted in the JSON; it should stay 0). (Calling ``repaint()`` on
each panel instead would paint the first panel's whole dirty window, then paint the others a second time.)
The trace is moved out of the inspector's tab to beside it, so that all four are visible.

Where the time goes is measured three ways: the engine recompute alone (``Scene._compute``), each panel
painted alone into a pixmap (``grab()``), and a cProfile of a run of edits (top functions).
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import tempfile
import time

import numpy as np

from benchmarks.common import repeats_for, sentence_pair, summary

SIZES = (7, 32, 128, 512)
QUICK_SIZES = (7, 32)
TARGETS_P95_MS = {7: 8.0, 128: 16.0}


def _app():
    from attnstudio.gui.app import make_application

    return make_application(["attnstudio-bench"])


def build_window(n_tokens: int):
    """The real main window at 1280×800, shown and exposed, with ``n_tokens`` words on each side."""
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest

    from attnstudio.gui.main_window import MainWindow

    app = _app()
    folder = tempfile.mkdtemp(prefix="attnstudio-bench-settings-")
    window = MainWindow(settings=QSettings(os.path.join(folder, "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1280, 800)
    window.show()
    QTest.qWaitForWindowExposed(window)
    _settle(app)  # the window sizes its docks once shown: split only after that
    # Out of the inspector's tabs, beside it: all four panels visible (a tabbed-away panel is never painted).
    # Both taken out and put back as neighbours: the trace moved out of the tabs alone left their tab bar
    # behind, drawn across its bottom text (and splitting a dock still tabbed only adds a tab).
    trace_dock, inspector_dock = window.docks["traceDock"], window.docks["inspectorDock"]
    window.removeDockWidget(trace_dock)
    window.removeDockWidget(inspector_dock)
    _settle(app)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, inspector_dock)
    window.splitDockWidget(inspector_dock, trace_dock, Qt.Orientation.Horizontal)
    inspector_dock.show()
    trace_dock.show()
    window.resizeDocks([window.docks["inspectorDock"], window.docks["traceDock"]], [640, 640], Qt.Orientation.Horizontal)
    source, target = sentence_pair(n_tokens)
    window.controller.set_sentence("source", source)
    window.controller.set_sentence("target", target)
    _settle(app)
    return app, window


def close_window(app, window) -> None:
    window.controller.undo_stack.setClean()
    window.setWindowModified(False)
    window.autosaver.discard()
    window.close()
    window.deleteLater()
    _settle(app)


def _settle(app, rounds: int = 5) -> None:
    for _ in range(rounds):
        app.processEvents()


def panels(window) -> dict:
    """The four panels the edit must repaint (the heatmap's painted canvas, not its scroll area)."""
    return {"canvas": window.canvas, "heatmap": window.heatmap.canvas,
            "inspector": window.inspector, "trace": window.trace}


def painted_parts(window) -> dict:
    """The widget of each panel whose Paint event shows the edit (a table's viewport, not its frame)."""
    return {"canvas": window.canvas, "heatmap": window.heatmap.canvas,
            "inspector": window.inspector.table.viewport(), "trace": window.trace.table.viewport()}


def flush_paint() -> None:
    """Deliver the pending UpdateRequest now: Qt paints every dirty widget of the window once, as on screen."""
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.UpdateRequest.value)


def paint_counter(window):
    """An event filter counting Paint events of each panel's painted part (``counts``, reset by hand)."""
    from PySide6.QtCore import QEvent, QObject

    class PaintCounter(QObject):
        def __init__(self, parts: dict) -> None:
            super().__init__()
            self.names = {widget: name for name, widget in parts.items()}
            self.counts = dict.fromkeys(parts, 0)
            for widget in parts.values():
                widget.installEventFilter(self)

        def reset(self) -> None:
            self.counts = dict.fromkeys(self.counts, 0)

        def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
            if event.type() == QEvent.Type.Paint and watched in self.names:
                self.counts[self.names[watched]] += 1
            return False

    return PaintCounter(painted_parts(window))


class Editor:
    """Alternates one q component of the focused query between two values: every call is a real change."""

    def __init__(self, window) -> None:
        self.controller = window.controller
        scene = self.controller.scene
        self.side, self.index = scene.query_side(), scene.focus
        result = self.controller.result()
        # The meaning dimension the keys carry most of: the weights really move, so every number of the focused
        # query's row changes, as when a learner drags a component (one the keys lack would change none).
        self.dim = int(np.argmax(np.abs(result.k[:, :6]).sum(0)))
        base = float(result.q[self.index, self.dim])
        self.values = (round(base + 0.75, 6), round(base - 0.75, 6))
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
        ok = self.controller.set_component(self.side, self.index, "q", self.dim, self.values[self.count % 2])
        assert ok, "the benchmark edit was refused"


def edit_and_paint(app, window, edit, counter=None) -> tuple[float, float, float, list[str]]:
    """One edit until the four panels have painted: (edited, painted, settled) clock stamps, panels forced.

    The flush paints what the edit made dirty; a panel it did not paint is forced with ``repaint()``. Then the
    event loop runs until idle: the query–key space (pyqtgraph) paints on the next turn, after the four.
    """
    if counter is not None:
        counter.reset()
    edit()
    edited = time.perf_counter()
    flush_paint()
    forced = []
    if counter is not None:
        for name, count in counter.counts.items():
            if count == 0:
                forced.append(name)
                panels(window)[name].repaint()
    painted = time.perf_counter()
    _settle(app, 2)
    return edited, painted, time.perf_counter(), forced


def _latency(app, window, reps: int) -> dict:
    """End-to-end edit → four panels painted, its two phases, and the whole window settled."""
    edit, counter = Editor(window), paint_counter(window)
    total, edit_phase, paint_phase, settled, forced = [], [], [], [], {}
    for i in range(reps + 3):
        start = time.perf_counter()
        edited, painted, idle, missing = edit_and_paint(app, window, edit, counter)
        if i >= 3:  # warm-up
            total.append(painted - start)
            edit_phase.append(edited - start)
            paint_phase.append(painted - edited)
            settled.append(idle - start)
            for name in missing:
                forced[name] = forced.get(name, 0) + 1
    counter.deleteLater()
    return {"total": summary(total), "edit_and_slots": summary(edit_phase), "paint": summary(paint_phase),
            "whole_window_idle": summary(settled), "panels_forced_with_repaint": forced}


def _engine_alone(window, reps: int) -> dict:
    """The scene's recompute through the engine, with the result cache dropped each time."""
    scene = window.controller.scene
    times = []
    for _ in range(reps):
        scene._result = None  # noqa: SLF001 (exactly what an edit does before the first view asks)
        start = time.perf_counter()
        scene.result()
        times.append(time.perf_counter() - start)
    return summary(times)


def _paint_by_panel(app, window, reps: int) -> dict:
    """Each panel painted on its own into a pixmap (``grab()``) right after an edit; the qk space too."""
    edit = Editor(window)
    widgets = dict(panels(window))
    widgets["query_key_space"] = window.query_key_space
    widgets["spotlight"] = window.spotlight
    times: dict[str, list[float]] = {name: [] for name in widgets}
    for i in range(reps + 2):
        edit()
        for name, widget in widgets.items():
            start = time.perf_counter()
            widget.grab()
            if i >= 2:
                times[name].append(time.perf_counter() - start)
        _settle(app, 2)
    return {name: summary(t) for name, t in times.items()}


def _profile(app, window, reps: int, top: int = 25) -> dict:
    """cProfile of ``reps`` edits with forced repaints: the top functions by cumulative and by own time."""
    edit = Editor(window)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(reps):
        edit_and_paint(app, window, edit)
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, name), (_cc, calls, own, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = filename.split("/site-packages/")[-1].split("/work/main/")[-1]
        rows.append({"function": f"{short}:{line}({name})" if line else name, "calls_per_edit": round(calls / reps, 2),
                     "own_ms_per_edit": round(own * 1e3 / reps, 4), "cumulative_ms_per_edit": round(cumulative * 1e3 / reps, 4)})
    by_cumulative = sorted(rows, key=lambda r: -r["cumulative_ms_per_edit"])[:top]
    by_own = sorted(rows, key=lambda r: -r["own_ms_per_edit"])[:top]
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
    return {"edits": reps, "top_cumulative": by_cumulative, "top_own": by_own, "text": text.getvalue()}


def run(quick: bool = False, sizes: tuple[int, ...] | None = None, profile: bool = False) -> dict:
    sizes = sizes or (QUICK_SIZES if quick else SIZES)
    cases = []
    for n in sizes:
        app, window = build_window(n)
        probe = Editor(window)
        start = time.perf_counter()
        for _ in range(3):
            edit_and_paint(app, window, probe)
        estimate = (time.perf_counter() - start) / 3
        reps = 3 if quick else repeats_for(estimate, 12.0, 40, 400)
        case = {"tokens_per_side": n, "repeats": reps, "latency": _latency(app, window, reps)}
        case["engine_recompute"] = _engine_alone(window, 3 if quick else max(reps, 50))
        case["paint_by_panel"] = _paint_by_panel(app, window, 3 if quick else max(20, reps // 3))
        if profile or not quick:
            case["profile"] = _profile(app, window, 3 if quick else max(20, reps // 4))
        target = TARGETS_P95_MS.get(n)
        if target is not None:
            case["target_p95_ms"] = target
            case["within_target"] = case["latency"]["total"]["p95_ms"] <= target
        cases.append(case)
        close_window(app, window)
    return {"cases": cases, "targets_p95_ms": TARGETS_P95_MS,
            "notes": ["total = set_component (edit, undo command, scene recompute, every slot) + one paint pass of "
                      "everything the edit dirtied, with canvas, heatmap, inspector and trace verified painted",
                      "whole_window_idle = total + the event loop run until idle (the query–key space, pyqtgraph, "
                      "paints on that next turn)",
                      "window 1280×800, trace dock moved beside the inspector so all four panels are visible",
                      "paint_by_panel: each panel alone rendered with grab() after an edit",
                      f"Qt platform: {os.environ.get('QT_QPA_PLATFORM', '(default)')}"]}


def report(result: dict) -> list[str]:
    lines = [f"{'tokens':>7}{'reps':>6}{'total med/p95 ms':>20}{'edit+slots':>12}{'paint':>9}{'engine':>9}"
             f"{'idle med/p95':>16}   per panel alone (grab, median ms)        target"]
    for c in result["cases"]:
        lat, per = c["latency"], c["paint_by_panel"]
        panel_text = " ".join(f"{name}={s['median_ms']:.2f}" for name, s in per.items())
        target = (f"p95<{c['target_p95_ms']:g}: {'ok' if c['within_target'] else 'OVER'}"
                  if "target_p95_ms" in c else "")
        lines.append(f"{c['tokens_per_side']:>7}{c['repeats']:>6}{lat['total']['median_ms']:>11.2f}/"
                     f"{lat['total']['p95_ms']:<8.2f}{lat['edit_and_slots']['median_ms']:>12.2f}"
                     f"{lat['paint']['median_ms']:>9.2f}{c['engine_recompute']['median_ms']:>9.3f}"
                     f"{lat['whole_window_idle']['median_ms']:>9.2f}/{lat['whole_window_idle']['p95_ms']:<6.2f}   "
                     f"{panel_text}  {target}")
    for c in result["cases"]:
        if "profile" in c:
            lines.append(f"  top cumulative per edit at {c['tokens_per_side']} tokens: " + "; ".join(
                f"{r['function']} {r['cumulative_ms_per_edit']:.2f}ms" for r in c["profile"]["top_cumulative"][:8]))
    return lines
