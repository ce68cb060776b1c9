"""File → Export Image…, Edit → Copy Image and File → Export Weights…: the window's side of ``attnstudio.export``.

The dialog only chooses ``ExportOptions`` (and shows a preview drawn by the exporter itself); the drawing and
the atomic write are ``attnstudio.export.render``'s, the weights ``attnstudio.export.data``'s — the same code the
command line runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from attnstudio.export import IMAGE_FORMATS, VIEWS
from attnstudio.export.data import weights_bytes
from attnstudio.export.render import (
    ExportError,
    ExportOptions,
    PngExporter,
    exporter_for,
    figure_size,
    paint_figure,
)
from attnstudio.fileio import SaveError, atomic_write_bytes
from attnstudio.gui.errors import guard_overrides
from attnstudio.gui.painting import AlignmentFigure, Theme
from attnstudio.gui.widgets import name_widget

__all__ = ["ExportDialog", "copy_image", "export_weights", "figure_image"]

VIEW_NAMES = {"lines": "Alignment lines", "heatmap": "Heatmap", "both": "Both, side by side"}
FORMAT_NAMES = {".png": "PNG image", ".svg": "SVG vector image (editable text)", ".pdf": "PDF document (vector)"}
FILTERS = {".png": "PNG image (*.png)", ".svg": "SVG image (*.svg)", ".pdf": "PDF document (*.pdf)",
           ".csv": "CSV table (*.csv)", ".json": "JSON document (*.json)"}
PREVIEW = QSize(440, 260)
SETTINGS_GROUP = "export"


def _ask_save_path(parent: QWidget, caption: str, start: str, suffixes: tuple[str, ...]) -> tuple[str, str]:
    """A save dialog offering ``suffixes`` (first one selected); the path has a known suffix, or is ''."""
    filters = ";;".join(FILTERS[s] for s in suffixes)
    path, chosen = QFileDialog.getSaveFileName(parent, caption, start, filters, FILTERS[suffixes[0]])
    if not path:
        return "", ""
    if Path(path).suffix.lower() not in suffixes:  # no or another extension: the chosen filter's
        wanted = next((s for s in suffixes if FILTERS[s] == chosen), suffixes[0])
        path += wanted
    return path, Path(path).suffix.lower()


@guard_overrides
class ExportDialog(QDialog):
    """Choose how the figure is drawn, see a preview, then pick the file. Remembers the choices (QSettings)."""

    def __init__(self, figure: AlignmentFigure, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export Image")
        self.figure = figure
        self.settings = settings
        self.saved_path = ""  # the file written when the dialog was accepted

        self.view = self._combo("exportView", "View", VIEW_NAMES)
        self.format = self._combo("exportFormat", "Format", FORMAT_NAMES)
        self.scale = name_widget(QSpinBox(), "exportScale", "PNG scale",
                                 "Pixels per screen pixel: 2× or more stays sharp on high-DPI screens and slides")
        self.scale.setRange(1, 4)
        self.scale.setSuffix("×")
        self.theme = self._combo("exportTheme", "Theme", {"light": "Light", "dark": "Dark"})
        self.transparent = name_widget(QCheckBox("Transparent background"), "exportTransparent",
                                       "Transparent background", "Leave the background out (for slides and posters)")
        self.colorbar = name_widget(QCheckBox("Colour bar"), "exportColorbar", "Colour bar",
                                    "The heatmap's labelled scale of weights")
        self.title_check = name_widget(QCheckBox("Title"), "exportTitleShown", "Show a title")
        self.title = name_widget(QLineEdit(figure.title), "exportTitle", "Title")
        self.caption = name_widget(QLineEdit(), "exportCaption", "Caption")
        self.caption.setPlaceholderText("Optional, e.g. “Figure 1: where each English word looks”")
        self.size_label = name_widget(QLabel(), "exportSize", "Size of the exported figure")
        self.preview = name_widget(QLabel(), "exportPreview", "Preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(PREVIEW)
        self.preview.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.preview.setFrameShape(QLabel.Shape.StyledPanel)
        self._build_layout()
        self._restore()
        self._preview_timer = QTimer(self, singleShot=True, interval=60)  # typing a title repaints once
        self._preview_timer.timeout.connect(self.update_preview)
        for signal in (self.view.currentIndexChanged, self.format.currentIndexChanged, self.scale.valueChanged,
                       self.theme.currentIndexChanged, self.transparent.toggled, self.colorbar.toggled,
                       self.title_check.toggled, self.title.textChanged, self.caption.textChanged):
            signal.connect(self._changed)
        self._changed()
        self.update_preview()

    # -- construction ---------------------------------------------------------------------------------
    def _combo(self, name: str, label: str, items: dict[str, str]) -> QComboBox:
        combo = name_widget(QComboBox(), name, label)
        for key, text in items.items():
            combo.addItem(text, key)
        return combo

    def _build_layout(self) -> None:
        form = QFormLayout()
        form.addRow("&View:", self.view)
        form.addRow("&Format:", self.format)
        form.addRow("PNG &scale:", self.scale)
        form.addRow("&Theme:", self.theme)
        form.addRow("", self.transparent)
        form.addRow("", self.colorbar)
        title_row = QHBoxLayout()
        title_row.addWidget(self.title_check)
        title_row.addWidget(self.title, 1)
        form.addRow(title_row)
        form.addRow("&Caption:", self.caption)
        form.addRow("Size:", self.size_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("&Export…")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview, 1)
        layout.addWidget(buttons)

    # -- choices --------------------------------------------------------------------------------------
    def options(self) -> ExportOptions:
        """The options as chosen now."""
        return ExportOptions(view=self.view.currentData(), theme=self.theme.currentData(), scale=self.scale.value(),
                             transparent=self.transparent.isChecked(),
                             title=self.title.text() if self.title_check.isChecked() else "",
                             caption=self.caption.text().strip(), colorbar=self.colorbar.isChecked())

    def suffix(self) -> str:
        return self.format.currentData()

    def _changed(self) -> None:
        png, heat = self.suffix() == ".png", self.view.currentData() in ("heatmap", "both")
        self.scale.setEnabled(png)
        self.colorbar.setEnabled(heat)
        self.title.setEnabled(self.title_check.isChecked())
        width, height = figure_size(self.figure, self.options())
        if png:
            s = self.scale.value()
            self.size_label.setText(f"{width * s} × {height * s} pixels")
        elif self.suffix() == ".pdf":
            self.size_label.setText(f"{width * 0.75:g} × {height * 0.75:g} pt ({width} × {height} px at 96 dpi)")
        else:
            self.size_label.setText(f"{width} × {height} px")
        self._preview_timer.start()

    def update_preview(self) -> None:
        """Draw the preview now, with the exporter's own painting, fitted into the preview box."""
        options = replace(self.options(), scale=1.0)
        width, height = figure_size(self.figure, options)
        box = self.preview.contentsRect().size() if self.preview.isVisible() else PREVIEW
        box = box.expandedTo(QSize(40, 40)) - QSize(8, 8)
        ratio = self.devicePixelRatioF()
        fit = min(1.0, box.width() / width, box.height() / height)
        image = QImage(max(1, round(width * fit * ratio)), max(1, round(height * fit * ratio)),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.scale(fit * ratio, fit * ratio)
        paint_figure(painter, self.figure, options)
        painter.end()
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(ratio)
        self.preview.setPixmap(pixmap)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self._preview_timer.start()  # the preview box has its real size only now

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._preview_timer.start()

    # -- remembering ----------------------------------------------------------------------------------
    def _restore(self) -> None:
        s = self.settings
        s.beginGroup(SETTINGS_GROUP)
        try:
            _select(self.view, s.value("view", "lines"), VIEWS)
            _select(self.format, s.value("format", ".png"), IMAGE_FORMATS)
            _select(self.theme, s.value("theme", "light"), ("light", "dark"))
            self.scale.setValue(_int(s.value("scale", 2), 2))
            self.transparent.setChecked(_bool(s.value("transparent", False)))
            self.colorbar.setChecked(_bool(s.value("colorbar", True)))
            self.title_check.setChecked(_bool(s.value("title", True)))
        finally:
            s.endGroup()

    def remember(self) -> None:
        """Store the choices for next time (the texts belong to this figure, and are not kept)."""
        s = self.settings
        s.beginGroup(SETTINGS_GROUP)
        for key, value in (("view", self.view.currentData()), ("format", self.suffix()), ("scale", self.scale.value()),
                           ("theme", self.theme.currentData()), ("transparent", self.transparent.isChecked()),
                           ("colorbar", self.colorbar.isChecked()), ("title", self.title_check.isChecked())):
            s.setValue(key, value)
        s.endGroup()

    def _start_path(self) -> str:
        folder = self.settings.value(f"{SETTINGS_GROUP}/folder", "")
        if not isinstance(folder, str) or not os.path.isdir(folder):
            folder = os.path.expanduser("~")
        return os.path.join(folder, f"attention-{self.view.currentData()}{self.suffix()}")

    # -- exporting ------------------------------------------------------------------------------------
    def accept(self) -> None:
        """Ask where to save, write the file; on a problem say what it is and stay open."""
        path, _ = _ask_save_path(self, "Export image", self._start_path(),
                                 (self.suffix(), *(s for s in IMAGE_FORMATS if s != self.suffix())))
        if path and self.export_to(path):
            super().accept()

    def export_to(self, path: str) -> bool:
        """Draw the figure to ``path`` (its extension picks the format); False, after saying why, if it failed."""
        try:
            exporter_for(path)(self.figure, self.options()).export(path)
        except (ExportError, SaveError) as exc:
            QMessageBox.warning(self, "Cannot export the image", f"{exc}\n\nAny file already there is unchanged.")
            return False
        self.saved_path = path
        self.remember()
        self.settings.setValue(f"{SETTINGS_GROUP}/folder", os.path.dirname(os.path.abspath(path)))
        return True


def _select(combo: QComboBox, value: object, allowed: tuple[str, ...]) -> None:
    index = combo.findData(value if value in allowed else allowed[0])
    combo.setCurrentIndex(max(index, 0))


def _bool(value: object) -> bool:
    """QSettings in INI files gives booleans back as "true"/"false"."""
    return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")


def _int(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


# -- copy and weights ------------------------------------------------------------------------------------
def figure_image(figure: AlignmentFigure, view: str, theme: Theme, scale: float = 2.0) -> QImage:
    """The view as the window shows it (its theme, no title), ``scale`` pixels per screen pixel."""
    return PngExporter(figure, ExportOptions(view=view, theme=theme, scale=scale, title="")).to_image()


def copy_image(figure: AlignmentFigure, view: str, theme: Theme, scale: float = 2.0) -> QImage:
    """Put the view on the clipboard as an image.

    Only an image: a ``QMimeData`` made in Python (to add the SVG) and handed to the clipboard crashes
    PySide6 6.11 when the application exits.
    """
    image = figure_image(figure, view, theme, scale)
    QGuiApplication.clipboard().setImage(image)
    return image


def export_weights(parent: QWidget, scene, settings: QSettings,
                   data: Callable[[str], bytes] | None = None) -> str:
    """Ask for a .csv or .json file and write the weights there (the CLI's formats). The path, or '' if none.

    ``data(suffix)`` gives the file's bytes instead of the toy ``scene``'s weights (a real model's head).
    """
    folder = settings.value(f"{SETTINGS_GROUP}/folder", "")
    if not isinstance(folder, str) or not os.path.isdir(folder):
        folder = os.path.expanduser("~")
    path, suffix = _ask_save_path(parent, "Export weights", os.path.join(folder, "weights.csv"), (".csv", ".json"))
    if not path:
        return ""
    try:
        atomic_write_bytes(path, data(suffix) if data is not None else weights_bytes(scene, suffix))
    except SaveError as exc:
        QMessageBox.warning(parent, "Cannot export the weights", f"{exc}\n\nAny file already there is unchanged.")
        return ""
    settings.setValue(f"{SETTINGS_GROUP}/folder", os.path.dirname(os.path.abspath(path)))
    return path
