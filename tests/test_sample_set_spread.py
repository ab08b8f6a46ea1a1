"""The sample-set spread benchmark: its resampled miss rates, the shared-set average, and a run through it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from gan_studio.config import RunConfig
from gan_studio.engine import Trainer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import sample_set_spread as spread  # noqa: E402


def test_readings_that_never_vary_never_miss_and_wide_ones_often_do():
    assert spread.miss_rates(np.full(15, 21.0)) == {"exact": 0.0, "nine": 0.0, "ten_vs_nine": 0.0}
    # readings of 15 or 27: a mean of three is 15, 19, 23 or 27, never within 1.5 of their mean, 21
    p = spread.miss_rates(np.array([15.0, 27.0] * 8))
    assert p["exact"] == 1.0 and 0.5 < p["nine"] < 1
    # a mean of nine is itself noisy, so it misses more often than the exact mean does; ten sets miss less
    p = spread.miss_rates(np.random.default_rng(1).normal(20, 1.5, 40))
    assert 0 < p["ten_vs_nine"] < p["exact"] < p["nine"] < 0.5


def test_a_set_that_reads_low_in_every_snapshot_shows_as_shared():
    rng = np.random.default_rng(0)
    runs = {}
    for r in range(6):
        rows = rng.normal(20 + r, 0.3, (10, 4))
        rows[2] -= 2.0  # set 2 reads low whatever the snapshot
        runs[f"r{r}"] = rows.tolist()
    shared = spread.shared_sets(runs)
    dev, se = np.array(shared["mean_deviation"]), np.array(shared["standard_error"])
    assert dev[2] == pytest.approx(-1.8, abs=0.3) and se[2] < 0.3
    assert np.all(abs(np.delete(dev, 2)) < 0.6)
    assert len(shared["level_3_mean_deviation"]) == 10 and shared["level_3_mean_deviation"][2] < -1
    # a 128 px run has a level more: it counts in the overall figure, and the levels are read among the 64 px runs
    runs["big"] = rng.normal(28, 0.3, (12, 5)).tolist()
    shared = spread.shared_sets(runs)
    assert shared["runs"] == 7 and shared["level_runs"] == 6 and shared["sets"] == 10
    assert "level_4_mean_deviation" not in shared and shared["mean_deviation"][2] < -1.2


def test_the_benchmark_reads_a_finished_run_and_writes_its_table(landscapes32, tmp_path, monkeypatch, capsys):
    cfg = RunConfig()
    cfg.data.source, cfg.data.res = str(landscapes32), 32
    cfg.model.name, cfg.model.width = "fastgan", 8
    t = cfg.train
    t.batch, t.steps, t.log_every, t.sample_every, t.checkpoint_every, t.quality_every = 8, 6, 2, 100, 3, 3
    list(Trainer.new(cfg, out=tmp_path / "run").run())
    out = tmp_path / "spread.json"
    monkeypatch.setattr(sys, "argv", ["sample_set_spread.py", f"a={tmp_path / 'run'}=3", f"b={tmp_path / 'run'}=3",
                                      "--out", str(out)])
    spread.main()
    doc = json.loads(out.read_text())
    a, b = doc["runs"]["a"], doc["runs"]["b"]
    assert len(a["readings"]) == 3 and len(a["readings"][0]) == 1 + 2  # mean and the 32 / 16 px levels
    assert a["readings"] == b["readings"]  # the sampler's sets and the patch draws are seeded: reproducible
    assert a["ref3_sets"] == pytest.approx(np.mean([r[0] for r in a["readings"]]), abs=2e-3)
    assert doc["shared_sets"]["standard_error"] == [0.0, 0.0, 0.0]
    assert "P exact" in capsys.readouterr().out
    # the statistics again from the stored readings alone
    again = tmp_path / "again.json"
    monkeypatch.setattr(sys, "argv", ["sample_set_spread.py", "--restat", str(out), "--out", str(again)])
    spread.main()
    assert json.loads(again.read_text()) == doc
