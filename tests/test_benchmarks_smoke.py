"""The benchmarks run: each section in its quick mode writes valid JSON. No timing is asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _run_section(section: str, tmp_path: Path) -> dict:
    output = tmp_path / f"{section}.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--only", section, "--output", str(output)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["format"] == "attnstudio-benchmarks" and document["quick"] is True
    assert document["machine"]["nproc"] >= 1 and document["machine"]["numpy"]
    result = document["sections"][section]
    assert "error" not in result, result.get("error")
    return result


def _is_summary(stats: dict) -> bool:
    return stats["n"] >= 1 and all(isinstance(stats[k], float) for k in ("median_ms", "p95_ms", "min_ms", "max_ms"))


@pytest.mark.slow
def test_engine_benchmark_runs(tmp_path):
    result = _run_section("engine", tmp_path)
    assert set(result["configs"]) == {"default_threads", "one_thread"}
    for config in result["configs"].values():
        functions = {case["function"] for case in config["cases"]}
        assert functions == {"scaled_dot_product_attention", "multi_head_attention"}
        for case in config["cases"]:
            assert _is_summary(case["stats"]["engine"]) and _is_summary(case["stats"]["two_matmuls"])
            assert case["ratio_vs_two_matmuls"] > 0


@pytest.mark.slow
def test_repaint_benchmark_runs(tmp_path):
    result = _run_section("repaint", tmp_path)
    assert [case["tokens_per_side"] for case in result["cases"]] == [7, 32]
    for case in result["cases"]:
        assert _is_summary(case["latency"]["total"]) and _is_summary(case["engine_recompute"])
        assert case["latency"]["panels_forced_with_repaint"] == {}  # the flush painted all four panels itself
        assert set(case["paint_by_panel"]) >= {"canvas", "heatmap", "inspector", "trace"}


@pytest.mark.slow
def test_startup_benchmark_runs(tmp_path):
    result = _run_section("startup", tmp_path)
    startup = result["startup"]
    assert _is_summary(startup["app"]["total_to_painted"]) and _is_summary(startup["floor"]["total_to_painted"])
    assert startup["ratio"] > 0
    assert result["importtime_app"]["imports_qt"] and result["importtime_app"]["modules"] > 0
    # The data export never loads Qt or pyqtgraph (the reason the CLI imports them lazily).
    cli = result["cli_export"]
    assert cli["imports_qt"] is False and cli["imports_pyqtgraph"] is False
    assert cli["image_export_imports_pyqtgraph"] is False  # a figure needs Qt's painter, not pyqtgraph
    assert cli["lesson_check_imports_qt"] is False and cli["lesson_check_imports_pyqtgraph"] is False


@pytest.mark.slow
def test_export_benchmark_runs(tmp_path):
    result = _run_section("export", tmp_path)
    if result.get("skipped"):
        pytest.skip(result["skipped"])
    formats = result["cases"][0]["formats"]
    assert set(formats) == {"png_1x", "png_4x", "svg", "pdf"}
    assert all(entry["bytes"] > 0 and _is_summary(entry["stats"]["export"]) for entry in formats.values())


@pytest.mark.slow
def test_memory_benchmark_runs(tmp_path):
    result = _run_section("memory", tmp_path)
    peaks = result["peaks"]
    assert {"app_seed", "floor_pyqtgraph_window", "cli_export_json"} <= set(peaks)
    assert all(entry["median_mib"] > 0 for entry in peaks.values())


def test_parse_importtime_reads_python_s_format():
    from benchmarks.startup import parse_importtime

    rows = parse_importtime("import time: self [us] | cumulative | imported package\n"
                            "import time:       120 |        120 |   _io\n"
                            "import time:      4500 |       9000 | numpy\n")
    assert rows == [{"module": "_io", "self_us": 120, "cumulative_us": 120, "depth": 1},
                    {"module": "numpy", "self_us": 4500, "cumulative_us": 9000, "depth": 0}]


def test_summary_and_ratios():
    from benchmarks.common import paired_ratio, ratio, summary

    stats = summary([0.001, 0.002, 0.003])
    assert stats["median_ms"] == 2.0 and stats["n"] == 3 and stats["min_ms"] == 1.0
    assert ratio({"median_ms": 3.0}, {"median_ms": 1.5}) == 2.0
    assert ratio({"median_ms": 3.0}, {"median_ms": 0.0}) is None
    assert paired_ratio([2.0, 4.0, 9.0], [1.0, 2.0, 3.0]) == 2.0
