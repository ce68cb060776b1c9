"""The command line: ``attnstudio`` opens the window; subcommands work with no display.

Only the commands that draw import Qt, and they import it lazily, so ``attnstudio export … -o w.json``
starts fast and runs where there is no screen at all; ``-o w.png`` (or .svg, .pdf) draws with a
``QGuiApplication`` on Qt's offscreen platform, no window and no display.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from attnstudio._version import __version__
from attnstudio.export import DATA_FORMATS, IMAGE_FORMATS, VIEWS, weights_bytes, weights_csv, weights_document

__all__ = ["DATA_FORMATS", "IMAGE_FORMATS", "CliError", "main", "weights_csv", "weights_document"]


class CliError(Exception):
    """An error the CLI reports as one line on stderr with a non-zero exit code."""


SUBCOMMANDS = ("export", "lesson")


def _build_parser() -> argparse.ArgumentParser:
    """The window's parser; subcommands have their own (so a scene file named like a command still opens)."""
    parser = argparse.ArgumentParser(
        prog="attnstudio",
        description="AttnStudio: see and edit the attention mechanism of transformers. "
                    "Subcommands: export (the weights as JSON/CSV, or the figure as PNG/SVG/PDF; see "
                    "'attnstudio export --help'), "
                    "lesson check (validate a lesson file; see 'attnstudio lesson --help').",
    )
    parser.add_argument("--version", action="version", version=f"AttnStudio {__version__}")
    parser.add_argument("--smoke", action="store_true", help="open the window, paint it once, and quit (for checks)")
    parser.add_argument("--theme", choices=["system", "light", "dark"], default="system", help="colour theme")
    parser.add_argument("scene", nargs="?", help="a scene file (*.attn.json) to open in the window")
    return parser


def _build_export_parser() -> argparse.ArgumentParser:
    export = argparse.ArgumentParser(
        prog="attnstudio export",
        description="Write the attention weights of a sentence or a scene as data (.json, .csv) or draw them as a "
                    "figure (.png, .svg, .pdf) — the same drawing as the window's, with no window and no display. "
                    "An existing file is replaced whole or not at all.")
    export.add_argument("--source", help="the source sentence (French by default); alone, it attends to itself")
    export.add_argument("--target", help="the target sentence (English by default): its words are the queries")
    export.add_argument("--scene", help="start from a scene file (*.attn.json); --source/--target replace its sentences")
    export.add_argument("--temperature", type=float, help="softmax temperature (> 0)")
    export.add_argument("--variant", choices=["uniform", "dot", "scaled"], help="equal weighting, dot product or scaled dot product")
    export.add_argument("--causal", action="store_true", help="apply a causal mask (no looking ahead)")
    export.add_argument("--heads", type=int, help="number of heads (a divisor of the model width)")
    export.add_argument("--head", type=int, help="which head to export (0-based)")
    export.add_argument("--no-positions", action="store_true", help="switch off the positional encodings")
    export.add_argument("--focus", help="the query word to highlight, by position from 0, or 'none' "
                                         "(default: the scene's; 1, 'black', for the seed pair)")
    export.add_argument("-o", "--output", required=True,
                        help="output file: .json or .csv (data), .png, .svg or .pdf (figure)")
    real = export.add_argument_group("a real model (BERT-family folder or a name 'attnstudio' finds; offline)")
    real.add_argument("--model", metavar="DIR", help="export a real model's attention instead of the toy scene's")
    real.add_argument("--layer", type=int, default=0, help="which layer (0-based; default 0)")
    real.add_argument("--sentence", help="the sentence the model reads (default: --source, else a short example)")
    real.add_argument("--model-view", choices=("head", "average", "rollout"), default="head",
                      help="one head (--head), the layer's head average, or attention rollout up to the layer")
    real.add_argument("--hide-special", action="store_true", help="leave out [CLS]/[SEP], rows renormalised")
    figure = export.add_argument_group("figures (.png, .svg, .pdf)")
    figure.add_argument("--view", choices=VIEWS, default="lines",
                        help="the alignment lines, the heatmap, or both side by side (default: lines)")
    figure.add_argument("--scale", type=float, default=1.0,
                        help="PNG pixels per figure pixel, 0.5 to 4 (2 for sharp slides; default 1)")
    figure.add_argument("--theme", choices=["light", "dark"], default="light", help="colours (default: light)")
    figure.add_argument("--title", help="the title above the figure ('' for none; default: what the figure shows)")
    figure.add_argument("--caption", default="", help="a caption under the figure")
    figure.add_argument("--transparent", action="store_true", help="no background (PNG, SVG)")
    figure.add_argument("--no-colorbar", action="store_true", help="leave out the heatmap's colour bar")
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


def _apply_focus(scene, focus: str | None) -> bool:
    """Set the focused query from ``--focus``; False for 'none' (no query highlighted)."""
    if focus is None:
        return True
    if focus.strip().lower() == "none":
        return False
    n_q = len(scene.result().query_words)
    try:
        index = int(focus)
    except ValueError:
        raise CliError(f"--focus takes a word position (0..{n_q - 1}) or 'none', not {focus!r}") from None
    if not 0 <= index < n_q:
        raise CliError(f"--focus {index} does not exist; the query sentence has words 0..{n_q - 1}")
    scene.set_focus(index)
    return True


def _figure_bytes(scene, args: argparse.Namespace, out: Path, focus: bool) -> bytes:
    """Draw the scene's figure in memory (Qt imported only now) and return the file's bytes."""
    from dataclasses import replace

    from attnstudio.export.render import ensure_gui_application

    ensure_gui_application()
    from attnstudio.export.figures import scene_figure

    fig = scene_figure(scene)
    if not focus:
        fig = replace(fig, focus=None)
    return _render(fig, args, out)


def _render(fig, args: argparse.Namespace, out: Path) -> bytes:
    """Draw a figure with the export options given on the command line (the window's own painters)."""
    from attnstudio.export.render import ExportError, ExportOptions, exporter_for

    options = ExportOptions(view=args.view, theme=args.theme, scale=args.scale, transparent=args.transparent,
                            title=args.title, caption=args.caption, colorbar=not args.no_colorbar)
    try:
        return exporter_for(out)(fig, options).export(to_bytes=True)
    except ExportError as exc:
        raise CliError(str(exc)) from None


def _export(args: argparse.Namespace) -> int:
    from attnstudio.fileio import SaveError, atomic_write_bytes
    from attnstudio.scene import SceneError

    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix not in DATA_FORMATS + IMAGE_FORMATS:
        known = ", ".join(DATA_FORMATS + IMAGE_FORMATS)
        raise CliError(f"cannot write {out.name!r}: unknown extension {out.suffix or '(none)'!r}; use one of {known}")
    if not 0.5 <= args.scale <= 4:  # checked before any drawing: a batch job learns at once
        raise CliError(f"--scale must be between 0.5 and 4, not {args.scale:g}")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise CliError(f"cannot save to {out}: the folder {folder} does not exist")
    if args.model is not None:
        data = _model_export_bytes(args, out, suffix)
        try:
            atomic_write_bytes(out, data)
        except SaveError as exc:
            raise CliError(str(exc)) from None
        return 0
    try:
        scene = _scene_from_args(args)
    except SceneError as exc:
        raise CliError(str(exc)) from None
    if not scene.result().query_words or not scene.result().key_words:
        raise CliError("the sentence has no tokens to attend over")
    focus = _apply_focus(scene, args.focus)
    # Everything is made in memory first; only then is the file replaced, whole (never half-written).
    data = weights_bytes(scene, suffix) if suffix in DATA_FORMATS else _figure_bytes(scene, args, out, focus)
    try:
        atomic_write_bytes(out, data)
    except SaveError as exc:
        raise CliError(str(exc)) from None
    return 0


def _model_export_bytes(args: argparse.Namespace, out: Path, suffix: str) -> bytes:
    """One layer/head of a real model on a sentence: data without Qt, figures with the shared painters."""
    from attnstudio.engine.real.bert import load_model
    from attnstudio.engine.real.errors import ModelError
    from attnstudio.export.model_data import model_weights, model_weights_bytes

    sentence = args.sentence or args.source or "The cat sat on the mat because it was tired."
    head = 0 if args.head is None else args.head
    try:
        model = load_model(args.model)
    except ModelError as exc:
        raise CliError(str(exc)) from None
    if not 0 <= args.layer < model.num_layers:
        raise CliError(f"--layer {args.layer} does not exist; {model.name} has layers 0..{model.num_layers - 1}")
    if not 0 <= head < model.num_heads:
        raise CliError(f"--head {head} does not exist; {model.name} has heads 0..{model.num_heads - 1}")
    try:
        run = model.forward(sentence)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if suffix in DATA_FORMATS:
        return model_weights_bytes(model, run, args.layer, head, suffix, args.model_view, args.hide_special)
    from attnstudio.export.render import ensure_gui_application

    ensure_gui_application()
    from attnstudio.gui.painting import AlignmentFigure

    labels, weights = model_weights(run, args.layer, head, args.model_view, args.hide_special)
    where = f"layer {args.layer}" + (f", head {head}" if args.model_view == "head" else "")
    what = {"head": "Self-attention", "average": "Head average", "rollout": "Attention rollout up to"}
    fig = AlignmentFigure(labels, labels, weights, title=f"{model.name}: {what[args.model_view]}, {where}")
    return _render(fig, args, out)


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
