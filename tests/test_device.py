"""Choosing the CPU thread count: a thread per core that nothing else is using."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import torch

from gan_studio.engine.device import configure_threads, cores_busy_elsewhere, thread_count


def test_thread_count_leaves_the_cores_other_programs_use():
    assert thread_count(2, 0.0) == 2
    assert thread_count(2, 0.3) == 2  # a little background noise does not cost a core
    assert thread_count(2, 0.8) == 1
    assert thread_count(2, 6.0) == 1  # never fewer than one
    assert thread_count(16, 3.4) == 13
    assert thread_count(8, None) == 8  # unknown (no /proc): every core, as before
    assert thread_count(0, None) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_another_busy_program_is_seen():
    spinner = subprocess.Popen([sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 20: pass"])
    try:
        time.sleep(0.5)
        assert cores_busy_elsewhere(0.5) >= 0.5  # the spinner takes a whole core
    finally:
        spinner.kill()
        spinner.wait()


def test_omp_num_threads_is_respected(monkeypatch):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert configure_threads() == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_gpu_training_skips_the_look_and_a_recent_look_is_reused(monkeypatch):
    import gan_studio.engine.device as device

    looks = []
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(device, "cores_busy_elsewhere", lambda: looks.append(1) or 0.0)
    monkeypatch.setattr(device, "_recent_sample", None)
    before = torch.get_num_threads()
    try:
        device.configure_threads(sample=False)
        assert looks == []
        device.configure_threads()
        device.configure_threads()
        assert len(looks) == (1 if len(os.sched_getaffinity(0)) > 1 else 0)  # one core: nothing to share
    finally:
        torch.set_num_threads(before)
