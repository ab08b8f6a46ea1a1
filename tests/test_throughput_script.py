"""benchmarks/throughput.py end to end on a tiny budget: both loops run, the ratio and the memory are reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_throughput_benchmark_writes_every_row(tmp_path):
    out = tmp_path / "throughput.json"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "throughput.py"), "--rows", "dcgan32",
                          "--seconds", "0.5", "--warmup", "1", "--batch", "8", "--device", "cpu", "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["meta"]["peak_gflops"] > 0
    (row,) = result["rows"]
    assert row["row"] == "dcgan32" and "error" not in row["ours"] and "error" not in row["classic"]
    assert row["ours"]["images_per_s"] > 0 and row["classic"]["images_per_s"] > 0
    assert row["ratio"] == pytest.approx(row["ours"]["images_per_s"] / row["classic"]["images_per_s"])
    assert row["ours"]["peak_rss_mb"] > 100 and row["ours"]["flops_per_image"] > 1e7
    assert "dcgan32" in run.stdout
