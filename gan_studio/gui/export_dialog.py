"""The Export dialog: favourites or N new samples as PNG or JPEG at a chosen size, plus a contact sheet, an HTML
gallery page and GIFs; or the model file itself (ONNX or TorchScript, with its model card). It runs
gan_studio.export.export_run or gan_studio.model_export.export_model off the GUI thread with a progress bar, asks
before replacing any existing file, and says where the files went. A conditional model's images are of the style
chosen here (each seed's own, one style or a blend), which the files' names and metadata carry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QStandardPaths, Qt, QUrl, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gan_studio.gui.tasks import Task
from gan_studio.gui.widgets import label, open_in_file_manager, set_tip

SIZES = [128, 256, 512, 1024]
MODEL_FORMATS = [("ONNX (onnxruntime: Python, C++, C#, JavaScript, ...)", "onnx", ".onnx"),
                 ("TorchScript (PyTorch and LibTorch)", "torchscript", ".pt")]


def run_styles(run_dir: Path) -> list[str]:
    """The styles of a run's model, from its config (none for an unconditional model or an unreadable config)."""
    from gan_studio.engine import RunDir
    from gan_studio.errors import GanStudioError

    try:
        return list(RunDir(Path(run_dir)).config().model.styles)
    except (GanStudioError, OSError):
        return []


def default_export_folder(run_name: str) -> Path:
    pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation) or str(Path.home())
    return Path(pictures) / "GAN Studio" / run_name


class ExportDialog(QDialog):
    exported = Signal(object)  # gan_studio.export.ExportResult
    model_exported = Signal(object)  # gan_studio.model_export.ModelExport

    def __init__(self, run_dir: Path, favourites: list[int], native: int, settings=None, device: str = "cpu",
                 checkpoint: Path | None = None, parent: QWidget | None = None,
                 style: np.ndarray | None = None) -> None:
        super().__init__(parent)
        self.run_dir, self.favourites, self.settings = Path(run_dir), sorted(favourites), settings
        self.device, self.checkpoint = device, checkpoint
        self.task: Task | None = None
        self.result = None
        self.setWindowTitle(f"Export: {self.run_dir.name}")
        self.setMinimumWidth(520)

        self.fav_radio = QRadioButton(f"Favourites ({len(self.favourites)})")
        self.fav_radio.setEnabled(bool(self.favourites))
        self.new_radio = QRadioButton("New samples")
        group = QButtonGroup(self)
        group.addButton(self.fav_radio)
        group.addButton(self.new_radio)
        (self.fav_radio if self.favourites else self.new_radio).setChecked(True)
        self.count = QSpinBox()
        self.count.setRange(1, 100_000)
        self.count.setValue(100)
        self.count.setGroupSeparatorShown(True)
        set_tip(self.count, "How many new samples to export; image i is drawn from seed first + i.")
        self.first = QSpinBox()
        self.first.setRange(0, 2_000_000_000)
        self.first.setPrefix("from seed ")
        set_tip(self.first, "The seed of the first sample; the same seed always gives the same picture.")
        what = QWidget()
        wl = QHBoxLayout(what)
        wl.setContentsMargins(0, 0, 0, 0)
        for w in (self.fav_radio, self.new_radio, self.count, self.first):
            wl.addWidget(w)
        wl.addStretch(1)
        self.new_radio.toggled.connect(self._what_changed)

        self.format = QComboBox()
        self.format.addItem("PNG (lossless, with seed, run and step in its metadata)", "png")
        self.format.addItem("JPEG (smaller files)", "jpg")
        self.size = QComboBox()
        self.size.addItem(f"As generated ({native} px)", None)
        for s in SIZES:
            if s > native:
                self.size.addItem(f"{s} px (enlarged)", s)
        set_tip(self.size, "The long side of each image. Enlarging uses a high-quality filter; it adds no detail.")
        self.grid = QCheckBox("Contact sheet (grid.png)")
        self.grid.setChecked(True)
        self.html = QCheckBox("Web page (index.html: thumbnails linking to the images)")
        self.html.setChecked(True)
        self.gif = QCheckBox("Animated GIFs: a latent walk, and the training progress")
        self.folder = QLineEdit(str(default_export_folder(self.run_dir.name)))
        if settings is not None and settings.text("export/parent"):
            self.folder.setText(str(Path(settings.text("export/parent")) / self.run_dir.name))
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose)
        where = QWidget()
        hl = QHBoxLayout(where)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.addWidget(self.folder, 1)
        hl.addWidget(choose)

        form = QFormLayout()
        form.addRow("Export", what)
        form.addRow("Format", self.format)
        form.addRow("Size", self.size)
        self.style_choice = None  # StyleChooser, for a conditional model only
        names = run_styles(self.run_dir)
        if names:
            from gan_studio.gui.style_panel import StyleChooser

            self.style_choice = StyleChooser(each_text="Each seed's own style", stacked=True)
            self.style_choice.set_styles(names)
            self.style_choice.set_style(style)
            form.addRow("Style", self.style_choice)
        form.addRow("Also", self.grid)
        form.addRow("", self.html)
        form.addRow("", self.gif)
        form.addRow("Folder", where)

        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.message = label("", "hint")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.linkActivated.connect(  # a file manager may be missing: then the path is said instead
            lambda url: open_in_file_manager(Path(QUrl(url).toLocalFile()), self.message.setText))
        self.export_button = QPushButton("Export")
        self.export_button.setProperty("primary", True)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.export)
        self.show_button = QPushButton("Show Folder")
        self.show_button.setVisible(False)
        self.show_button.clicked.connect(self._show_folder)
        self.close_button = QPushButton("Cancel")
        self.close_button.clicked.connect(self._cancel_or_close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.show_button)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.export_button)

        col = QVBoxLayout(self)
        col.addLayout(form)
        col.addWidget(self._model_section())
        col.addWidget(self.progress)
        col.addWidget(self.message)
        col.addLayout(buttons)
        self._what_changed()

    def _model_section(self) -> QGroupBox:
        """The generator itself as one file that runs without GAN Studio, with its model card beside it."""
        box = QGroupBox("Model file")
        self.model_format = QComboBox()
        for title, fmt, _ in MODEL_FORMATS:
            self.model_format.addItem(title, fmt)
        self.model_format.currentIndexChanged.connect(self._model_format_changed)
        parent = Path(self.folder.text()).parent
        self.model_path = QLineEdit(str(parent / f"{self.run_dir.name}.onnx"))
        set_tip(self.model_path, "The model file; its model card goes beside it as FILE.json and FILE.md.")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_model_file)
        self.model_button = QPushButton("Export Model File")
        self.model_button.clicked.connect(self.export_model)
        where = QWidget()
        hl = QHBoxLayout(where)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.addWidget(self.model_path, 1)
        hl.addWidget(choose)
        hl.addWidget(self.model_button)
        hint = label("The generator alone (input: noise; output: images in [0, 1]), for programs without GAN "
                     "Studio; examples/onnx_runner.py draws images from an ONNX file in ten lines.", "hint")
        hint.setWordWrap(True)
        form = QFormLayout(box)
        form.addRow("Format", self.model_format)
        form.addRow("File", where)
        form.addRow("", hint)
        return box

    def _model_format_changed(self) -> None:
        path = Path(self.model_path.text())
        if path.suffix.lower() in {suffix for _, _, suffix in MODEL_FORMATS}:
            self.model_path.setText(str(path.with_suffix(MODEL_FORMATS[self.model_format.currentIndex()][2])))

    def _choose_model_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export model file", self.model_path.text())
        if path:
            self.model_path.setText(path)

    def is_running(self) -> bool:
        """An export is writing files now."""
        return self.task is not None

    def cancel_export(self) -> None:
        """Cancel a running export: the job stops at its next progress report and removes what it wrote."""
        if self.task is not None:
            self.task.cancel()

    def _what_changed(self) -> None:
        new = self.new_radio.isChecked()
        self.count.setEnabled(new)
        self.first.setEnabled(new)

    def _choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def style(self) -> np.ndarray | None:
        """The style of the exported images (weights over the model's styles), or None: each seed's own."""
        return self.style_choice.style_vector() if self.style_choice is not None else None

    def seeds(self) -> list[int]:
        if self.fav_radio.isChecked():
            return list(self.favourites)
        return list(range(self.first.value(), self.first.value() + self.count.value()))

    def confirm_overwrite(self, existing: list[Path], folder: Path) -> bool:
        """Ask before replacing files (tests replace this method)."""
        answer = QMessageBox.question(
            self, "Replace existing files?",
            f"{len(existing)} file(s) already exist in {folder} (for example {existing[0].name}).\n\n"
            f"Replace them?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    @Slot()
    def export(self) -> None:
        from gan_studio.export import export_plan, export_run

        if self.task is not None:
            return
        out = Path(self.folder.text()).expanduser()
        if not self.folder.text().strip():
            self.message.setText("Choose a folder for the export.")
            return
        seeds = self.seeds()
        fmt, size = self.format.currentData(), self.size.currentData()
        grid, html, gif = self.grid.isChecked(), self.html.isChecked(), self.gif.isChecked()
        style = self.style()
        existing = [p for p in export_plan(self.run_dir, out, seeds, fmt, grid, html, gif, style) if p.exists()]
        overwrite = False
        if existing:
            if not self.confirm_overwrite(existing, out):
                self.message.setText("Nothing was exported: choose another folder, or allow replacing the files.")
                return
            overwrite = True
        run_dir, device, checkpoint = self.run_dir, self.device, self.checkpoint
        self.task = Task(lambda progress: export_run(run_dir, out, fmt=fmt, size=size, grid=grid, html=html, gif=gif,
                                                     overwrite=overwrite, progress=progress, seeds=seeds,
                                                     checkpoint=checkpoint, device=device, style=style))
        self.task.progress.connect(self._on_progress)
        self.task.done.connect(self._on_done)
        self.task.failed.connect(self._on_failed)
        self.task.cancelled.connect(self._on_cancelled)
        self.task.start()
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.export_button.setEnabled(False)
        painted = f" ({self.style_choice.description()})" if self.style_choice is not None else ""
        self.message.setText(f"Exporting {len(seeds):,} images{painted} to {out}…")
        if self.settings is not None:
            self.settings.set_text("export/parent", str(out.parent))

    @Slot()
    def export_model(self) -> None:
        from gan_studio.model_export import export_model, model_export_plan

        if self.task is not None:
            return
        if not self.model_path.text().strip():
            self.message.setText("Choose a file for the model.")
            return
        out, fmt = Path(self.model_path.text().strip()).expanduser(), self.model_format.currentData()
        existing = [p for p in model_export_plan(out) if p.exists()]
        overwrite = False
        if existing:
            if not self.confirm_overwrite(existing, out.parent):
                self.message.setText("Nothing was exported: choose another file name, or allow replacing the files.")
                return
            overwrite = True
        run_dir, checkpoint = self.run_dir, self.checkpoint or "best"
        self.task = Task(lambda progress: export_model(run_dir, out, fmt, checkpoint, overwrite, progress))
        self.task.progress.connect(self._on_progress)
        self.task.done.connect(self._on_model_done)
        self.task.failed.connect(self._on_failed)
        self.task.cancelled.connect(self._on_cancelled)
        self.task.start()
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.export_button.setEnabled(False)
        self.model_button.setEnabled(False)
        self.message.setText(f"Exporting the generator to {out}…")

    @Slot(object)
    def _on_model_done(self, result) -> None:
        self.task, self.result = None, None
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        url = QUrl.fromLocalFile(str(result.model)).toString()
        self.message.setText(f"Exported the generator of step {result.step:,} to <a href='{url}'>{result.model}</a>, "
                             f"with its model card ({result.card_json.name}, {result.card_md.name}).")
        self.export_button.setEnabled(True)
        self.model_button.setEnabled(True)
        self.close_button.setText("Close")
        self.model_exported.emit(result)

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    @Slot(object)
    def _on_done(self, result) -> None:
        self.task, self.result = None, result
        self.progress.setValue(self.progress.maximum())
        url = QUrl.fromLocalFile(str(result.out)).toString()
        skipped = "".join(f"<br>Skipped {s}." for s in result.skipped)
        self.message.setText(f"Exported {len(result.files):,} files to <a href='{url}'>{result.out}</a>.{skipped}")
        self.export_button.setEnabled(True)
        self.show_button.setVisible(True)
        self.close_button.setText("Close")
        self.exported.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.task = None
        self.progress.setVisible(False)
        self.export_button.setEnabled(True)
        self.model_button.setEnabled(True)
        self.message.setText(f"<span style='color:#ff8a80'>{message}</span>")

    @Slot()
    def _on_cancelled(self) -> None:
        self.task = None
        self.progress.setVisible(False)
        self.export_button.setEnabled(True)
        self.model_button.setEnabled(True)
        self.message.setText("Export cancelled; the files it had written were removed.")

    def _cancel_or_close(self) -> None:
        if self.task is not None:
            self.cancel_export()
        else:
            self.reject()

    def _show_folder(self) -> None:
        if self.result is not None:
            open_in_file_manager(self.result.out, self.message.setText)

    def reject(self) -> None:
        self.cancel_export()
        super().reject()
