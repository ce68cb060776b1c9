"""The Model workspace's undoable edits: drag a real head's query, propagate the edits to the layers above.

Undo recomputes from the remembered query, so the weights come back exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtGui import QUndoCommand

from attnstudio.gui.errors import guard_overrides

if TYPE_CHECKING:
    from attnstudio.gui.model_panel import ModelPanel

__all__ = ["EditKey", "PropagateCommand", "QueryEditCommand"]

EditKey = tuple[int, int, int]  # (layer, head, token)


@guard_overrides
class QueryEditCommand(QUndoCommand):
    """One drag of one query: from the vector before the drag to where it was let go."""

    ID = 7301

    def __init__(self, panel: ModelPanel, key: EditKey, before: np.ndarray | None, after: np.ndarray,
                 drag_id: int, label: str) -> None:
        super().__init__(label)
        self.panel, self.key, self.before, self.after, self.drag_id = panel, key, before, after, drag_id

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt name)
        if not isinstance(other, QueryEditCommand) or other.drag_id != self.drag_id or other.key != self.key:
            return False
        if self.panel.closed_drag == self.drag_id:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        self.panel._set_edit(self.key, self.after)

    def undo(self) -> None:
        self.panel._set_edit(self.key, self.before)


@guard_overrides
class PropagateCommand(QUndoCommand):
    """Recompute the layers above the edited queries, so the later heads see the change."""

    def __init__(self, panel: ModelPanel, before: dict[EditKey, np.ndarray]) -> None:
        super().__init__("Propagate the edited queries to the layers above")
        self.panel, self.before, self.after = panel, dict(before), dict(panel.edits)

    def redo(self) -> None:
        self.panel._set_propagated(self.after)

    def undo(self) -> None:
        self.panel._set_propagated(self.before)
