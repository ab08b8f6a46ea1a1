"""The training options: a form with a tooltip on every option, defaults chosen from the data set and the
device, and the translation to and from the engine's RunConfig (which the run folder keeps as config.json)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QRadioButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget)

from gan_studio.gui.widgets import label, set_tip
from gan_studio.presets import PRESETS, apply_preset

MODELS = [("dcgan", "DCGAN", "Deep convolutional GAN of Radford et al. (2016): the sharpest results on pictures."),
          ("mlp", "MLP GAN", "The original multilayer-perceptron GAN of Goodfellow et al. (2014): small and fast, "
                             "best on small grayscale images such as digits.")]
RESOLUTIONS = {"dcgan": [16, 32, 64, 128, 256], "mlp": [16, 28, 32, 48, 64]}
ASPECTS = [("1:1", "1:1 square"), ("3:2", "3:2 landscape"), ("2:1", "2:1 panorama"), ("2:3", "2:3 portrait"),
           ("1:2", "1:2 tall")]
CROPS = [("center", "Crop the centre"), ("pad", "Fit with black bars"), ("random", "Random crops")]
LOSSES = [("non_saturating", "Non-saturating (recommended)"), ("minimax", "Minimax (the paper's original)")]


def _combo(items: list[tuple[str, str]]) -> QComboBox:
    c = QComboBox()
    for value, text in items:
        c.addItem(text, value)
    return c


def _select(combo: QComboBox, value: Any) -> None:
    i = combo.findData(value)
    if i >= 0:
        combo.setCurrentIndex(i)


def _pow2_floor(n: int) -> int:
    p = 1
    while p * 2 <= n:
        p *= 2
    return p


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
        self.resume_note = label("", "hint")
        self.resume_note.setWordWrap(True)
        self.resume_note.setVisible(False)
        col.addWidget(self.resume_note)

        # ---------------------------------------------------------------------------------------- model
        self.model_box = QGroupBox("Model")
        f = self._form(self.model_box)
        self.model = QComboBox()
        for name, text, tip in MODELS:
            self.model.addItem(text, name)
            self.model.setItemData(self.model.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        set_tip(self.model, "The GAN family. DCGAN (convolutional) for paintings and photos; the MLP GAN of the "
                            "original paper for small grayscale images.")
        self.width_spin = QSpinBox()
        self.width_spin.setRange(4, 512)
        self.width_spin.setSingleStep(8)
        set_tip(self.width_spin, "DCGAN channel width (ngf = ndf). Wider learns more detail but each step is "
                                 "slower: 64 is the paper's choice, 32 trains about 3x faster on a CPU.")
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
        f.addRow("Width", self.width_spin)
        col.addWidget(self.model_box)

        # ---------------------------------------------------------------------------------------- data
        self.data_box = QGroupBox("Images")
        f = self._form(self.data_box)
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
        set_tip(self.batch, "Images per step. 64 is the DCGAN paper's choice; smaller batches suit small folders "
                            "and small memory, larger ones a big GPU.")
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
        self.by_minutes.toggled.connect(self.changed)

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
        name = self.model.currentData()
        current = self.res.currentData()
        self.res.blockSignals(True)
        self.res.clear()
        for r in RESOLUTIONS.get(name, RESOLUTIONS["dcgan"]):
            self.res.addItem(f"{r} px", r)
        self.res.blockSignals(False)
        if current is not None and self.res.findData(current) >= 0:
            _select(self.res, current)
        else:
            _select(self.res, 28 if name == "mlp" else 64)
        self.width_spin.setEnabled(name == "dcgan" and not self._resuming)

    def _preset_changed(self) -> None:
        """Show what the chosen preset sets; to_config applies the whole preset under the form's values."""
        name = self.preset.currentData()
        if name is None:
            return
        from gan_studio.config import RunConfig

        cfg = apply_preset(RunConfig(), name)
        d, t = cfg.data, cfg.train
        _select(self.model, cfg.model.name)
        self.width_spin.setValue(cfg.model.width)
        for combo, value in ((self.res, d.res), (self.aspect, d.aspect), (self.crop, d.crop), (self.g_loss, t.g_loss)):
            _select(combo, value)
        self.flip.setChecked(d.flip)
        self.batch.setValue(t.batch)
        self.lr_g.setValue(t.lr_g)
        self.lr_d.setValue(t.lr_d)
        self.k.setValue(t.k)

    def _no_preset(self) -> None:
        self.preset.blockSignals(True)
        _select(self.preset, None)
        self.preset.blockSignals(False)

    # ------------------------------------------------------------------------------------------ values
    def reset(self) -> None:
        """The engine's defaults (as the command line has them)."""
        self._no_preset()
        _select(self.model, "dcgan")
        self.width_spin.setValue(64)
        _select(self.res, 64)
        _select(self.aspect, "1:1")
        _select(self.crop, "center")
        self.flip.setChecked(False)
        self.by_minutes.setChecked(True)
        self.minutes.setValue(10.0)
        self.steps.setValue(2000)
        self.batch.setValue(64)
        self.lr_g.setValue(2e-4)
        self.lr_d.setValue(2e-4)
        self.k.setValue(1)
        _select(self.g_loss, "non_saturating")
        self.seed.setValue(0)
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

    def set_models(self, models: list[tuple[str, str]]) -> None:
        """Every family of the engine's registry (name, description), so later families appear here."""
        known = {self.model.itemData(i) for i in range(self.model.count())}
        for name, description in models:
            if name not in known:
                self.model.addItem(name.upper(), name)
                self.model.setItemData(self.model.count() - 1, description, Qt.ItemDataRole.ToolTipRole)

    def apply_dataset_defaults(self, summary, gpu: bool) -> None:
        """Choose model, resolution, shape, batch and flips for this data set on this device."""
        self._no_preset()  # the folder's defaults, not a preset's
        small_gray = summary.gray and summary.min_side <= 32
        _select(self.model, "mlp" if small_gray else "dcgan")
        if small_gray:
            _select(self.res, 28 if summary.min_side >= 28 else 16)
        else:
            wanted = 64 if gpu else 32
            fit = max(16, _pow2_floor(max(summary.min_side, 16)))
            _select(self.res, min(wanted, fit))
            self.width_spin.setValue(64 if gpu else 32)
        a = summary.aspect
        aspect = "2:1" if a >= 1.8 else "3:2" if a >= 1.35 else "1:2" if a <= 0.56 else "2:3" if a <= 0.74 else "1:1"
        _select(self.aspect, aspect)
        n = summary.count
        self.batch.setValue(64 if n >= 512 else 32 if n >= 128 else 16 if n >= 32 else 8)
        self.flip.setChecked(not summary.gray and n < 5000)

    def values(self) -> dict[str, Any]:
        return {"preset": self.preset.currentData(), "model": self.model.currentData(),
                "width": self.width_spin.value(), "res": self.res.currentData(),
                "aspect": self.aspect.currentData(), "crop": self.crop.currentData(), "flip": self.flip.isChecked(),
                "by_minutes": self.by_minutes.isChecked(), "minutes": self.minutes.value(),
                "steps": self.steps.value(), "batch": self.batch.value(), "lr_g": self.lr_g.value(),
                "lr_d": self.lr_d.value(), "k": self.k.value(), "g_loss": self.g_loss.currentData(),
                "device": self.device.currentData(), "seed": self.seed.value()}

    def set_values(self, v: dict[str, Any]) -> None:
        """Restore values saved by values() (unknown or missing keys are left alone)."""
        try:
            if "preset" in v:  # first: choosing a preset sets fields that the saved values then restore
                _select(self.preset, v["preset"])
            if "model" in v:
                _select(self.model, v["model"])
            for key, combo in (("res", self.res), ("aspect", self.aspect), ("crop", self.crop),
                               ("g_loss", self.g_loss), ("device", self.device)):
                if key in v:
                    _select(combo, v[key])
            for key, spin in (("width", self.width_spin), ("steps", self.steps), ("batch", self.batch),
                              ("k", self.k), ("seed", self.seed)):
                if key in v:
                    spin.setValue(int(v[key]))
            for key, spin in (("minutes", self.minutes), ("lr_g", self.lr_g), ("lr_d", self.lr_d)):
                if key in v:
                    spin.setValue(float(v[key]))
            if "flip" in v:
                self.flip.setChecked(bool(v["flip"]))
            if "by_minutes" in v:
                (self.by_minutes if v["by_minutes"] else self.by_steps).setChecked(True)
        except (TypeError, ValueError):
            pass
        self._length_mode()

    def to_config(self, source: str, gpu: bool = False):
        """A RunConfig for a new run on ``source``; validation is the engine's (ConfigError with a message).

        On a CPU a step can take a second, so statistics are logged every 2 steps instead of 10: the curves
        and the ETA appear within seconds (a CPU pays nothing for the extra host sync)."""
        from gan_studio.config import RunConfig

        v = self.values()
        cfg = RunConfig()
        if v["preset"]:  # the preset's hidden settings; the form's values, its shown ones, go on top
            apply_preset(cfg, v["preset"])
        cfg.data.source = source
        cfg.data.res, cfg.data.aspect, cfg.data.crop, cfg.data.flip = v["res"], v["aspect"], v["crop"], v["flip"]
        cfg.model.name, cfg.model.width = v["model"], v["width"]
        t = cfg.train
        t.batch, t.lr_g, t.lr_d, t.k, t.g_loss = v["batch"], v["lr_g"], v["lr_d"], v["k"], v["g_loss"]
        t.device, t.seed = v["device"] or "auto", v["seed"]
        t.log_every = 10 if gpu and t.device != "cpu" else 2
        if v["by_minutes"]:
            t.minutes, t.steps = v["minutes"], None
        else:
            t.minutes, t.steps = None, v["steps"]
        return cfg.validate()

    # ------------------------------------------------------------------------------------- resume mode
    def set_resume(self, config, step: int, run_name: str) -> None:
        """Show a run's own options, locked; only the length and the device can change."""
        self.resume_note.setText(f"Continuing <b>{run_name}</b> from step {step:,}. The model and images are "
                                 f"the run's own; choose how much longer to train.")
        if not self._resuming:
            self._before_resume = self.values()  # given back when the user turns to a new run
        self.resume_note.setVisible(True)
        self._resuming = True
        self._no_preset()  # the run's own config.json holds whatever a preset set
        _select(self.model, config.model.name)
        self.width_spin.setValue(config.model.width)
        _select(self.res, config.data.res)
        _select(self.aspect, config.data.aspect)
        _select(self.crop, config.data.crop)
        self.flip.setChecked(config.data.flip)
        self.batch.setValue(config.train.batch)
        self.lr_g.setValue(config.train.lr_g)
        self.lr_d.setValue(config.train.lr_d)
        self.k.setValue(config.train.k)
        _select(self.g_loss, config.train.g_loss)
        self.seed.setValue(config.train.seed)
        self.steps.setMinimum(step + 1)
        self.steps.setValue(max(step + 1, config.train.steps or 0, step + 1000))
        self.minutes.setValue(config.train.minutes or 10.0)
        (self.by_steps if config.train.steps else self.by_minutes).setChecked(True)
        self._length_mode()
        self._lock(True)

    def clear_resume(self) -> None:
        self.resume_note.setVisible(False)
        self._resuming = False
        self.steps.setMinimum(1)
        self._lock(False)
        if self._before_resume:
            self.set_values(self._before_resume)
            self._before_resume = None

    def _lock(self, locked: bool) -> None:
        for w in (self.preset, self.model, self.width_spin, self.res, self.aspect, self.crop, self.flip, self.batch,
                  self.lr_g, self.lr_d, self.k, self.g_loss, self.seed):
            w.setEnabled(not locked)
        if not locked:
            self._model_changed()

    def is_resuming(self) -> bool:
        return self._resuming
