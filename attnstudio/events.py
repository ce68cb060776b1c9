"""A tiny Qt-free event: models announce changes, views subscribe (the napari pattern, without Qt)."""

from __future__ import annotations

import weakref
from typing import Any, Callable

__all__ = ["Event"]


class Event:
    """A list of callbacks called with the same arguments when the model changes.

    Bound methods are held weakly, so a view that has been deleted is never called (the trap of a
    lambda capturing a dead widget). Plain functions are held strongly.
    """

    def __init__(self) -> None:
        self._callbacks: list[Any] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        if hasattr(callback, "__func__") and hasattr(callback, "__self__"):
            ref = weakref.WeakMethod(callback)
        else:
            ref = lambda cb=callback: cb  # noqa: E731 (a strong "reference" with the same call shape)
        self._callbacks.append(ref)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        self._callbacks = [ref for ref in self._callbacks if ref() not in (None, callback)]

    def emit(self, *args: Any) -> None:
        for ref in list(self._callbacks):
            callback = ref()
            if callback is not None:
                callback(*args)
        self._callbacks = [ref for ref in self._callbacks if ref() is not None]
