"""The desktop integration files, the icon and the PyInstaller spec are coherent with the package.

No display and no network: the files are parsed, the icons decoded with Qt offscreen, and the install
script run into a temporary XDG_DATA_HOME.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import importlib.util
import os
import re
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from importlib.resources import files
from pathlib import Path

import pytest

import attnstudio

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "io.github.attnstudio.AttnStudio"
LINUX = ROOT / "resources" / "linux"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
MIME = LINUX / f"{APP_ID}.mime.xml"
SPEC = ROOT / "packaging" / "attnstudio.spec"
INSTALL = ROOT / "packaging" / "install-desktop.sh"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
SCENE_MIME = "application/x-attnstudio-scene"


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # desktop-entry keys are case-sensitive
    parser.read_string(DESKTOP.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def console_script() -> str:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert len(scripts) == 1, f"expected one console script, found {sorted(scripts)}"
    return next(iter(scripts))


def icon_dir():
    return files("attnstudio") / "data" / "icons"


# --- the desktop entry and the file type -------------------------------------------------------------


def test_desktop_entry_launches_the_console_script_with_our_icon_and_type():
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "AttnStudio"
    assert entry["Exec"] == f"{console_script()} %f"
    assert entry["TryExec"] == console_script()
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    assert [c for c in entry["Categories"].split(";") if c] == ["Education", "Science"]
    assert entry["Categories"].endswith(";") and entry["MimeType"].endswith(";"), "list values end with ';'"
    assert entry["MimeType"].rstrip(";").split(";") == [SCENE_MIME]
    # Qt's X11 windows get WM_CLASS = applicationName, which docks use to match the window to this entry.
    assert entry["StartupWMClass"] == "AttnStudio"


def test_mime_type_claims_scene_files_and_not_other_json():
    root = ET.parse(MIME).getroot()
    assert root.tag == f"{MIME_NS}mime-info"
    types = root.findall(f"{MIME_NS}mime-type")
    assert [t.get("type") for t in types] == [SCENE_MIME]
    (scene,) = types
    assert scene.find(f"{MIME_NS}sub-class-of").get("type") == "application/json"
    globs = [g.get("pattern") for g in scene.findall(f"{MIME_NS}glob")]
    assert globs == ["*.attn.json"]
    assert fnmatch.fnmatch("black cat.attn.json", globs[0])
    assert not fnmatch.fnmatch("weights.json", globs[0])
    matches = [m.get("value") for m in scene.iter(f"{MIME_NS}match")]
    from attnstudio.scene import SCENE_FORMAT

    assert matches == [SCENE_FORMAT], "the magic must be the format tag the scene writer puts in every file"


# --- AppStream metainfo ------------------------------------------------------------------------------


def test_metainfo_describes_the_app_and_points_at_the_desktop_entry():
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("name") == "AttnStudio"
    summary = root.findtext("summary")
    assert summary and len(summary) <= 80 and not summary.endswith("."), "AppStream: a short summary, no full stop"
    assert root.find("description/p") is not None and root.find("description/p").text.strip()
    launchable = root.find("launchable")
    assert launchable.get("type") == "desktop-id" and launchable.text == DESKTOP.name
    assert root.findtext("provides/binary") == console_script()
    assert root.findtext("provides/mediatype") == SCENE_MIME
    assert root.find("content_rating").get("type", "").startswith("oars-")
    assert root.findtext("project_license") == "MIT"


def test_metainfo_newest_release_is_the_package_version():
    releases = ET.parse(METAINFO).getroot().findall("releases/release")
    assert releases, "metainfo has no <release>"
    newest = releases[0]
    assert newest.get("version") == attnstudio.__version__, (
        f"metainfo's newest release is {newest.get('version')} but attnstudio/_version.py says "
        f"{attnstudio.__version__}: add a <release> at the top of {METAINFO.name}")
    dates = [r.get("date") for r in releases]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d or "") for d in dates), dates
    assert dates == sorted(dates, reverse=True), "releases are listed newest first"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_file_validate_accepts_the_entry():
    proc = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Hints are advice; errors and warnings are not tolerated.
    assert "error:" not in proc.stdout and "warning:" not in proc.stdout, proc.stdout


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream not installed")
def test_appstreamcli_validates_the_metainfo():
    proc = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- the icon ----------------------------------------------------------------------------------------


def test_icon_svg_is_package_data_and_renders(qapp):
    from PySide6.QtSvg import QSvgRenderer

    svg = icon_dir() / "attnstudio.svg"
    assert svg.is_file()
    renderer = QSvgRenderer(svg.read_bytes())
    assert renderer.isValid()
    box = renderer.viewBoxF()
    assert box.width() == box.height() > 0, "an app icon is square"


@pytest.mark.parametrize("size", ICON_SIZES)
def test_icon_png_has_its_size_and_a_transparent_corner(qapp, size):
    from PySide6.QtGui import QImage

    png = icon_dir() / f"attnstudio-{size}.png"
    assert png.is_file(), f"missing {png.name}: run packaging/render_icons.py"
    image = QImage.fromData(png.read_bytes(), "PNG")
    assert not image.isNull()
    assert (image.width(), image.height()) == (size, size)
    assert image.hasAlphaChannel()
    assert image.pixelColor(0, 0).alpha() == 0, "the rounded tile leaves the corners transparent"
    assert image.pixelColor(size // 2, size // 2).alpha() == 255


def test_icon_pngs_are_up_to_date_with_the_svg(qapp):
    spec = importlib.util.spec_from_file_location("render_icons", ROOT / "packaging" / "render_icons.py")
    render_icons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render_icons)
    assert render_icons.SIZES == ICON_SIZES
    assert render_icons.main(["--check"]) == 0, "the PNGs are stale: run packaging/render_icons.py"


def test_application_icon_offers_small_and_large_pixmaps(qapp):
    from attnstudio.gui.app import ICON_SIZES as APP_SIZES
    from attnstudio.gui.app import application_icon

    assert APP_SIZES == ICON_SIZES
    icon = application_icon()
    assert not icon.isNull()
    for size in (16, 512):
        pixmap = icon.pixmap(size, size)
        assert (pixmap.width(), pixmap.height()) == (size, size)


# --- the per-user install script ---------------------------------------------------------------------


def _run_install(data_home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_DATA_HOME": str(data_home)}
    return subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, env=env, timeout=60)


def _installed_paths(data_home: Path) -> list[Path]:
    paths = [data_home / "applications" / DESKTOP.name,
             data_home / "metainfo" / METAINFO.name,
             data_home / "mime" / "packages" / f"{APP_ID}.xml",
             data_home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"]
    paths += [data_home / "icons" / "hicolor" / f"{s}x{s}" / "apps" / f"{APP_ID}.png" for s in ICON_SIZES]
    return paths


def test_install_script_installs_everything_and_uninstalls_it(tmp_path):
    data_home = tmp_path / "share"
    proc = _run_install(data_home)
    assert proc.returncode == 0, proc.stderr
    for path in _installed_paths(data_home):
        assert path.is_file(), f"not installed: {path.relative_to(data_home)}"
    assert (data_home / "applications" / DESKTOP.name).read_text() == DESKTOP.read_text()
    size_48 = data_home / "icons" / "hicolor" / "48x48" / "apps" / f"{APP_ID}.png"
    assert size_48.read_bytes() == (icon_dir() / "attnstudio-48.png").read_bytes()

    proc = _run_install(data_home, "--uninstall")
    assert proc.returncode == 0, proc.stderr
    assert not any(path.exists() for path in _installed_paths(data_home))


def test_install_script_points_the_entry_at_a_given_executable(tmp_path):
    app = tmp_path / "My Apps" / "AttnStudio"
    app.parent.mkdir()
    app.write_text("#!/bin/sh\n")
    app.chmod(0o755)
    data_home = tmp_path / "share"
    proc = _run_install(data_home, "--exec", str(app))
    assert proc.returncode == 0, proc.stderr
    text = (data_home / "applications" / DESKTOP.name).read_text()
    assert f'Exec="{app}" %f\n' in text, "a path with a space must be quoted in Exec="
    assert f"TryExec={app}\n" in text
    assert "Icon=" + APP_ID in text

    assert _run_install(tmp_path / "other", "--exec", str(tmp_path / "missing")).returncode != 0


# --- the PyInstaller spec ----------------------------------------------------------------------------


def _spec_tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))


def _path_parts(node: ast.expr) -> list[str]:
    """``ROOT / "a" / "b"`` → ``["a", "b"]``."""
    parts = []
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        parts.insert(0, ast.literal_eval(node.right))
        node = node.left
    assert isinstance(node, ast.Name) and node.id == "ROOT", ast.unparse(node)
    return parts


def _assignments(tree: ast.Module) -> dict[str, ast.expr]:
    return {node.targets[0].id: node.value for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}


def _analysis_call(tree: ast.Module) -> ast.Call:
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Name) and node.func.id == "Analysis"]
    assert len(calls) == 1
    return calls[0]


def test_spec_bundles_the_entry_point_and_the_package_data():
    tree = _spec_tree()
    assigned = _assignments(tree)
    assert _path_parts(assigned["ENTRY"]) == ["attnstudio", "__main__.py"]
    assert _path_parts(assigned["DATA"]) == ["attnstudio", "data"]
    assert (ROOT.joinpath(*_path_parts(assigned["ENTRY"]))).is_file()
    analysis = _analysis_call(tree)
    assert ast.unparse(analysis.args[0]) == "[str(ENTRY)]"
    keywords = {k.arg: ast.unparse(k.value) for k in analysis.keywords}
    assert keywords["datas"] == "datas"
    assert "DATA.rglob" in ast.unparse(assigned["datas"]), "all of attnstudio/data/** goes in"
    assert "PySide6.QtSvg" in ast.literal_eval(assigned["hiddenimports"])
    names = {ast.literal_eval(k.value) for node in ast.walk(tree) if isinstance(node, ast.Call)
             for k in node.keywords if k.arg == "name"}
    assert names == {"AttnStudio"}, "build.sh runs packaging/dist/AttnStudio/AttnStudio"


def test_spec_excludes_webengine_but_no_qt_module_the_app_or_pyqtgraph_imports():
    assigned = _assignments(_spec_tree())
    unused = set(ast.literal_eval(assigned["qt_unused"]))
    assert {"QtWebEngineCore", "QtWebEngineWidgets", "QtQuick", "QtQml"} <= unused
    used = {"QtCore", "QtGui", "QtWidgets", "QtSvg", "QtOpenGL", "QtOpenGLWidgets", "QtTest"}  # pyqtgraph's
    for source in (ROOT / "attnstudio").rglob("*.py"):
        used |= set(re.findall(r"PySide6\.(Qt\w+)", source.read_text(encoding="utf-8")))
    assert not used & unused, f"the spec excludes Qt modules the app imports: {sorted(used & unused)}"


def test_build_products_are_git_ignored():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    for folder in ("/packaging/build-venv/", "/packaging/build/", "/packaging/dist/"):
        assert folder in ignored
