"""Soak: the monkey of tests/test_monkey.py on the real window for a long time, counting what breaks.

    .venv/bin/python benchmarks/soak.py --actions 100000 --seed 7
    .venv/bin/python benchmarks/soak.py --minutes 10 --seed 7 --log /tmp/soak.log

Qt runs offscreen with settings, autosaves and lesson progress in a temporary folder. After a failure (an
exception in a slot, NaN in a result, an undo that does not restore, a dialog that popped up) the failure is
printed with the last actions, the scene is reset, and the run goes on. Exit code 1 if anything failed.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _isolate() -> str:
    """Offscreen Qt and private XDG folders, set before Qt is imported."""
    home = tempfile.mkdtemp(prefix="attnstudio-soak-")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        os.environ[var] = os.path.join(home, var.lower())
        os.makedirs(os.environ[var], exist_ok=True)
    return home


def _rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _load_monkey():
    """The Monkey class from tests/test_monkey.py (one implementation for the test and the soak)."""
    spec = importlib.util.spec_from_file_location("attnstudio_monkey", REPO / "tests" / "test_monkey.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmarks/soak.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=100_000, help="how many actions (default 100000)")
    parser.add_argument("--minutes", type=float, help="stop after this long, whatever --actions says")
    parser.add_argument("--seed", type=int, default=1, help="random seed (the same seed replays the same run)")
    parser.add_argument("--checkpoint", type=int, default=200, help="undo-all / redo-all check every N actions")
    parser.add_argument("--flush-every", type=int, default=8, help="let Qt paint every N actions")
    parser.add_argument("--report-every", type=int, default=2000, help="print progress every N actions")
    parser.add_argument("--short-texts", action="store_true", help="no 120- to 512-token pastes (as in CI)")
    parser.add_argument("--max-failures", type=int, default=20, help="give up after this many failures")
    parser.add_argument("--log", type=Path, help="also append the report and failures to this file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    home = _isolate()
    sys.path.insert(0, str(REPO))
    monkey_module = _load_monkey()

    import pyqtgraph as pg
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QMessageBox

    from attnstudio.gui.app import make_application
    from attnstudio.gui.main_window import MainWindow

    log_file = args.log.open("a", encoding="utf-8") if args.log else None

    def say(text: str) -> None:
        print(text, flush=True)
        if log_file:
            log_file.write(text + "\n")
            log_file.flush()

    app = make_application()
    pg.setConfigOption("mouseRateLimit", 0)
    caught: list = []
    dialogs: list[str] = []
    sys.excepthook = lambda *exc: caught.append(exc)  # a slot that raises lands here, as under pytest-qt

    def record_dialog(kind: str):
        return lambda *a, **k: dialogs.append(f"{kind}: {a[1:3]}") or QMessageBox.StandardButton.Discard

    for kind in ("warning", "critical", "information", "question"):
        setattr(QMessageBox, kind, staticmethod(record_dialog(kind)))
    QMessageBox.exec = lambda self: dialogs.append(f"exec: {self.text()}") or 0

    window = MainWindow(settings=QSettings(os.path.join(home, "settings.ini"), QSettings.Format.IniFormat))
    window.show()
    window.activateWindow()
    app.processEvents()
    monkey = monkey_module.Monkey(window, args.seed, caught, dialogs, checkpoint_every=args.checkpoint,
                                  flush_every=args.flush_every, long_texts=not args.short_texts)
    failures: list[str] = []
    kinds: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()
    rss_start = _rss_mb()
    deadline = started + args.minutes * 60 if args.minutes else None
    limit = f" or {args.minutes:g} minutes" if args.minutes else ""
    say(f"soak: seed {args.seed}, up to {args.actions} actions{limit}, lesson panel: {monkey.lesson_panel is not None}")
    while monkey.done < args.actions and (deadline is None or time.perf_counter() < deadline):
        try:
            monkey.step()
        except monkey_module.MonkeyFailure as exc:
            failures.append(str(exc))
            kinds[str(exc).split("\n", 1)[0].split(": ", 2)[-1][:80]] += 1
            say(f"\n--- failure {len(failures)} ---\n{exc}")
            if caught:
                say("".join(traceback.format_exception(*caught[0]))[-3000:])
            caught.clear()
            dialogs.clear()
            if len(failures) >= args.max_failures:
                say("too many failures: stopping")
                break
            try:  # start again from the seed example and go on
                monkey.close_editors()
                window.controller.new_scene()
                monkey.rebase()
            except Exception:  # noqa: BLE001
                say("could not recover:\n" + traceback.format_exc())
                break
        if monkey.done % args.report_every == 0:
            elapsed = time.perf_counter() - started
            say(f"  {monkey.done} actions, {len(failures)} failures, {elapsed:.0f} s, "
                f"{monkey.done / max(elapsed, 1e-9):.1f} actions/s, {_rss_mb():.0f} MB resident")
    try:
        monkey.flush()
        monkey.checkpoint()
    except monkey_module.MonkeyFailure as exc:
        failures.append(str(exc))
        say(f"\n--- failure at the final checkpoint ---\n{exc}")
    elapsed = time.perf_counter() - started
    say(f"\nsoak summary: seed {args.seed}: {monkey.done} actions run in {elapsed:.1f} s "
        f"({monkey.done / max(elapsed, 1e-9):.1f}/s), {monkey.checkpoints} undo checkpoints passed, "
        f"{len(failures)} failures; resident memory {rss_start:.0f} MB at the start, {_rss_mb():.0f} MB at the end")
    for what, n in kinds.most_common():
        say(f"  {n} x {what}")
    say("  actions: " + ", ".join(f"{name} {n}" for name, n in monkey.counts.most_common()))
    say("  seconds per kind: " + ", ".join(f"{name} {t:.1f}" for name, t in monkey.seconds.most_common(12)))
    say("  skipped (not possible at that moment): "
        + ", ".join(f"{name} {n}" for name, n in monkey.skipped.most_common()))
    monkey.finish()
    window.autosaver.discard()
    window.close()
    if log_file:
        log_file.close()
    QApplication.processEvents()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
