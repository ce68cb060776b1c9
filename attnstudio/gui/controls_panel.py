"""Controls: mode, attention variant, temperature, heads, causal mask, positions, and the row readout."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QWidget,
)

from attnstudio.gui.controller import Controller
from attnstudio.gui.widgets import LiveLabelBox, name_widget, signals_blocked
from attnstudio.scene import MAX_TEMPERATURE, MIN_TEMPERATURE

__all__ = ["ControlsPanel", "TemperatureControl"]

MODES = [("translation", "Translation (English → French)"), ("self", "Self-attention (one sentence)")]
MODEL_MODE = "model"  # not a scene setting: the window swaps the toy lab for a real model's workspace
MODEL_MODE_LABEL = "Real model (BERT)"
VARIANTS = [("uniform", "Equal weighting (average)"), ("dot", "Dot product"), ("scaled", "Scaled dot product (÷√d)")]
HEAD_COUNTS = [1, 2, 4, 8]  # the divisors of the model width 16 up to 8


class TemperatureControl(QWidget):
    """A log-scale slider from 0.01 to 100 with a number field; emits ``value_changed(float)``."""

    value_changed = Signal(float)
    editing_finished = Signal()
    STEPS = 400
    LOW, HIGH = 0.01, 100.0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "temperatureControl", "Temperature",
                    "Temperature T divides the scores before softmax: below 1 the spotlight narrows to one word, "
                    "above 1 it spreads over all of them.")
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        name_widget(self.slider, "temperatureSlider", "Temperature slider (logarithmic)", self.toolTip())
        self.slider.setRange(0, self.STEPS)
        self.slider.setPageStep(self.STEPS // 8)
        self.spin = QDoubleSpinBox(self)
        name_widget(self.spin, "temperatureSpin", "Temperature value", self.toolTip())
        self.spin.setDecimals(3)
        self.spin.setRange(MIN_TEMPERATURE, MAX_TEMPERATURE)
        self.spin.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.spin.setKeyboardTracking(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.setFocusProxy(self.spin)
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderReleased.connect(self.editing_finished)
        self.spin.valueChanged.connect(self._on_spin)
        self._value = 1.0
        self.setValue(1.0)

    def _to_slider(self, value: float) -> int:
        value = min(max(value, self.LOW), self.HIGH)
        frac = (math.log10(value) - math.log10(self.LOW)) / (math.log10(self.HIGH) - math.log10(self.LOW))
        return round(frac * self.STEPS)

    def _from_slider(self, position: int) -> float:
        exponent = math.log10(self.LOW) + position / self.STEPS * (math.log10(self.HIGH) - math.log10(self.LOW))
        return float(f"{10 ** exponent:.3g}")

    def value(self) -> float:
        return self._value

    def setValue(self, value: float) -> None:  # noqa: N802 (Qt style)
        self._value = float(value)
        with signals_blocked(self.slider), signals_blocked(self.spin):
            self.slider.setValue(self._to_slider(value))
            self.spin.setValue(value)

    def _on_slider(self, position: int) -> None:
        value = self._from_slider(position)
        self._value = value
        with signals_blocked(self.spin):
            self.spin.setValue(value)
        self.value_changed.emit(value)

    def _on_spin(self, value: float) -> None:
        self._value = value
        with signals_blocked(self.slider):
            self.slider.setValue(self._to_slider(value))
        self.value_changed.emit(value)
        self.editing_finished.emit()


class ControlsPanel(QWidget):
    """The toy scene's settings, and the mode selector that also leads to (and back from) a real model."""

    model_mode_toggled = Signal(bool)  # the learner chose the real model (True) or a toy mode again (False)

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "controlsPanel", "Attention controls")
        self.controller = controller

        self.mode = name_widget(QComboBox(self), "modeSelector", "Attention mode",
                                "Translation: each English word looks at the French sentence. "
                                "Self-attention: one sentence looks at itself. "
                                "Real model: the heads of a pretrained BERT, read offline (Ctrl+1/2/3 switch).")
        for key, label in MODES:
            self.mode.addItem(label, key)
        self.mode.addItem(MODEL_MODE_LABEL, MODEL_MODE)
        self.model_mode = False
        self.variant = name_widget(QComboBox(self), "variantSelector", "Attention variant",
                                   "Equal weighting averages every word (the old bottleneck); dot product scores "
                                   "query·key; scaled divides by √d so wide vectors do not saturate softmax.")
        for key, label in VARIANTS:
            self.variant.addItem(label, key)
        self.temperature = TemperatureControl(self)
        self.head_count = name_widget(QComboBox(self), "headCountSelector", "Number of heads",
                                      "Split the 16 dimensions into this many heads; each head attends on its own slice.")
        for n in HEAD_COUNTS:
            self.head_count.addItem(str(n), n)
        self.head = name_widget(QComboBox(self), "headSelector", "Head shown",
                                "Which head's weights the canvas, heatmap and trace show.")
        self.causal = name_widget(QCheckBox("Causal mask (no looking ahead)", self), "causalMaskToggle",
                                  "Causal mask", "A decoder writing word i may only look at words 0…i.")
        self.positions = name_widget(QCheckBox("Positional encodings", self), "positionsToggle",
                                     "Positional encodings",
                                     "Add each word's position code; without it, identical words are indistinguishable.")
        self.readout = name_widget(QLabel(self), "rowReadout", "Focused row readout")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout.setWordWrap(True)
        self.model_note = name_widget(QLabel(
            "The window shows a real model's heads. Your toy scene is kept as it is: choose Translation or "
            "Self-attention (Ctrl+1, Ctrl+2) to go back to it.", self), "modelModeNote", "Real model mode")
        self.model_note.setWordWrap(True)

        for combo, letters in ((self.mode, 10), (self.variant, 10), (self.head, 6)):
            # Elided, not wider: at 1280×800 the dock is ~300 px beside its scroll bar (no sideways scrolling).
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(letters)
        form = QFormLayout(self)
        form.addRow(self._label("&Mode", self.mode), self.mode)
        form.addRow(self._label("&Variant", self.variant), self.variant)
        form.addRow(self._label("T&emperature", self.temperature.spin), self.temperature)
        heads = QHBoxLayout()
        heads.addWidget(self.head_count)
        heads.addWidget(self._label("s&how", self.head))
        heads.addWidget(self.head, 1)
        form.addRow(self._label("&Heads", self.head_count), heads)
        form.addRow(self.causal)
        form.addRow(self.positions)
        form.addRow(LiveLabelBox(self.readout, self))  # its numbers change at every edit
        form.addRow(self.model_note)
        self.form = form
        form.setRowVisible(self.model_note, False)

        self.mode.activated.connect(self._on_mode)
        self.variant.activated.connect(self._on_variant)
        self.temperature.value_changed.connect(self._on_temperature)
        self.temperature.editing_finished.connect(controller.end_merge)
        self.head_count.activated.connect(self._on_head_count)
        self.head.activated.connect(self._on_head)
        self.causal.toggled.connect(self._on_causal)
        self.positions.toggled.connect(self._on_positions)
        controller.scene_changed.connect(self._refresh)
        controller.focus_changed.connect(self._refresh_readout)
        self._refresh()

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        return label

    # -- view → controller ----------------------------------------------------------------------------
    def _on_mode(self, _row: int) -> None:
        mode = self.mode.currentData()
        if mode == MODEL_MODE:
            self.set_model_mode(True)
            return
        self.set_model_mode(False)
        self.controller.set_settings(mode=mode)

    def set_model_mode(self, on: bool) -> None:
        """Show the mode selector alone (real model) or every toy control again; tells the window if it changed."""
        if on == self.model_mode:
            return
        self.model_mode = on
        for row in range(1, self.form.rowCount()):
            self.form.setRowVisible(row, not on)
        self.form.setRowVisible(self.model_note, on)
        self._refresh()
        self.model_mode_toggled.emit(on)

    def _on_variant(self, _row: int) -> None:
        self.controller.set_settings(variant=self.variant.currentData())

    def _on_temperature(self, value: float) -> None:
        if not self.controller.set_settings(merge=True, temperature=value):
            self._refresh()

    def _on_head_count(self, _row: int) -> None:
        self.controller.set_settings(num_heads=self.head_count.currentData())

    def _on_head(self, row: int) -> None:
        self.controller.set_head(row)

    def _on_causal(self, on: bool) -> None:
        self.controller.set_settings(causal=on)

    def _on_positions(self, on: bool) -> None:
        self.controller.set_settings(positions=on)

    # -- model → view ---------------------------------------------------------------------------------
    def _refresh(self, _what=None) -> None:
        scene = self.controller.scene
        s = scene.settings
        with signals_blocked(self.mode), signals_blocked(self.variant), signals_blocked(self.head_count), \
                signals_blocked(self.head), signals_blocked(self.causal), signals_blocked(self.positions):
            self.mode.setCurrentIndex(self.mode.findData(MODEL_MODE if self.model_mode else s.mode))
            self.variant.setCurrentIndex(self.variant.findData(s.variant))
            self.head_count.setCurrentIndex(self.head_count.findData(s.num_heads))
            if self.head.count() != s.num_heads:
                self.head.clear()
                d_head = scene.d_model // s.num_heads
                for h in range(s.num_heads):
                    names = scene.model.dimension_names[h * d_head:(h + 1) * d_head]
                    self.head.addItem(f"Head {h + 1}: {names[0]} … {names[-1]}" if len(names) > 1 else f"Head {h + 1}: {names[0]}")
            self.head.setCurrentIndex(scene.head)
            self.head.setEnabled(s.num_heads > 1)
            self.causal.setChecked(s.causal)
            self.positions.setChecked(s.positions)
        if abs(self.temperature.value() - s.temperature) > 1e-12:
            self.temperature.setValue(s.temperature)
        self.temperature.setEnabled(s.variant != "uniform")
        self._refresh_readout()

    def _refresh_readout(self, _focus: int | None = None) -> None:
        result = self.controller.result()
        if not result.query_words or not result.key_words:
            self.readout.setText("No tokens yet.")
            return
        focus = min(self.controller.scene.focus, len(result.query_words) - 1)
        row = result.weights[focus]
        n_allowed = int(np.count_nonzero(result.mask[focus])) if result.mask is not None else len(row)
        ent = float(result.row_entropy()[focus])
        top = int(np.argmax(row))
        max_ent = math.log(n_allowed) if n_allowed > 1 else 0.0
        self.readout.setText(
            f"“{result.query_words[focus].token.surface}” looks most at “{result.key_words[top].token.surface}” "
            f"({row[top]:.1%}).\nEntropy {ent:.2f} nats of at most {max_ent:.2f} "
            f"({'sharp spotlight' if max_ent and ent < 0.35 * max_ent else 'spread out' if max_ent and ent > 0.8 * max_ent else 'in between'})."
        )
