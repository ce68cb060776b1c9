"""Run the benchmarks, print the numbers and write them as JSON.

    .venv/bin/python -m benchmarks                 # everything, ~10 minutes on 2 cores → results/latest.json
    .venv/bin/python -m benchmarks --quick         # tiny sizes, a few repetitions → results/quick.json
    .venv/bin/python -m benchmarks --only engine repaint --output /tmp/b.json

Sections: engine, repaint, startup, export, memory. Qt runs offscreen unless QT_QPA_PLATFORM is set, with
settings and autosaves in a temporary folder.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Sequence

from benchmarks.common import RESULTS, machine_info, use_qt_environment

SECTIONS = ("engine", "repaint", "startup", "export", "memory")
FORMAT = "attnstudio-benchmarks"
VERSION = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and a few repetitions (checks the code runs)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, metavar="SECTION",
                        help=f"run only these sections ({', '.join(SECTIONS)})")
    parser.add_argument("--output", type=Path, help="JSON file to write (default results/latest.json, "
                                                    "or results/quick.json with --quick)")
    parser.add_argument("--profile", action="store_true", help="repaint: also write a cProfile breakdown (on by "
                                                               "default in full runs)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    use_qt_environment()  # before any QApplication: offscreen, settings in a temp folder
    sections = args.only or list(SECTIONS)
    output = args.output or RESULTS / ("quick.json" if args.quick else "latest.json")
    document = {
        "format": FORMAT, "version": VERSION, "quick": args.quick,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine_info(), "sections": {},
    }
    failed = []
    for name in sections:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"\n== {name} ==", flush=True)
        start = time.perf_counter()
        try:
            result = module.run(quick=args.quick, **({"profile": args.profile} if name == "repaint" else {}))
        except Exception:  # noqa: BLE001 (one broken section must not lose the others' numbers)
            failed.append(name)
            result = {"error": traceback.format_exc()}
            print(result["error"], file=sys.stderr)
        result["seconds"] = round(time.perf_counter() - start, 1)
        document["sections"][name] = result
        if "error" not in result:
            for line in module.report(result):
                print(line)
        print(f"({name}: {result['seconds']} s)", flush=True)
    document["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
