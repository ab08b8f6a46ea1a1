"""Helpers for the GUI tests: drop files on a widget as a user would, a small training config and form."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication


def drop_urls(widget, paths_or_urls) -> tuple[QDragEnterEvent, QDropEvent]:
    """Drag ``paths_or_urls`` over ``widget`` and drop them, as the window system would deliver it."""
    mime = QMimeData()
    mime.setUrls([u if isinstance(u, QUrl) else QUrl.fromLocalFile(str(u)) for u in paths_or_urls])
    pos = widget.rect().center()
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    if enter.isAccepted():
        QApplication.sendEvent(widget, drop)
    return enter, drop


def small_config(source, steps: int = 40, **train):
    from gan_studio.config import RunConfig

    cfg = RunConfig()
    cfg.data.source = str(source)
    cfg.data.res, cfg.model.width = 32, 8
    cfg.train.batch = 8
    cfg.train.steps = steps
    cfg.train.sample_every = 10
    cfg.train.preview_n = 16
    for k, v in train.items():
        setattr(cfg.train, k, v)
    return cfg


def set_small_form(form, steps: int = 2000) -> None:
    from gan_studio.gui.training_form import _select

    _select(form.model, "dcgan")
    _select(form.res, 32)
    form.width_spin.setValue(8)
    form.batch.setValue(8)
    form.by_steps.setChecked(True)
    form.steps.setValue(steps)
    _select(form.device, "cpu")


def start_small_training(window, qtbot, folder):
    """Open ``folder``, start a long small run from the form, and wait for its first statistics; the panel."""
    window.open_folder(folder)
    qtbot.waitUntil(lambda: window.dataset.summary is not None and not window.dataset.is_busy(), timeout=60000)
    t = window.training
    set_small_form(t.form, steps=100_000)
    with qtbot.waitSignal(t.run_started, timeout=60000):
        t.start()
    qtbot.waitUntil(lambda: t.loss_chart.count() >= 1, timeout=60000)
    return t


@contextlib.contextmanager
def one_torch_thread():
    """The tests' models are tiny: one intra-op thread is as fast, and it keeps OpenMP from spinning against
    the GUI thread and other processes on a busy 2-core machine (the engine would take every core; measured
    here under load: setting up one small run took 4 s with one thread and up to 56 s with two)."""
    import torch

    from gan_studio.engine import trainer

    threads, configure = torch.get_num_threads(), trainer.configure_threads
    trainer.configure_threads = lambda **_: torch.set_num_threads(1)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        trainer.configure_threads = configure
        torch.set_num_threads(threads)
