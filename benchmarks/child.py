"""The child process of the start-up and memory benchmarks: start a window, wait for its first paint, report.

    python -m benchmarks.child app      # AttnStudio's main window, started as ``run_app`` starts it
    python -m benchmarks.child floor    # a bare PySide6 + pyqtgraph window: QMainWindow with a PlotWidget
    python -m benchmarks.child app --tokens 512 --edits 20   # memory: then 512 words a side and some edits

It prints one JSON line: CLOCK_MONOTONIC stamps (comparable with the parent's ``time.monotonic()``) of
interpreter ready, imports done, window built and first paint done, the CPU seconds spent until that paint (main
thread, whole process), and the peak RSS (VmHWM) in MiB.
"""

from __future__ import annotations

import time

INTERPRETER_READY = time.monotonic()  # before any import of ours: what is left is the interpreter's own start

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402


def _status_mib(field: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return round(int(line.split()[1]) / 1024, 1)  # kB → MiB
    except OSError:
        pass
    return None


def _peak_rss_mib() -> float:
    hwm = _status_mib("VmHWM")
    if hwm is not None:
        return hwm
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: kB


def _build_app_window():
    from attnstudio.gui.app import make_application

    app = make_application(["attnstudio"])
    from attnstudio.gui.errors import install_exception_hook
    from attnstudio.gui.main_window import MainWindow

    stamps = {"imported": time.monotonic()}
    install_exception_hook()
    window = MainWindow()
    return app, window, stamps


def _build_floor_window():
    from PySide6.QtWidgets import QApplication, QMainWindow

    import pyqtgraph as pg

    stamps = {"imported": time.monotonic()}
    app = QApplication(["floor"])
    window = QMainWindow()
    window.setCentralWidget(pg.PlotWidget())
    window.resize(1280, 800)
    return app, window, stamps


def _after_paint(app, window, args, stamps: dict) -> None:
    """Once painted: for the memory run, load the long sentences and edit; then report and quit."""
    stamps["painted"] = time.monotonic()
    # CPU time to the first paint: the main thread's (where Python and Qt do all of this work; on a loaded machine
    # much steadier than the wall clock) and the whole process's (with the BLAS threads' spin-up).
    stamps["main_thread_cpu"], stamps["process_cpu"] = time.thread_time(), time.process_time()
    if args.tokens:
        from benchmarks.common import sentence_pair

        source, target = sentence_pair(args.tokens)
        controller = window.controller
        controller.set_sentence("source", source)
        controller.set_sentence("target", target)
        app.processEvents()
        window.grab()
        side, index = controller.scene.query_side(), controller.scene.focus
        for i in range(args.edits):
            controller.set_component(side, index, "q", 0, 0.5 if i % 2 else -0.5)
            window.grab()  # every panel painted, visible or not
            app.processEvents()
    report = {"mode": args.mode, "tokens": args.tokens, "interpreter_ready": INTERPRETER_READY, **stamps,
              "peak_rss_mib": _peak_rss_mib(), "rss_mib": _status_mib("VmRSS")}
    print(json.dumps(report), flush=True)
    if args.mode == "app":
        window.controller.undo_stack.setClean()
        window.autosaver.discard()
    window.close()
    app.exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["app", "floor"])
    parser.add_argument("--tokens", type=int, default=0, help="app only: then set sentences of this many tokens")
    parser.add_argument("--edits", type=int, default=0, help="app only: then this many q edits, each painted")
    args = parser.parse_args(argv)
    app, window, stamps = (_build_app_window if args.mode == "app" else _build_floor_window)()
    stamps["built"] = time.monotonic()

    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        """The first Paint event of any widget: the whole window paints in that same pass, so finish just after.

        (Watching only the main window misses it when its children cover it: Qt then paints only them.)
        """

        def __init__(self) -> None:
            super().__init__()
            self.seen = False

        def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
            if event.type() == QEvent.Type.Paint and not self.seen:
                self.seen = True
                QTimer.singleShot(0, finish)
            return False

    def finish() -> None:
        _after_paint(app, window, args, stamps)

    watcher = FirstPaint()
    app.installEventFilter(watcher)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
