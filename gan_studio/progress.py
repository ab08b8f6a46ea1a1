"""A small text progress bar with rate and ETA for the command line (stderr, redrawn at most 10x a second)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "--:--"
    seconds = int(round(max(seconds, 0)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None, width: int = 28) -> None:
        self.label, self.total, self.width = label, total, width
        self.stream = stream or sys.stderr
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.start = time.monotonic()
        # A log file (not a terminal) gets its first line after one interval, so quick jobs print nothing.
        self._last_draw = 0.0 if self.tty else self.start
        self._last_line_len = 0

    def update(self, done: int, total: int | None = None, fraction: float | None = None, eta: float | None = None,
               extra: str = "", force: bool = False) -> None:
        """Redraw for ``done`` items (or an explicit ``fraction`` and ``eta``), throttled unless ``force``."""
        now = time.monotonic()
        interval = 0.1 if self.tty else 5.0  # a log file gets a line every few seconds, not a flood
        if not force and now - self._last_draw < interval:
            return
        self._last_draw = now
        total = total if total is not None else self.total
        elapsed = now - self.start
        if fraction is None and total:
            fraction = done / total
            eta = elapsed * (total - done) / done if done else None
        if fraction is not None:
            filled = int(self.width * min(max(fraction, 0.0), 1.0))
            bar = "#" * filled + "-" * (self.width - filled)
            count = f" {done}/{total}" if total else ""
            line = f"{self.label} [{bar}] {fraction * 100:5.1f}%{count} ETA {format_duration(eta)} {extra}"
        else:
            line = f"{self.label} {done} {format_duration(elapsed)} {extra}"
        line = line.rstrip()
        if self.tty:
            pad = max(self._last_line_len - len(line), 0)
            self.stream.write("\r" + line + " " * pad)
            self._last_line_len = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """Print a line above the bar."""
        if self.tty and self._last_line_len:
            self.stream.write("\r" + " " * self._last_line_len + "\r")
            self._last_line_len = 0
            self._last_draw = 0.0
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self._last_line_len:
            self.stream.write("\n")
            self.stream.flush()
            self._last_line_len = 0
