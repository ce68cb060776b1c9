"""Errors of the real-model loader, and the lazy imports of its optional dependencies."""

from __future__ import annotations

from types import ModuleType

__all__ = ["MissingDependencyError", "ModelError", "require"]

INSTALL_HINT = "pip install 'attnstudio[models]'"


class ModelError(Exception):
    """A model folder that cannot be used; the message names the file and what is wrong with it."""


class MissingDependencyError(ModelError, ImportError):
    """safetensors or tokenizers is not installed (they are the optional extra ``models``)."""


def require(module: str) -> ModuleType:
    """Import ``module`` (``"safetensors.numpy"`` or ``"tokenizers"``) or say how to install it.

    Imported on first use, never at import time of the engine: the toy lessons work without them.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise MissingDependencyError(
            f"opening a real model needs the Python package '{top}', which is not installed; "
            f"install the optional extra with: {INSTALL_HINT}"
        ) from exc
