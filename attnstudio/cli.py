"""The command line: ``attnstudio`` opens the window; subcommands work with no display.

Only the commands that draw import Qt, and they import it lazily, so ``attnstudio export … -o w.json``
starts fast and runs where there is no screen at all.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Sequence

from attnstudio._version import __version__

DATA_FORMATS = (".json", ".csv")
IMAGE_FORMATS = (".png", ".svg", ".pdf")


class CliError(Exception):
    """An error the CLI reports as one line on stderr with a non-zero exit code."""


SUBCOMMANDS = ("export", "lesson")


def _build_parser() -> argparse.ArgumentParser:
    """The window's parser; subcommands have their own (so a scene file named like a command still opens)."""
    parser = argparse.ArgumentParser(
        prog="attnstudio",
        description="AttnStudio: see and edit the attention mechanism of transformers. "
                    "Subcommands: export (attention weights to JSON/CSV; see 'attnstudio export --help'), "
                    "lesson check (validate a lesson file; see 'attnstudio lesson --help').",
    )
    parser.add_argument("--version", action="version", version=f"AttnStudio {__version__}")
    parser.add_argument("--smoke", action="store_true", help="open the window, paint it once, and quit (for checks)")
    parser.add_argument("--theme", choices=["system", "light", "dark"], default="system", help="colour theme")
    parser.add_argument("scene", nargs="?", help="a scene file (*.attn.json) to open in the window")
    return parser


def _build_export_parser() -> argparse.ArgumentParser:
    export = argparse.ArgumentParser(prog="attnstudio export",
                                     description="Write the attention weights (JSON, CSV) of a sentence or a scene.")
    export.add_argument("--source", help="the source sentence (French by default); alone, it attends to itself")
    export.add_argument("--target", help="the target sentence (English by default): its words are the queries")
    export.add_argument("--scene", help="start from a scene file (*.attn.json); --source/--target replace its sentences")
    export.add_argument("--temperature", type=float, help="softmax temperature (> 0)")
    export.add_argument("--variant", choices=["uniform", "dot", "scaled"], help="equal weighting, dot product or scaled dot product")
    export.add_argument("--causal", action="store_true", help="apply a causal mask (no looking ahead)")
    export.add_argument("--heads", type=int, help="number of heads (a divisor of the model width)")
    export.add_argument("--head", type=int, help="which head to export (0-based)")
    export.add_argument("--no-positions", action="store_true", help="switch off the positional encodings")
    export.add_argument("-o", "--output", required=True, help="output file: .json or .csv")
    return export


def _scene_from_args(args: argparse.Namespace):
    from attnstudio.scene import Scene, SceneError, load_scene_file

    scene = load_scene_file(args.scene) if args.scene else Scene()
    if not args.scene and args.source is None:
        raise CliError("give --source TEXT (and optionally --target TEXT) or --scene FILE")
    settings: dict[str, object] = {}
    if args.source is not None:
        if not args.source.strip():
            raise CliError("the source sentence is empty; give some words with --source")
        scene.set_sentence("source", args.source)
        settings["mode"] = "self" if args.target is None else "translation"
    if args.target is not None:
        if not args.target.strip():
            raise CliError("the target sentence is empty; give some words with --target")
        scene.set_sentence("target", args.target)
        settings["mode"] = "translation"
    if args.temperature is not None:
        settings["temperature"] = args.temperature
    if args.variant is not None:
        settings["variant"] = args.variant
    if args.causal:
        settings["causal"] = True
    if args.heads is not None:
        settings["num_heads"] = args.heads
    if args.no_positions:
        settings["positions"] = False
    try:
        scene.set_settings(**settings)
    except SceneError as exc:
        raise CliError(str(exc)) from None
    if args.head is not None:
        if not 0 <= args.head < scene.settings.num_heads:
            raise CliError(f"--head {args.head} does not exist; this scene has heads 0..{scene.settings.num_heads - 1}")
        scene.set_head(args.head)
    return scene


def weights_document(scene) -> dict:
    """The ``attnstudio-weights`` JSON document of a scene's current weights."""
    from dataclasses import asdict

    result = scene.result()
    return {
        "format": "attnstudio-weights",
        "version": 1,
        "queries": [w.token.surface for w in result.query_words],
        "keys": [w.token.surface for w in result.key_words],
        "weights": result.weights.tolist(),
        "settings": {**asdict(scene.settings), "head": result.head, "source": scene.source,
                     "target": scene.target if scene.settings.mode == "translation" else None},
    }


def weights_csv(scene) -> str:
    doc = weights_document(scene)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["query \\ key", *doc["keys"]])
    for query, row in zip(doc["queries"], doc["weights"]):
        writer.writerow([query, *(repr(float(x)) for x in row)])
    return buffer.getvalue()


def _export(args: argparse.Namespace) -> int:
    from attnstudio.fileio import SaveError, atomic_write_text
    from attnstudio.scene import SceneError

    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix not in DATA_FORMATS:
        known = ", ".join(DATA_FORMATS)
        raise CliError(f"cannot write {out.name!r}: unknown extension {out.suffix or '(none)'!r}; use one of {known}")
    try:
        scene = _scene_from_args(args)
    except SceneError as exc:
        raise CliError(str(exc)) from None
    if not scene.result().query_words or not scene.result().key_words:
        raise CliError("the sentence has no tokens to attend over")
    text = (json.dumps(weights_document(scene), ensure_ascii=False, indent=2) + "\n"
            if suffix == ".json" else weights_csv(scene))
    try:
        atomic_write_text(out, text)
    except SaveError as exc:
        raise CliError(str(exc)) from None
    return 0


def _build_lesson_parser() -> argparse.ArgumentParser:
    lesson = argparse.ArgumentParser(prog="attnstudio lesson", description="Work with guided lesson files.")
    actions = lesson.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check", help="validate lesson files against the model",
        description="Read each lesson file, try every step on the real model (words exist, tasks are not "
                    "already met, the stored solutions meet them) and print every problem with its line and "
                    "step. Exit code 0 when all files are usable, 1 otherwise.")
    check.add_argument("files", nargs="+", metavar="FILE", help="a lesson file (*.toml)")
    return lesson


def _lesson(args: argparse.Namespace) -> int:
    from attnstudio.lessons import check_lesson_file

    status = 0
    for file in args.files:
        lesson, problems = check_lesson_file(file)
        for problem in problems:
            print(problem)
        errors = sum(p.severity == "error" for p in problems)
        if lesson is None:
            status = 1
            print(f"{file}: {errors} error{'s' if errors != 1 else ''}; the lesson cannot be used")
        else:
            tasks = lesson.task_count
            print(f"{file}: ok: {lesson.title!r}, {len(lesson.steps)} step{'s' if len(lesson.steps) != 1 else ''}, "
                  f"{tasks} task{'s' if tasks != 1 else ''}")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "export":
            return _export(_build_export_parser().parse_args(argv[1:]))
        if argv and argv[0] == "lesson":
            return _lesson(_build_lesson_parser().parse_args(argv[1:]))
        args = _build_parser().parse_args(argv)
        from attnstudio.gui.app import run_app  # the window needs Qt: import it only now

        return run_app(scene_path=args.scene, smoke=args.smoke, theme=args.theme)
    except CliError as exc:
        print(f"attnstudio: error: {exc}", file=sys.stderr)
        return 2
