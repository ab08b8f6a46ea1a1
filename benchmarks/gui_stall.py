"""How smooth is the window while training runs flat out on the CPU?

Opens the real main window, loads the demo landscapes, starts a DCGAN 64 training (width 64, batch 64) and,
while it trains, measures the GUI thread's event loop with a 10 ms precise QTimer: every gap between two
ticks beyond the 10 ms period is time the window could not react. Records the worst gap and the 99th
percentile, prints a table and writes benchmarks/results/gui_stall.json. The target: worst gap < 100 ms.

    python benchmarks/gui_stall.py                 # 60 s of measurement (offscreen without a display)
    python benchmarks/gui_stall.py --seconds 20    # quicker
    python benchmarks/gui_stall.py --leave-a-core  # compare: training on one core fewer

The training takes a thread per core that no other program is using (engine/device.py, thread_count): on a quiet
machine every core, so the GUI thread shares them with the training. --leave-a-core trains on one thread fewer,
for comparison, and writes gui_stall_leave_a_core.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="measurement length (default 60)")
    p.add_argument("--res", type=int, default=64)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--every", type=int, default=10,
                   help="checkpoint and save a sample grid every this many steps (and check quality every twice as "
                        "many), so that the measurement also covers those events (default 10)")
    p.add_argument("--leave-a-core", action="store_true", help="train on one thread fewer than the engine chooses")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    results = ROOT / "benchmarks" / "results"
    args.out = args.out or results / ("gui_stall_leave_a_core.json" if args.leave_a_core else "gui_stall.json")

    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    runs = tempfile.TemporaryDirectory(prefix="gan-studio-bench-runs-")
    os.environ["GAN_STUDIO_RUNS"] = runs.name  # the benchmark's run does not land among the user's runs

    from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEventLoop, QSettings, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName("GAN Studio Benchmarks")
    QCoreApplication.setApplicationName("gui-stall")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, runs.name)
    app = QApplication([sys.argv[0]])
    from gan_studio.gui.main_window import MainWindow
    from gan_studio.gui.style import apply_style
    from gan_studio.gui.training_form import _select

    if args.leave_a_core:
        import torch

        import gan_studio.engine.trainer as trainer_module

        choose = trainer_module.configure_threads

        def one_fewer(**kwargs) -> int:
            n = max(1, choose(**kwargs) - 1)
            torch.set_num_threads(n)
            return n

        trainer_module.configure_threads = one_fewer

    apply_style(app)
    window = MainWindow()
    window.resize(1280, 800)
    window.show()

    def wait_until(cond, timeout: float) -> None:
        t0 = time.monotonic()
        while not cond():
            app.processEvents()
            time.sleep(0.005)
            if time.monotonic() - t0 > timeout:
                raise SystemExit("timed out while preparing the benchmark")

    window.start_engine()
    wait_until(lambda: window.engine_ready, 120)
    window.open_demo()
    wait_until(lambda: window.dataset.summary is not None and not window.dataset.is_busy(), 300)
    form = window.training.form
    _select(form.model, "dcgan")
    _select(form.res, args.res)
    form.width_spin.setValue(args.width)
    form.batch.setValue(args.batch)
    form.by_minutes.setChecked(True)
    form.minutes.setValue(args.seconds / 60 + 5)
    _select(form.device, "cpu")
    to_config = form.to_config

    def with_events(summary, device_type="cpu"):  # the product's config, plus frequent checkpoints and grids
        cfg = to_config(summary, device_type)
        cfg.train.checkpoint_every = cfg.train.sample_every = args.every
        if hasattr(cfg.train, "quality_every"):  # the engine's quality check (SWD, best snapshot), when it has one
            cfg.train.quality_every = 2 * args.every
        return cfg

    form.to_config = with_events
    window.tabs.setCurrentIndex(1)  # watching it learn: preview and charts repaint as events arrive
    started = []
    window.training.run_started.connect(lambda path: started.append(path))
    window.training.start()
    wait_until(lambda: started, 300)

    counts = {"stats_batches": 0, "previews": 0, "checkpoints": 0}
    window.training.session.worker.checkpoint.connect(
        lambda step, path: counts.__setitem__("checkpoints", counts["checkpoints"] + 1))
    window.training.session.worker.stats.connect(
        lambda b: counts.__setitem__("stats_batches", counts["stats_batches"] + 1))
    window.training.preview_shown.connect(lambda s: counts.__setitem__("previews", counts["previews"] + 1))
    ticks: list[int] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(clock.nsecsElapsed()))
    loop = QEventLoop()  # not app.exec(): quitting the app would close the window, which asks first
    done = QTimer()
    done.setSingleShot(True)
    done.timeout.connect(loop.quit)
    load_before = os.getloadavg()
    clock.start()
    timer.start()
    done.start(int(args.seconds * 1000))
    loop.exec()
    timer.stop()
    load_after = os.getloadavg()
    threads = window.training.session.worker.trainer.threads  # as the engine chose them, on its own thread
    last = window.training.loss_chart.last()
    rate = window.training.progress.format()

    window.confirm_close_during_training = lambda: True
    window.training.stop()
    window.shutdown()

    import numpy as np

    gaps = np.diff(np.asarray(ticks, dtype=np.float64)) / 1e6  # ms between ticks
    result = {
        "what": "GUI event-loop gaps (ms) between ticks of a 10 ms QTimer while DCGAN trains on the CPU",
        "seconds": args.seconds,
        "ticks": int(len(ticks)),
        "worst_gap_ms": round(float(gaps.max()), 1),
        "p99_gap_ms": round(float(np.percentile(gaps, 99)), 1),
        "p999_gap_ms": round(float(np.percentile(gaps, 99.9)), 1),
        "median_gap_ms": round(float(np.median(gaps)), 2),
        "gaps_over_50ms": int((gaps > 50).sum()),
        "gaps_over_100ms": int((gaps > 100).sum()),
        "target_worst_gap_ms": 100,
        "met": bool(gaps.max() < 100),
        "training": {"model": "dcgan", "res": args.res, "width": args.width, "batch": args.batch,
                     "last_step_logged": int(last[0]) if last else None, "progress_text": rate,
                     "stats_batches_received": counts["stats_batches"], "previews_shown": counts["previews"],
                     "checkpoints_saved": counts["checkpoints"], "checkpoint_and_sample_every": args.every},
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "qt_platform": app.platformName(),
                    "threads_of_the_training": threads,
                    "leave_a_core": args.leave_a_core,
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in load_after]},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'measure':<28}{'value':>12}")
    for key in ("seconds", "ticks", "median_gap_ms", "p99_gap_ms", "p999_gap_ms", "worst_gap_ms", "gaps_over_50ms",
                "gaps_over_100ms"):
        print(f"{key:<28}{result[key]:>12}")
    print(f"{'training':<28}{rate:>12}")
    print(f"{'previews / checkpoints':<28}{counts['previews']:>6} / {counts['checkpoints']:<4}")
    print(f"{'load average (1 min) after':<28}{load_after[0]:>12.2f}")
    print(f"{'training threads':<28}{threads:>12}")
    print(f"target worst gap < 100 ms: {'met' if result['met'] else 'NOT met'}  ->  {args.out}")
    runs.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
