"""AttnStudio: a desktop lab for the attention mechanism of transformers."""

from attnstudio._version import __version__

__all__ = ["__version__"]
