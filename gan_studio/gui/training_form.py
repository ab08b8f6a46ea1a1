"""The training options: a form with a tooltip on every option, defaults chosen from the data set and the
device, and the translation to and from the engine's RunConfig (which the run folder keeps as config.json)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gan_studio import defaults
from gan_studio.config import RunConfig, image_size
from gan_studio.data.summary import DataSummary
from gan_studio.errors import ConfigError
from gan_studio.families import FAMILIES
from gan_studio.gui.widgets import label, set_tip
from gan_studio.presets import PRESETS

ASPECTS = [("1:1", "1:1 square"), ("3:2", "3:2 landscape"), ("2:1", "2:1 panorama"), ("2:3", "2:3 portrait"),
           ("1:2", "1:2 tall")]
CROPS = [("center", "Crop the centre"), ("pad", "Fit with black bars"), ("random", "Random crops")]
LOSSES = [("non_saturating", "Non-saturating (recommended)"), ("minimax", "Minimax (the paper's original)")]
# Before a folder is loaded the form shows the defaults for a typical one: a few hundred colour pictures.
TYPICAL_FOLDER = DataSummary(Path("."), "", 300, min_side=256, median_side=256)


@dataclass(frozen=True)
class Binding:
    """One form field and the config field it edits: the single table that values(), set_values(),
    show_config() and to_config() all read."""

    key: str  # the name in values() and in the saved form settings
    widget: str  # the TrainingForm attribute
    section: str  # data | model | train
    field: str


BINDINGS = [Binding("model", "model", "model", "name"), Binding("width", "width_spin", "model", "width"),
            Binding("res", "res", "data", "res"), Binding("aspect", "aspect", "data", "aspect"),
            Binding("crop", "crop", "data", "crop"), Binding("flip", "flip", "data", "flip"),
            Binding("batch", "batch", "train", "batch"), Binding("lr_g", "lr_g", "train", "lr_g"),
            Binding("lr_d", "lr_d", "train", "lr_d"), Binding("k", "k", "train", "k"),
            Binding("g_loss", "g_loss", "train", "g_loss"), Binding("seed", "seed", "train", "seed"),
            Binding("stop_on_plateau", "plateau", "train", "stop_on_plateau"),
            Binding("styles", "styles_check", "data", "styles")]
# What the user chose about the data itself, not about the model: choosing a model or a preset keeps it
DATA_CHOICES = {"styles"}


class Switch(QCheckBox):
    """A check box whose value is one of two words (a config's 'auto' or 'off'), not a bool."""

    def __init__(self, text: str, on: str, off: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.on, self.off = on, off

    def value(self) -> str:
        return self.on if self.isChecked() else self.off

    def set_value(self, value: str) -> None:
        self.setChecked(value == self.on)


def _get(w: QWidget):
    if isinstance(w, Switch):
        return w.value()
    if isinstance(w, QComboBox):
        return w.currentData()
    if isinstance(w, QCheckBox):
        return w.isChecked()
    return w.value()  # QSpinBox, QDoubleSpinBox


def _put(w: QWidget, value) -> None:
    if isinstance(w, Switch):
        w.set_value(str(value))
    elif isinstance(w, QComboBox):
        _select(w, value)
    elif isinstance(w, QCheckBox):
        w.setChecked(bool(value))
    elif isinstance(w, QSpinBox):
        w.setValue(int(value))
    else:
        w.setValue(float(value))


def _combo(items: list[tuple[str, str]]) -> QComboBox:
    c = QComboBox()
    for value, text in items:
        c.addItem(text, value)
    return c


def _select(combo: QComboBox, value: Any) -> None:
    i = combo.findData(value)
    if i >= 0:
        combo.setCurrentIndex(i)


class TrainingForm(QScrollArea):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        col = QVBoxLayout(body)
        col.setContentsMargins(4, 0, 8, 0)

        self._resuming = False
        self._before_resume: dict[str, Any] | None = None
        self._summary: DataSummary | None = None  # the loaded data, for the defaults policy
        self._device_type = "cpu"
        self._showing = False  # set while the form shows a config: a model change then is not the user's
        self._run_styles: list[str] = []  # a resumed run's own styles
        self.resume_note = label("", "hint")
        self.resume_note.setWordWrap(True)
        self.resume_note.setVisible(False)
        col.addWidget(self.resume_note)

        # ---------------------------------------------------------------------------------------- model
        self.model_box = QGroupBox("Model")
        f = self._form(self.model_box)
        self.model = QComboBox()
        for fam in FAMILIES.values():
            self.model.addItem(fam.title, fam.name)
            self.model.setItemData(self.model.count() - 1, f"{fam.summary}. Best for {fam.best_for}.",
                                   Qt.ItemDataRole.ToolTipRole)
        set_tip(self.model, "The GAN family: " + "; ".join(f"{f.title} for {f.best_for}" for f in FAMILIES.values())
                + ". Choosing one sets its own sizes, width and learning rates.")
        self.why = label("", "hint")
        self.why.setWordWrap(True)
        set_tip(self.why, "Why the form chose this model for the loaded images; the command line "
                          "(gan-studio train FOLDER) chooses the same.")
        self.width_spin = QSpinBox()
        self.width_spin.setRange(4, 512)
        self.width_spin.setSingleStep(8)
        set_tip(self.width_spin, "Channel width of the convolutional models (ngf = ndf). Wider learns more detail "
                                 "but each step is slower: 64 is the DCGAN paper's choice, 32 trains about 3x "
                                 "faster on a CPU.")
        self.preset = QComboBox()
        self.preset.addItem("None: the folder's defaults", None)
        for preset in PRESETS.values():
            self.preset.addItem(preset.name, preset.name)
            self.preset.setItemData(self.preset.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole)
        set_tip(self.preset, "A named configuration: it sets the model and the options below (and the settings the "
                             "form does not show, such as the paper's SGD with momentum); you can still change "
                             "what is shown.")
        f.addRow("Preset", self.preset)
        f.addRow("Model", self.model)
        f.addRow("", self.why)
        f.addRow("Width", self.width_spin)
        col.addWidget(self.model_box)

        # ---------------------------------------------------------------------------------------- data
        self.data_box = QGroupBox("Images")
        f = self._form(self.data_box)
        self._data_form = f
        # A folder of style folders (gan_studio.data.styles): what they are, and the switch; hidden without them
        self.styles_line = label("", "hint")
        self.styles_line.setWordWrap(True)
        self.styles_check = Switch("Train one model with a style per folder", "auto", "off")
        self.styles_check.setChecked(True)
        set_tip(self.styles_check, "Each folder inside the one you opened is a style (a painter, a tradition): one "
                                   "model learns them all, then paints in any of them, or a blend. Off: one model "
                                   "on every image, the styles mixed. The command line's train --styles auto|off.")
        f.addRow("Styles", self.styles_line)
        f.addRow("", self.styles_check)
        self.res = QComboBox()
        set_tip(self.res, "Size of the generated images (the short side, in pixels). Each doubling makes a step "
                          "about 4x slower; start small, see it learn, then go bigger.")
        self.aspect = _combo(ASPECTS)
        set_tip(self.aspect, "Shape of the generated images (width:height). Pick the shape most of your images "
                             "have; the others are cropped or padded to it.")
        self.crop = _combo(CROPS)
        set_tip(self.crop, "How images of another shape are made to fit: crop their centre, fit them whole with "
                           "black bars, or take a random crop each time (a little augmentation).")
        self.flip = QCheckBox("Mirror at random")
        set_tip(self.flip, "Randomly mirror images left-right while training: twice the variety for landscapes and "
                           "most paintings. Leave it off for text, digits or anything with a handedness.")
        f.addRow("Resolution", self.res)
        f.addRow("Shape", self.aspect)
        f.addRow("Fitting", self.crop)
        f.addRow("", self.flip)
        col.addWidget(self.data_box)

        # ------------------------------------------------------------------------------------- training
        self.train_box = QGroupBox("Training")
        f = self._form(self.train_box)
        self.by_minutes = QRadioButton("Minutes")
        self.by_steps = QRadioButton("Steps")
        group = QButtonGroup(self)
        group.addButton(self.by_minutes)
        group.addButton(self.by_steps)
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(0.1, 10000)
        self.minutes.setDecimals(1)
        self.minutes.setSuffix(" min")
        self.steps = QSpinBox()
        self.steps.setRange(1, 10_000_000)
        self.steps.setSingleStep(100)
        self.steps.setGroupSeparatorShown(True)
        for w in (self.by_minutes, self.minutes, self.by_steps, self.steps):
            set_tip(w, "How long to train: a time budget for this session, or a total number of generator steps. "
                       "You can stop earlier (a checkpoint is saved) and continue a run later.")
        self.by_minutes.toggled.connect(self._length_mode)
        self.batch = QSpinBox()
        self.batch.setRange(1, 4096)
        self.batch.setSingleStep(8)
        set_tip(self.batch, "Images per step. FastGAN's default is 32 (measured: a CPU trains as many images a "
                            "second at 32 as at 64, so twice the steps, and better pictures in the same minutes); "
                            "64 is the DCGAN paper's choice; larger batches suit a big GPU.")
        self.lr_g = self._lr()
        set_tip(self.lr_g, "Generator learning rate. 0.0002 is the DCGAN paper's value for Adam; the paper-mnist "
                           "preset's SGD takes 0.1.")
        self.lr_d = self._lr()
        set_tip(self.lr_d, "Discriminator learning rate (Adam). If D wins too easily (D(G(z)) stays near 0), try "
                           "a lower value than the generator's.")
        self.k = QSpinBox()
        self.k.setRange(1, 10)
        set_tip(self.k, "Discriminator steps per generator step (k in Algorithm 1 of the GAN paper). 1 works "
                        "for DCGAN.")
        self.g_loss = _combo(LOSSES)
        set_tip(self.g_loss, "Generator objective. Non-saturating (maximise log D(G(z))) gives strong gradients "
                             "early on; minimax (minimise log(1 - D(G(z)))) is the paper's game as written.")
        self.device = QComboBox()
        self.device.addItem("Detecting…", "auto")
        set_tip(self.device, "Where to compute. Auto picks the GPU when there is one (CUDA or Apple), else the CPU.")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2_000_000_000)
        set_tip(self.seed, "Random seed: the same data, options and seed give the same run.")
        f.addRow(self.by_minutes, self.minutes)
        f.addRow(self.by_steps, self.steps)
        f.addRow("Batch", self.batch)
        f.addRow("G learning rate", self.lr_g)
        f.addRow("D learning rate", self.lr_d)
        f.addRow("D steps (k)", self.k)
        f.addRow("G loss", self.g_loss)
        self.plateau = QCheckBox("Stop when quality stops improving")
        set_tip(self.plateau, "End training early when four quality checks in a row (1,000 steps) bring no real "
                              "gain in SWD; the best snapshot is kept. Off: train for the whole time or steps set "
                              "above.")
        f.addRow("", self.plateau)
        f.addRow("Device", self.device)
        f.addRow("Seed", self.seed)
        col.addWidget(self.train_box)
        col.addStretch(1)
        self.setWidget(body)

        for combo in body.findChildren(QComboBox):  # long labels elide instead of widening the form
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        self.model.currentIndexChanged.connect(self._model_changed)
        self.preset.currentIndexChanged.connect(self._preset_changed)
        self._model_changed()
        self.reset()
        for w in (self.preset, self.model, self.res, self.aspect, self.crop, self.g_loss, self.device):
            w.currentIndexChanged.connect(self.changed)
        for w in (self.width_spin, self.steps, self.batch, self.k, self.seed):
            w.valueChanged.connect(self.changed)
        for w in (self.minutes, self.lr_g, self.lr_d):
            w.valueChanged.connect(self.changed)
        self.flip.toggled.connect(self.changed)
        self.plateau.toggled.connect(self.changed)
        self.styles_check.toggled.connect(self.changed)
        self.styles_check.toggled.connect(self._show_styles)
        self.by_minutes.toggled.connect(self.changed)
        self.problem = label("", "error")  # an impossible combination, said before anything is loaded
        self.problem.setWordWrap(True)
        self.problem.setVisible(False)
        col.insertWidget(col.count() - 1, self.problem)
        self.changed.connect(self._check)
        self._show_styles()

    @staticmethod
    def _form(box: QGroupBox) -> QFormLayout:
        f = QFormLayout(box)
        f.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        f.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        f.setHorizontalSpacing(10)
        f.setVerticalSpacing(6)
        return f

    @staticmethod
    def _lr() -> QDoubleSpinBox:
        s = QDoubleSpinBox()
        s.setDecimals(5)
        s.setRange(0.00001, 1.0)
        s.setSingleStep(0.00005)
        return s

    def _length_mode(self) -> None:
        self.minutes.setEnabled(self.by_minutes.isChecked())
        self.steps.setEnabled(not self.by_minutes.isChecked())

    def _model_changed(self) -> None:
        """Offer the sizes the chosen family trains; a family the user picks brings its own defaults."""
        name = self.model.currentData()
        fam = FAMILIES.get(name) or FAMILIES["dcgan"]
        current = self.res.currentData()
        self.res.blockSignals(True)
        self.res.clear()
        for r in fam.resolutions:
            self.res.addItem(f"{r} px", r)
        self.res.blockSignals(False)
        _select(self.res, current if current in fam.resolutions else fam.default_res)
        self.width_spin.setEnabled(fam.convolutional and not self._resuming)
        if not self._showing and not self._resuming and name is not None:
            self._no_preset()
            summary = self._summary or TYPICAL_FOLDER
            self.show_config(defaults.defaults_for(summary, self._device_type, model=name), model=False,
                             choices=False)
            self.why.setText(defaults.why_default(summary, model=name))

    def _preset_changed(self) -> None:
        """Show what the chosen preset sets; to_config applies the whole preset under the form's values."""
        name = self.preset.currentData()
        if name is None:
            return
        summary = self._summary or TYPICAL_FOLDER
        self.show_config(defaults.defaults_for(summary, self._device_type, preset=name), choices=False)
        self.why.setText(defaults.why_default(summary, preset=name))

    def _no_preset(self) -> None:
        self.preset.blockSignals(True)
        _select(self.preset, None)
        self.preset.blockSignals(False)

    # ------------------------------------------------------------------------------------------ values
    def widget(self, binding: Binding) -> QWidget:
        return getattr(self, binding.widget)

    def show_config(self, cfg: RunConfig, model: bool = True, choices: bool = True) -> None:
        """Show a config's values in the bound fields (``model=False``: all but the model choice;
        ``choices=False``: all but the user's DATA_CHOICES)."""
        self._showing = True
        try:
            for b in BINDINGS:
                if (model or b.key != "model") and (choices or b.key not in DATA_CHOICES):
                    _put(self.widget(b), getattr(getattr(cfg, b.section), b.field))
        finally:
            self._showing = False

    def reset(self) -> None:
        """The defaults policy's choice for a typical folder (what the command line would pick)."""
        self._no_preset()
        self.apply_defaults(self._summary or TYPICAL_FOLDER, self._device_type)
        self.by_minutes.setChecked(True)
        self.steps.setValue(2000)
        self._length_mode()

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """[(value, label)], e.g. [('auto', 'Auto: NVIDIA H200'), ('cpu', 'CPU (…)'), ('cuda:0', 'NVIDIA H200')]."""
        current = self.device.currentData()
        self.device.blockSignals(True)
        self.device.clear()
        for value, text in devices:
            self.device.addItem(text, value)
        self.device.blockSignals(False)
        _select(self.device, current or "auto")

    def apply_defaults(self, summary: DataSummary, device_type: str = "cpu") -> None:
        """Show what the defaults policy (the command line's too) chooses for this data on this device."""
        self._summary, self._device_type = summary, device_type
        self._no_preset()
        cfg = defaults.defaults_for(summary, device_type)
        self.show_config(cfg)
        self.minutes.setValue(cfg.train.minutes or defaults.DEFAULT_MINUTES)
        self.why.setText(defaults.why_default(summary))
        self._show_styles()

    def _show_styles(self) -> None:
        """The styles line says what the folder's styles are and what the switch does with them (a resumed run's:
        its own, locked); the line and the switch are hidden when there are none."""
        layout = self._summary.styles if self._summary is not None and not self._resuming else None
        tip = ""
        if self._resuming:
            text = f"{len(self._run_styles)} styles, one model: {', '.join(self._run_styles)}"
        elif layout is None:
            text = ""
        elif self.styles_check.isChecked():
            text = layout.describe()
            if layout.left_out:
                text += f" ({layout.left_out:,} in no style, left out)"
                tip = "\n".join(layout.messages())
        else:
            total = self._summary.count if self._summary is not None else 0
            text = f"Styles off: one model on all {total:,} images, the {len(layout.names)} styles mixed"
        self.styles_line.setText(text)
        self.styles_line.setToolTip(tip)
        visible = bool(self._run_styles) if self._resuming else layout is not None
        for w in (self.styles_line, self.styles_check):
            self._data_form.setRowVisible(w, visible)

    def values(self) -> dict[str, Any]:
        v = {b.key: _get(self.widget(b)) for b in BINDINGS}
        return {"preset": self.preset.currentData(), **v, "by_minutes": self.by_minutes.isChecked(),
                "minutes": self.minutes.value(), "steps": self.steps.value(), "device": self.device.currentData()}

    def set_values(self, v: dict[str, Any]) -> None:
        """Restore values saved by values() (unknown or missing keys are left alone)."""
        self._showing = True
        try:
            if "preset" in v:  # first: choosing a preset sets fields that the saved values then restore
                _select(self.preset, v["preset"])
            for b in BINDINGS:  # the model comes first: it decides the sizes on offer
                if b.key in v:
                    _put(self.widget(b), v[b.key])
            for key, w in (("minutes", self.minutes), ("steps", self.steps), ("device", self.device)):
                if key in v:
                    _put(w, v[key])
            if "by_minutes" in v:
                (self.by_minutes if v["by_minutes"] else self.by_steps).setChecked(True)
        except (TypeError, ValueError):
            pass
        finally:
            self._showing = False
        self._length_mode()

    def to_config(self, summary: DataSummary | str, device_type: str = "cpu") -> RunConfig:
        """A RunConfig for a new run: the defaults policy's config for this data (what the form does not show:
        a preset's hidden settings, the logging cadence for the device), with the form's values on top.
        Validated by the engine (a ConfigError with its message) before any image is loaded."""
        if isinstance(summary, str):  # a bare source: the policy's choice matters only for hidden fields
            summary = DataSummary(Path(summary), summary, TYPICAL_FOLDER.count, median_side=256)
        v = self.values()
        cfg = defaults.defaults_for(summary, device_type, preset=v["preset"], model=v["model"])
        for b in BINDINGS:
            if b.key in DATA_CHOICES and summary.styles is None:
                continue  # a hidden switch says nothing: the policy's value, as the command line has it
            setattr(getattr(cfg, b.section), b.field, v[b.key])
        cfg.data.source = summary.source
        cfg.train.device = v["device"] or "auto"
        if v["by_minutes"]:
            cfg.train.minutes, cfg.train.steps = v["minutes"], None
        else:
            cfg.train.minutes, cfg.train.steps = None, v["steps"]
        return cfg.validate()

    def _check(self) -> None:
        """Say at once when the shown choices cannot be trained (the shape a family cannot build, ...)."""
        v = self.values()
        fam = FAMILIES.get(v["model"])
        problem = fam.check_shape(*image_size(v["res"], v["aspect"])) if fam and v["res"] else None
        if problem is None and not self._resuming:
            try:
                probe = self._summary if self._summary and self._summary.source else replace(TYPICAL_FOLDER, source=".")
                self.to_config(probe, self._device_type)
            except ConfigError as e:
                problem = str(e)
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))

    # ------------------------------------------------------------------------------------- resume mode
    def set_resume(self, config: RunConfig, step: int, run_name: str) -> None:
        """Show a run's own options, locked; only the length and the device can change."""
        self.resume_note.setText(f"Continuing <b>{run_name}</b> from step {step:,}. The model and images are "
                                 f"the run's own; choose how much longer to train.")
        if not self._resuming:
            self._before_resume = self.values()  # given back when the user turns to a new run
        self.resume_note.setVisible(True)
        self._resuming = True
        self._no_preset()  # the run's own config.json holds whatever a preset set
        self._run_styles = list(config.model.styles)
        self.show_config(config)
        self._show_styles()
        self.why.setText(f"{FAMILIES[config.model.name].title}: the run's own model")
        self.steps.setMinimum(step + 1)
        self.steps.setValue(max(step + 1, config.train.steps or 0, step + 1000))
        self.minutes.setValue(config.train.minutes or defaults.DEFAULT_MINUTES)
        (self.by_steps if config.train.steps else self.by_minutes).setChecked(True)
        self._length_mode()
        self._lock(True)

    def clear_resume(self) -> None:
        self.resume_note.setVisible(False)
        self._resuming = False
        self._run_styles = []
        self.steps.setMinimum(1)
        self._lock(False)
        if self._before_resume:
            self.set_values(self._before_resume)
            self._before_resume = None
        self._show_styles()

    def _lock(self, locked: bool) -> None:
        for w in (self.preset, self.model, self.width_spin, self.res, self.aspect, self.crop, self.flip, self.batch,
                  self.lr_g, self.lr_d, self.k, self.g_loss, self.seed, self.plateau, self.styles_check):
            w.setEnabled(not locked)
        if not locked:  # the sizes on offer and the width's state follow the model again, values untouched
            self._showing = True
            try:
                self._model_changed()
            finally:
                self._showing = False

    def is_resuming(self) -> bool:
        return self._resuming
