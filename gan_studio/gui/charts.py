"""A small line chart drawn with QPainter (no charting package): the training curves over steps.

One chart holds a few series sharing an x axis (the step). Long histories are averaged into about two points
per pixel before drawing, so painting stays cheap at any length; the y range ignores the first spikes of a
run (robust percentiles), and optional reference lines mark values such as the 1/2 equilibrium of D.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget


def nice_ticks(lo: float, hi: float, target: int = 4) -> list[float]:
    """Round tick values (1, 2, 5 x 10^k apart) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10)), key=lambda c: abs(math.log(c / raw)))  # nearest nice step
    first = math.ceil(lo / step) * step
    ticks = []
    v = first
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 10000:
        return f"{v / 1000:.0f}k"
    if abs(v) >= 1000:
        return f"{v / 1000:.1f}k".replace(".0k", "k")
    if abs(v) >= 10 or float(v).is_integer():
        return f"{v:.0f}"
    return f"{v:.2f}".rstrip("0").rstrip(".")


class LineChart(QWidget):
    def __init__(self, title: str, series: list[tuple[str, QColor]], y_range: tuple[float, float] | None = None,
                 references: list[tuple[float, str]] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.series = series
        self.fixed_range = y_range
        self.references = references or []
        self.placeholder = "The curves appear once training starts"
        self._steps: list[float] = []
        self._values: list[list[float]] = [[] for _ in series]
        self.setMouseTracking(True)
        self.setMinimumSize(170, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # ------------------------------------------------------------------------------------------- data
    def clear(self) -> None:
        self._steps = []
        self._values = [[] for _ in self.series]
        self.update()

    def append(self, step: float, values: list[float]) -> None:
        self.extend([step], [[v] for v in values])

    def extend(self, steps: list[float], columns: list[list[float]]) -> None:
        """Add points; ``columns[i]`` are the values of series i at ``steps``. A step not after the last one
        (a resumed run replays from its checkpoint) first drops the points from that step on."""
        if not steps:
            return
        if self._steps and steps[0] <= self._steps[-1]:
            keep = int(np.searchsorted(np.asarray(self._steps), steps[0], side="left"))
            self._steps = self._steps[:keep]
            self._values = [v[:keep] for v in self._values]
        self._steps.extend(float(s) for s in steps)
        for mine, new in zip(self._values, columns):
            mine.extend(float(v) for v in new)
        self.update()

    def count(self) -> int:
        return len(self._steps)

    def last(self) -> tuple[float, list[float]] | None:
        if not self._steps:
            return None
        return self._steps[-1], [v[-1] for v in self._values]

    def sizeHint(self) -> QSize:
        return QSize(420, 200)

    # ------------------------------------------------------------------------------------------ layout
    def _legend_labels(self) -> list[str]:
        """'name value' for each series, or just the names when that would not fit on a line of its own."""
        last = self.last()
        names = [name for name, _ in self.series]
        if last is None:
            return names
        full = [f"{name} {last[1][i]:.3f}" for i, name in enumerate(names)]
        fm = self.fontMetrics()
        return full if sum(fm.horizontalAdvance(t) + 28 for t in full) + 20 <= self.width() else names

    def _legend_below_title(self) -> bool:
        """In a narrow chart the legend goes on its own line under the title."""
        fm = self.fontMetrics()
        need = fm.horizontalAdvance(self.title) * 1.1 + 40 + sum(fm.horizontalAdvance(t) + 28 for t in
                                                                 self._legend_labels())
        return need > self.width()

    def _plot_rect(self) -> QRectF:
        fm = self.fontMetrics()
        left = fm.horizontalAdvance("0.000") + 12
        top = fm.height() * (2 if self._legend_below_title() else 1) + 12
        return QRectF(left, top, max(10, self.width() - left - 14), max(10, self.height() - top - fm.height() - 8))

    def _y_range(self, columns: list[np.ndarray]) -> tuple[float, float]:
        if self.fixed_range:
            return self.fixed_range
        data = np.concatenate([c[np.isfinite(c)] for c in columns]) if columns else np.zeros(0)
        if data.size == 0:
            return 0.0, 1.0
        if data.size > 40:  # the first steps of a GAN can spike far above the rest: do not let them rule
            lo, hi = np.percentile(data, [1, 99])
        else:
            lo, hi = float(data.min()), float(data.max())
        lo, hi = float(lo), float(hi)
        if 0 <= lo < 0.25 * hi:
            lo = 0.0  # positive curves near zero: anchor the axis at zero
        if hi - lo < 1e-6:
            lo, hi = lo - 0.5, hi + 0.5
        pad = (hi - lo) * 0.08
        return (lo if lo == 0 else lo - pad), hi + pad

    def _decimated(self, width: float) -> tuple[np.ndarray, list[np.ndarray]]:
        steps = np.asarray(self._steps, dtype=np.float64)
        cols = [np.asarray(v, dtype=np.float64) for v in self._values]
        limit = max(int(width * 2), 2)
        if len(steps) <= limit:
            return steps, cols
        edges = np.linspace(0, len(steps), limit + 1).astype(int)[:-1]
        counts = np.diff(np.append(edges, len(steps)))
        return (np.add.reduceat(steps, edges) / counts,
                [np.add.reduceat(c, edges) / counts for c in cols])

    # ------------------------------------------------------------------------------------------- paint
    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        fm = p.fontMetrics()
        text = pal.color(QPalette.ColorRole.WindowText)
        dim = pal.color(QPalette.ColorRole.PlaceholderText)
        grid = pal.color(QPalette.ColorRole.Midlight)
        p.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))

        # title and legend
        p.setPen(text)
        font = p.font()
        font.setBold(True)
        p.setFont(font)
        p.drawText(QPointF(10, fm.ascent() + 6), self.title)
        font.setBold(False)
        p.setFont(font)
        x = self.width() - 10
        base = fm.ascent() + 6 + (fm.height() + 2 if self._legend_below_title() else 0)
        for label, (name, color) in reversed(list(zip(self._legend_labels(), self.series))):
            w = fm.horizontalAdvance(label)
            x -= w
            p.setPen(text)
            p.drawText(QPointF(x, base), label)
            x -= 14
            p.fillRect(QRectF(x, base - fm.ascent() / 2 - 1, 10, 3), color)
            x -= 14

        rect = self._plot_rect()
        if not self._steps:
            p.setPen(QPen(grid, 1))
            p.drawRect(rect)
            p.setPen(dim)
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            p.end()
            return
        steps, cols = self._decimated(rect.width())
        y0, y1 = self._y_range(cols)
        s0, s1 = float(steps[0]), float(steps[-1])
        if s1 <= s0:
            s0, s1 = s0 - 1, s0 + 1

        def sx(s: float) -> float:
            return rect.left() + (s - s0) / (s1 - s0) * rect.width()

        def sy(v: float) -> float:
            return rect.bottom() - (v - y0) / (y1 - y0) * rect.height()

        # grid and axes labels
        for v in nice_ticks(y0, y1, 4):
            y = sy(v)
            p.setPen(QPen(grid, 1))
            p.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            p.setPen(dim)
            p.drawText(QRectF(0, y - fm.height() / 2, rect.left() - 6, fm.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, _fmt(v))
        x_ticks = nice_ticks(s0, s1, max(2, int(rect.width() / 90)))
        step_w = fm.horizontalAdvance("step") + 8
        p.setPen(dim)
        p.drawText(QRectF(rect.left() - step_w - 4, rect.bottom() + 3, step_w, fm.height()),
                   Qt.AlignmentFlag.AlignRight, "step")
        for s in x_ticks:
            xx = sx(s)
            p.setPen(QPen(grid, 1))
            p.drawLine(QPointF(xx, rect.bottom()), QPointF(xx, rect.bottom() + 3))
            w = fm.horizontalAdvance(_fmt(s))
            if xx + w / 2 > self.width() - 2:  # keep the last label inside the widget
                xx = self.width() - 2 - w / 2
            p.setPen(dim)
            p.drawText(QRectF(xx - 40, rect.bottom() + 3, 80, fm.height()), Qt.AlignmentFlag.AlignHCenter, _fmt(s))

        # reference lines
        for value, label in self.references:
            if y0 <= value <= y1:
                y = sy(value)
                p.setPen(QPen(dim, 1.2, Qt.PenStyle.DashLine))
                p.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
                p.setPen(dim)
                p.drawText(QPointF(rect.left() + 6, y - 4), label)

        # the curves, clipped to the plot
        p.save()
        p.setClipRect(rect.adjusted(-1, -1, 1, 1))
        for (name, color), values in zip(self.series, cols):
            ok = np.isfinite(values)
            if not ok.any():
                continue
            poly = QPolygonF([QPointF(sx(s), sy(v)) for s, v in zip(steps[ok], values[ok])])
            p.setPen(QPen(color, 1.8))
            if len(poly) == 1:
                p.drawEllipse(poly[0], 2.5, 2.5)
            else:
                path = QPainterPath()
                path.addPolygon(poly)
                p.drawPath(path)
        p.restore()
        p.end()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        rect = self._plot_rect()
        if not self._steps or not rect.contains(event.position()):
            QToolTip.hideText()
            return
        s0, s1 = self._steps[0], self._steps[-1]
        target = s0 + (event.position().x() - rect.left()) / rect.width() * max(s1 - s0, 1)
        i = int(np.clip(np.searchsorted(np.asarray(self._steps), target), 0, len(self._steps) - 1))
        lines = [f"step {int(self._steps[i]):,}"] + [f"{name}: {vals[i]:.4f}"
                                                      for (name, _), vals in zip(self.series, self._values)]
        QToolTip.showText(event.globalPosition().toPoint(), "\n".join(lines), self)
