"""Reading a real model off the GUI thread, for the Model workspace."""

from __future__ import annotations

import importlib.util

from PySide6.QtCore import QThread, Signal

from attnstudio.engine.real.bert import load_model
from attnstudio.engine.real.errors import ModelError
from attnstudio.engine.real.sources import ModelSource

__all__ = ["ModelLoader", "models_available"]

_RUNNING: set[QThread] = set()  # loaders still reading; kept alive until they finish, even if the panel goes


def models_available() -> bool:
    """True when the optional packages that read real models (safetensors, tokenizers) are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("safetensors", "tokenizers"))


class ModelLoader(QThread):
    """Reads a model folder off the GUI thread; ``cancel()`` stops it at the next progress report."""

    progressed = Signal(float, str)
    loaded = Signal(object)  # BertModel
    failed = Signal(str)

    def __init__(self, source: str | ModelSource) -> None:
        super().__init__()
        self.source = source
        self._cancelled = False
        _RUNNING.add(self)
        self.finished.connect(self._forget)

    def cancel(self) -> None:
        self._cancelled = True

    def _report(self, fraction: float, message: str) -> None:
        if self._cancelled:
            raise InterruptedError("cancelled")
        self.progressed.emit(fraction, message)

    def run(self) -> None:
        try:
            model = load_model(self.source, progress=self._report)
        except InterruptedError:
            return
        except ModelError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 — a broken file must never take the window down
            self.failed.emit(f"could not read the model: {type(exc).__name__}: {exc}")
        else:
            if not self._cancelled:
                self.loaded.emit(model)

    def _forget(self) -> None:
        _RUNNING.discard(self)
