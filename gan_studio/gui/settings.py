"""UI state kept between sessions in QSettings: window geometry, splitter sizes, recent folders, last form values.

Only UI state lives here. A run's configuration lives in its run folder (config.json), so the command line can
reproduce any run without this store. Tests point QSettings at a temporary folder (see tests/gui/conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 8


class Settings:
    def __init__(self) -> None:
        self.q = QSettings()

    # ------------------------------------------------------------------------------------- recent folders
    def recent_folders(self) -> list[str]:
        value = self.q.value("recent/folders", [])
        if isinstance(value, str):  # QSettings returns a one-element list as a plain string
            value = [value]
        return [str(v) for v in (value or []) if v]

    def add_recent_folder(self, folder: str | Path) -> list[str]:
        folder = str(folder)
        recent = [f for f in self.recent_folders() if f != folder]
        recent.insert(0, folder)
        recent = recent[:MAX_RECENT]
        self.q.setValue("recent/folders", recent)
        return recent

    def clear_recent_folders(self) -> None:
        self.q.setValue("recent/folders", [])

    # ------------------------------------------------------------------------------ geometry and state
    def save_bytes(self, key: str, data: QByteArray) -> None:
        self.q.setValue(key, data)

    def load_bytes(self, key: str) -> QByteArray | None:
        value = self.q.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    # ------------------------------------------------------------------------------------- plain values
    def json(self, key: str, default: Any = None) -> Any:
        raw = self.q.value(key)
        if not raw:
            return default
        try:
            return json.loads(str(raw))
        except ValueError:
            return default

    def set_json(self, key: str, value: Any) -> None:
        self.q.setValue(key, json.dumps(value))

    def text(self, key: str, default: str = "") -> str:
        value = self.q.value(key, default)
        return str(value) if value is not None else default

    def set_text(self, key: str, value: str) -> None:
        self.q.setValue(key, value)

    def sync(self) -> None:
        self.q.sync()
