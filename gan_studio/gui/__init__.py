"""The desktop app (PySide6): the only package of GAN Studio that imports Qt.

Modules: ``app`` (entry point), ``main_window`` (menus, tabs, drag and drop, closing), one module per panel
(``dataset_panel``, ``training_panel``, ``runs_panel``, ``gallery``), the training ``worker`` (a QObject on a
QThread that turns the engine's events into throttled signals), ``tasks`` (short background jobs with progress),
``export_dialog``, ``charts``, ``settings`` (QSettings: UI state only) and small helpers.
Nothing here imports torch at import time: the engine is loaded in the background once the window is shown.
"""
