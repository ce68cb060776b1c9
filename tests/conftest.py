"""Shared test set-up. Tests never need a display: Qt runs on its offscreen platform."""

from __future__ import annotations

import os

# Set before any Qt import (pytest-qt creates the QApplication lazily, after conftest is imported).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep QSettings, progress and autosave of the tests away from the person's real ones.
os.environ.setdefault("ATTNSTUDIO_TEST_MODE", "1")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Each test gets its own config/data/cache folders (QStandardPaths follows XDG_* on Linux)."""
    home = tmp_path_factory.mktemp("home")
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_CACHE_HOME", "cache"), ("XDG_STATE_HOME", "state")):
        folder = home / sub
        folder.mkdir()
        monkeypatch.setenv(var, str(folder))
    yield


@pytest.fixture
def window(qtbot):
    """The real main window, shown offscreen and exposed; closed without the unsaved-changes prompt."""
    from PySide6.QtCore import QSettings

    from attnstudio.gui.app import make_application
    from attnstudio.gui.main_window import MainWindow

    make_application()
    settings = QSettings(str(qtbot_tmp_settings_path()), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win, before_close_func=_forget_changes)
    win.resize(1280, 800)  # the offscreen screen is 800×600; the window is designed for 1280×800 and up
    win.show()
    qtbot.waitExposed(win)
    yield win
    _forget_changes(win)
    win.close()


def _forget_changes(win):
    """Closing the test window must not stop on the unsaved-changes question."""
    win.controller.undo_stack.setClean()
    win.setWindowModified(False)
    win.autosaver.discard()


def qtbot_tmp_settings_path():
    import tempfile

    return os.path.join(tempfile.mkdtemp(prefix="attnstudio-settings-"), "settings.ini")
