"""Sentence entry: the source and target sentences, example pairs, and the tokens shown as chips."""

from __future__ import annotations

from importlib import resources

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from attnstudio.gui.controller import Controller
from attnstudio.gui.widgets import FlowLayout, signals_blocked
from attnstudio.toml_cache import load_toml

__all__ = ["SentencePanel", "example_pairs"]

MAX_CHIPS = 200


def example_pairs() -> list[dict[str, str]]:
    """The example sentence pairs shipped in ``data/examples.toml``."""
    text = resources.files("attnstudio").joinpath("data", "examples.toml").read_text(encoding="utf-8")
    return list(load_toml(text, "examples.toml", "examples")["examples"])  # a JSON copy: no TOML parser at start


class TokenChip(QToolButton):
    """One token as a small rounded label; unknown words are flagged, the focused query is marked."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setText(text)
        self.setAutoRaise(False)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)


class TokenChips(QWidget):
    """The tokens of one sentence, as chips under the text field."""

    chip_clicked = Signal(int)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName(name)
        self._layout = FlowLayout(self, spacing=4)
        self._chips: list[TokenChip] = []
        self._signature: tuple = ()
        self._clickable = False

    def set_tokens(self, words, focus: int | None, clickable: bool) -> None:
        """Show these tokens. Chips are reused: typing one letter restyles one chip, not the whole row."""
        signature = tuple((w.token.surface, w.kind) for w in words) + (focus, clickable)
        if signature == self._signature:
            return
        self._signature = signature
        self._clickable = clickable
        shown = words[:MAX_CHIPS]  # beyond this a chip row helps no one; the canvas shows all
        wanted = [(w.token.surface, _chip_tooltip(w), w.kind, focus == i) for i, w in enumerate(shown)]
        if len(words) > MAX_CHIPS:
            wanted.append((f"… +{len(words) - MAX_CHIPS}", "", "more", False))
        self.setUpdatesEnabled(False)
        try:
            while len(self._chips) > len(wanted):
                chip = self._chips.pop()
                self._layout.removeWidget(chip)
                chip.deleteLater()
            while len(self._chips) < len(wanted):
                chip = TokenChip("", self)
                chip.setObjectName(f"{self.objectName()}_{len(self._chips)}")
                chip.clicked.connect(self._on_chip_clicked)
                self._layout.addWidget(chip)
                self._chips.append(chip)
            for i, (chip, state) in enumerate(zip(self._chips, wanted)):
                if chip.property("state") != state:
                    self._style_chip(chip, i, *state)
        finally:
            self.setUpdatesEnabled(True)
        self.updateGeometry()

    @staticmethod
    def _style_chip(chip: "TokenChip", index: int, text: str, tip: str, kind: str, focused: bool) -> None:
        chip.setProperty("state", (text, tip, kind, focused))
        chip.setText(text)
        chip.setToolTip(tip)
        chip.setAccessibleName(f"token {index + 1}: {text}" if kind != "more" else f"{text} more tokens")
        chip.setAccessibleDescription(tip)
        chip.setProperty("kind", kind)
        chip.setProperty("focused", focused)
        chip.setStyleSheet(_chip_style(kind, focused))
        chip.setEnabled(kind != "more")

    def _on_chip_clicked(self) -> None:
        chip = self.sender()
        if self._clickable and chip in self._chips:
            self.chip_clicked.emit(self._chips.index(chip))

    def chips(self) -> list[TokenChip]:
        return list(self._chips)


def _chip_tooltip(word) -> str:
    if word.kind == "unknown":
        return f"“{word.token.surface}” is not in the lexicon: it gets a made-up but fixed vector."
    if word.kind == "punctuation":
        return f"“{word.token.surface}” is punctuation: a token like any other."
    return f"“{word.token.surface}” → concept “{word.concept}” ({word.kind})"


def _chip_style(kind: str, focused: bool) -> str:
    border = "2px dashed #d1495b" if kind == "unknown" else "1px solid palette(mid)"
    if focused:
        border = "2px solid palette(highlight)"
    weight = "bold" if focused else "normal"
    return (f"QToolButton {{ border: {border}; border-radius: 8px; padding: 1px 7px; font-weight: {weight}; }}"
            "QToolButton:focus { border: 2px solid palette(highlight); }")


class SentencePanel(QWidget):
    """The two sentence fields with their chips, and a choice of example pairs."""

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sentencePanel")
        self.setAccessibleName("Sentences")
        self.controller = controller
        self._examples = example_pairs()

        self.example_selector = QComboBox(self)
        self.example_selector.setObjectName("exampleSelector")
        self.example_selector.setAccessibleName("Example sentence pairs")
        self.example_selector.setToolTip("Pick a ready-made sentence pair to explore.")
        self.example_selector.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.example_selector.setMinimumContentsLength(16)  # long pairs are elided, not forcing the dock wide
        self.example_selector.addItem("Examples…")
        for ex in self._examples:
            self.example_selector.addItem(f"{ex['source']}  →  {ex['target']}")
        self.example_selector.activated.connect(self._on_example)

        self.source_edit = self._make_edit("sourceSentenceEdit", "Source sentence (French)",
                                           "The sentence being translated. Its words give the keys and values: what can be looked at.")
        self.target_edit = self._make_edit("targetSentenceEdit", "Target sentence (English)",
                                           "The translation. Each of its words asks a query: what in the source should I look at?")
        self.source_chips = TokenChips("sourceTokens", self)
        self.target_chips = TokenChips("targetTokens", self)
        self.source_chips.chip_clicked.connect(self._on_source_chip)
        self.target_chips.chip_clicked.connect(self.controller.set_focus)
        self.source_label = QLabel("&Source (French)", self)
        self.source_label.setBuddy(self.source_edit)
        self.target_label = QLabel("&Target (English)", self)
        self.target_label.setBuddy(self.target_edit)
        self.status = QLabel(self)
        self.status.setObjectName("sentenceStatus")
        self.status.setAccessibleName("Sentence status")
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.source_label, self._stack(self.source_edit, self.source_chips))
        form.addRow(self.target_label, self._stack(self.target_edit, self.target_chips))
        top = QHBoxLayout()
        top.addWidget(self.example_selector, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addStretch(1)

        controller.scene_changed.connect(self._on_scene_changed)
        controller.focus_changed.connect(self._on_focus_changed)
        self._refresh()

    def _make_edit(self, name: str, accessible: str, tip: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(name)
        edit.setAccessibleName(accessible)
        edit.setToolTip(tip)
        edit.setClearButtonEnabled(True)
        edit.setPlaceholderText("Type a sentence…")
        edit.textEdited.connect(self._on_text_edited)
        edit.editingFinished.connect(self.controller.end_merge)
        return edit

    @staticmethod
    def _stack(edit: QLineEdit, chips: QWidget) -> QWidget:
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(3)
        v.addWidget(edit)
        v.addWidget(chips)
        return box

    # -- view → controller ----------------------------------------------------------------------------
    def _on_text_edited(self, text: str) -> None:
        side = "source" if self.sender() is self.source_edit else "target"
        if self.controller.set_sentence(side, text):
            self._show_status()
        else:
            self.status.setText("⚠ The sentence is too long; it was not applied. Shorten it.")

    def _on_example(self, row: int) -> None:
        if row <= 0:
            return
        ex = self._examples[row - 1]
        self.controller.end_merge()
        self.controller.undo_stack.beginMacro(f"Use example “{ex['target']}”")
        self.controller.set_sentence("source", ex["source"])
        self.controller.set_sentence("target", ex["target"])
        if self.controller.scene.settings.mode != "translation":
            self.controller.set_settings(mode="translation")
        self.controller.undo_stack.endMacro()
        self.controller.end_merge()
        with signals_blocked(self.example_selector):
            self.example_selector.setCurrentIndex(0)

    def _on_source_chip(self, index: int) -> None:
        if self.controller.scene.query_side() == "source":
            self.controller.set_focus(index)

    # -- model → view ---------------------------------------------------------------------------------
    def _on_scene_changed(self, what) -> None:
        if what & {"sentences", "settings"}:
            self._refresh()

    def _on_focus_changed(self, _index: int) -> None:
        self._refresh_chips()

    def _refresh(self) -> None:
        scene = self.controller.scene
        for edit, side in ((self.source_edit, "source"), (self.target_edit, "target")):
            if edit.text() != scene.sentence(side):
                with signals_blocked(edit):
                    edit.setText(scene.sentence(side))
                    if not edit.hasFocus():
                        edit.setCursorPosition(0)  # a sentence too long for the field shows its start, not its end
        translation = scene.settings.mode == "translation"
        for w in (self.target_label, self.target_edit, self.target_chips):
            w.setVisible(translation)
        self.source_label.setText("&Source (French)" if translation else "&Sentence")
        self._refresh_chips()
        self._show_status()

    def _refresh_chips(self) -> None:
        scene = self.controller.scene
        q_side = scene.query_side()
        self.source_chips.set_tokens(scene.tokens("source").words, scene.focus if q_side == "source" else None,
                                     clickable=q_side == "source")
        self.target_chips.set_tokens(scene.tokens("target").words, scene.focus if q_side == "target" else None,
                                     clickable=True)

    def _show_status(self) -> None:
        scene = self.controller.scene
        sides = ["source", "target"] if scene.settings.mode == "translation" else ["source"]
        notes = []
        for side in sides:
            words = scene.tokens(side).words
            if not words:
                notes.append(f"The {'sentence' if side == 'source' else 'target'} is empty: type a few words to see attention.")
            unknown = [w.token.surface for w in words if w.kind == "unknown"]
            if unknown:
                shown = ", ".join(unknown[:6]) + ("…" if len(unknown) > 6 else "")
                notes.append(f"Not in the lexicon: {shown} (dashed chips).")
        self.status.setText("  ".join(notes))
