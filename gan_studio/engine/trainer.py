"""The trainer: Algorithm 1 of Goodfellow et al. (2014) for every model family, as an iterator of events.

    trainer = Trainer.new(config)            # or Trainer.resume(run_dir, steps=...)
    for event in trainer.run():              # the CLI prints events; the GUI's worker turns them into signals
        ...
    trainer.request_stop() / trainer.set_paused(True)   # from any thread; honoured between steps

One training iteration is k discriminator steps (each on a fresh batch of data and of noise) then one
generator step. Statistics are accumulated on the device and read every ``log_every`` steps, so the step
itself never waits for the device.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import math
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Generator, Iterator

import numpy as np
import torch
from torchvision.utils import make_grid

from gan_studio.config import RunConfig
from gan_studio.data.sampler import DeviceImages
from gan_studio.data.styles import resolve_styles, select_styled
from gan_studio.engine import checkpoint as ckpt
from gan_studio.engine import distributed as dist
from gan_studio.engine.augment import AdaptiveAugment
from gan_studio.engine.batches import Batches, ProgressFn, load_training_images
from gan_studio.engine.device import configure_threads, device_name, resolve_device
from gan_studio.engine.discriminator_pair import DiscriminatorPair, apply_constraints
from gan_studio.engine.ema import make_ema, recalibrate_batchnorm, step_ema
from gan_studio.engine.events import (
    CheckpointSaved,
    Event,
    Failed,
    Finished,
    Notice,
    Paused,
    Preview,
    Started,
    StepStats,
)
from gan_studio.engine.lock import RunLock
from gan_studio.engine.losses import LOSSES, step_stats
from gan_studio.engine.quality import QualityCheck, center_crop, generate_with, snapshot_generate
from gan_studio.engine.regularize import lazy_r1, trainer_reconstruction_share
from gan_studio.engine.routes import apply_route, choose_route
from gan_studio.engine.rundir import RunDir
from gan_studio.engine.schedule import Schedule, SessionClock, apply_schedules
from gan_studio.engine.step_guard import StepGuard
from gan_studio.engine.trainer_state import RANK_SEED_STRIDE, load_trainer_state, trainer_state
from gan_studio.errors import ConfigError, DataError, GanStudioError
from gan_studio.families import SMALL_DATASET, family
from gan_studio.fileio import atomic_save
from gan_studio.models import build_models
from gan_studio.models.conditional import n_styles_of

QUALITY_SEED_OFFSET = 777_777_777  # the quality check's fixed noise: a stream of its own


class Trainer:
    def __init__(self, config: RunConfig, run: RunDir, images: Any, state: dict[str, Any] | None = None) -> None:
        self.config = config.validate()
        self.run_dir = run
        t = config.train
        # A conditional model trains on its styles' images alone, each with its label (gan_studio.data.styles)
        self.styles = list(config.model.styles)
        self.n_styles = n_styles_of(self.styles)
        labels = None
        if self.n_styles:
            images, labels = select_styled(images, self.styles)
        self.images = images
        self.style_counts = np.bincount(labels, minlength=self.n_styles).tolist() if labels is not None else []
        self.device = resolve_device(t.device)
        # on the training's own thread (the app's worker thread); other programs matter only to CPU training
        self.threads = configure_threads(sample=self.device.type == "cpu")
        self.shape = (images.channels, images.target_height, images.target_width)
        self.family = family(config.model.name)
        # How steps compute (engine/routes.py): on a GPU by its capability, on the CPU as measured here once
        self.route = choose_route(config, self.shape, self.device, self.threads, *(
            (state["step"], state.get("route")) if state else ()))
        apply_route(self.route, self.device)  # also cuDNN autotuning and TF32 on CUDA (engine/gpu.py)
        self.amp_dtype, self.channels_last = self.route.amp_dtype, self.route.channels_last

        torch.manual_seed(t.seed)  # model initialisation is part of the seed's run
        self.G, self.D = build_models(config.model, *self.shape)
        if config.model.g_bias_from_data:  # the MLP's sigmoid output starts at the data's mean image
            init_bias: Any = self.G.init_output_bias  # the MLP generator's method
            init_bias(center_crop(images.images, images.target_height, images.target_width))
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        self.G.to(self.device, memory_format=fmt)  # type: ignore[call-overload]  # torch's stubs lack this form
        self.D.to(self.device, memory_format=fmt)  # type: ignore[call-overload]
        self.G_ema = make_ema(self.G)
        self.opt_g = self._optimizer(self.G, t.lr_g)
        self.opt_d = self._optimizer(self.D, t.lr_d)
        fp16 = self.amp_dtype == torch.float16
        self.scaler_g = torch.amp.GradScaler(self.device.type, enabled=fp16)
        self.scaler_d = torch.amp.GradScaler(self.device.type, enabled=fp16)
        self.rank, self.world = dist.rank(), dist.world_size()
        shard = images.images[self.rank::self.world] if self.world > 1 else images.images
        self.data = DeviceImages(shard, (images.target_height, images.target_width), self.device,
                                 flip=config.data.flip, channels_last=self.channels_last,
                                 labels=labels[self.rank::self.world] if labels is not None else None)
        # One generator for data draws, noise and augmentation, so a run is a function of its seed.
        self.gen = torch.Generator(device=self.device).manual_seed(t.seed + self.rank * RANK_SEED_STRIDE)
        self.batches = Batches(self.data, config.model, self.n_styles, self.gen, self.device)
        self.d_loss, self.g_loss = LOSSES[self.family.loss]
        self.augment_on = t.augment == "on" or (t.augment == "auto" and self.family.augment_small
                                                and len(images.files) < SMALL_DATASET)
        # Off, the same object still gathers the overfitting signal r_t (with no augmentation and p fixed at 0).
        self.session_progress = 0.0  # the fraction of this session done, for the learning rates' annealing
        self.augment = AdaptiveAugment(t.augment_ops if self.augment_on else [], self.device, t.batch * self.world,
                                       t.ada_target, t.ada_interval, t.ada_kimg, t.augment_p_start,
                                       fixed=t.augment_p if self.augment_on else 0.0, styles=self.n_styles,
                                       p_max=t.augment_p_max)
        train = quality_noise = fresh_noise = None  # rank 0 alone measures quality (the others watch for overfitting)
        if t.quality_every and dist.is_main() and min(self.shape[1:]) >= 8:
            train = center_crop(images.images, images.target_height, images.target_width)
            # each check's noise from a stream of its own (with styles, the training set's mix of them)
            fresh_noise = functools.partial(self.batches.check_noise, min(t.quality_n, len(train)),
                                            counts=self.style_counts)
            quality_noise = fresh_noise(t.seed + QUALITY_SEED_OFFSET)  # the fixed batch every check reads
        self.quality = QualityCheck(run, t.quality_every, t.log_every, train, quality_noise, seed=t.seed,
                                    fresh_noise=fresh_noise, labels=labels, n_styles=self.n_styles)
        self.g_train: Any = self.G  # the module, wrapped by DDP and/or torch.compile
        self.d_pair: Any = DiscriminatorPair(self.D)
        if self.world > 1:
            if t.update == "simultaneous":  # DDP reduces each player's gradients in a backward pass of its own
                raise ConfigError("simultaneous updates run in one process; use update 'alternating' with torchrun")
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.g_train = DDP(self.G, device_ids=ids)
            self.d_pair = DDP(self.d_pair, device_ids=ids)
        # D for G's step: outside DDP (no gradient of D's weights to reduce), compiled with the others (step_guard.py)
        self.guard = StepGuard(self.route.compile, (self.g_train, self.d_pair, self.D), self.world, self.route.key)
        self.g_train, self.d_pair, self.d_for_g = self.guard.modules
        self.fixed_noise, self.fixed_styles = self.batches.preview(t.preview_n, t.seed + 1_000_003)
        self.step = 0
        self._calibrated_step: int | None = None  # the step whose EMA weights the batch-norm statistics fit
        self.seconds_before = 0.0  # training time of earlier sessions of this run
        if state is not None:
            self._load_state(state)

        self._stop = threading.Event()
        self._plateau = False  # quality stopped improving (with stop_on_plateau): the run ends at the next agreement
        self._unpaused = threading.Event()
        self._unpaused.set()
        self.preview_seconds: float | None = None  # extra (unsaved) previews at this interval, for a live view
        self.last_checkpoint: Path | None = None
        self._good_state: dict[str, Any] | None = None  # the last state known finite, for a rollback
        self._rolled_back = False
        self.is_main = dist.is_main()
        # told when run() starts
        self.notices: list[Notice] = [Notice(self.step, m, info=True) for m in [self.route.news()] if m]

    # ----------------------------------------------------------------------------------------- construction
    @classmethod
    def new(cls, config: RunConfig, out: Path | None = None, root: Path | None = None,
            progress: ProgressFn | None = None) -> "Trainer":
        """Load the data, create a run directory and build fresh models."""
        config.validate()
        images = load_training_images(config, progress)
        config.model.styles, style_news = resolve_styles(config.data.styles, images.files, config.model.styles)
        run = None
        if dist.is_main():
            run = RunDir.create(config, out=out, root=root)
            run.write_info(source=config.data.source, n_images=len(images.files), rejected=len(images.rejected),
                           image_shape=[images.channels, images.target_height, images.target_width],
                           created=time.strftime("%Y-%m-%d %H:%M:%S"), world_size=dist.world_size())
        run = RunDir(dist.broadcast_object(run.path if run else None))
        try:
            trainer = cls(config, run, images)
            trainer.notices += [Notice(0, line, info=True) for line in style_news]
            return trainer
        except BaseException:
            if dist.is_main():
                run.remove_if_untrained()  # a run that could not even be built leaves no empty folder behind
            raise

    @classmethod
    def resume(cls, path: Path, steps: int | None = None, minutes: float | None = None,
               device: str | None = None, progress: ProgressFn | None = None) -> "Trainer":
        """Continue a run from its newest loadable checkpoint, with the optimizer state and random streams."""
        run = RunDir.open(path, to_train=True)
        config = run.config()
        chosen = ckpt.load_first(run.checkpoint_candidates(), config)  # step checkpoints newest first, then best.pt
        if steps is not None:
            config.train.steps = steps
        if minutes is not None or steps is not None:
            config.train.minutes = minutes
        if device is not None:
            config.train.device = device
        config.validate()
        source = config.data.source
        if source != "demo" and not Path(source).exists():
            raise DataError(f"the images this run trained on are no longer at {source}: put them back there to "
                            f"continue training. The run itself is intact: its samples, gallery and export still work.")
        images = load_training_images(config, progress)
        if dist.is_main():
            config.save(run.config_path)
            run.truncate_stats(chosen.step)  # steps logged after the checkpoint are replayed
        dist.barrier()
        trainer = cls(config, run, images, chosen.state)
        trainer.notices += [Notice(chosen.step, note) for note in [chosen.note()] if note]  # what was passed over
        return trainer

    def _optimizer(self, module: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        t = self.config.train
        if t.optimizer == "sgd":
            return torch.optim.SGD(module.parameters(), lr=lr, momentum=t.momentum, foreach=True)
        try:  # fused Adam: one kernel for every parameter (CUDA, and the CPU in recent PyTorch)
            return torch.optim.Adam(module.parameters(), lr=lr, betas=(t.beta1, t.beta2), fused=True)
        except (RuntimeError, TypeError):
            return torch.optim.Adam(module.parameters(), lr=lr, betas=(t.beta1, t.beta2), foreach=True)

    # ------------------------------------------------------------------------------------------- control
    def request_stop(self) -> None:
        self._stop.set()
        self._unpaused.set()

    def set_paused(self, paused: bool) -> None:
        (self._unpaused.clear if paused else self._unpaused.set)()

    @property
    def paused(self) -> bool:
        return not self._unpaused.is_set()

    @property
    def compiled(self) -> bool:
        return self.guard.compiled

    # ------------------------------------------------------------------------------------------ the step
    def _autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def train_step(self) -> torch.Tensor:
        """One iteration of Algorithm 1; returns (loss_d, loss_g, D(x), D(G(z))) on the device."""
        t = self.config.train
        G, D = self.G, self.D
        apply_schedules(t, (self.opt_g, self.opt_d), self.step, self.session_progress)
        D.requires_grad_(True)
        if t.update == "simultaneous":
            return self._simultaneous_step()
        for i in range(t.k):
            real, real_y, z, fake_y = self.batches.draw(t.batch)
            # Only the last fake batch is reused for the generator step, so only it keeps G's graph.
            with torch.set_grad_enabled(i == t.k - 1), self._autocast():
                fake = self.g_train(z, fake_y)
                if self.augment_on:  # D sees reals and fakes through the same (differentiable) augmentation
                    real, fake = self.augment(real, self.gen, real_y), self.augment(fake, self.gen, fake_y)
            with self._autocast():
                real_logits, fake_logits, loss_d = self._discriminate(real, fake.detach(), real_y, fake_y)
            r1 = lazy_r1(self.D, real, real_y, self.step, t.r1_gamma, t.r1_every) if i == 0 else None
            loss_d = loss_d if r1 is None else loss_d + r1
            self.opt_d.zero_grad(set_to_none=True)
            self.scaler_d.scale(loss_d).backward()
            self.scaler_d.step(self.opt_d)
            self.scaler_d.update()
            apply_constraints(D)
            self.augment.observe(real_logits, dist.mean_across_ranks if self.world > 1 else None, t.batch * self.world,
                                 real_y)
        # The generator step needs gradients through D, not for D's weights (nor DDP's hooks on them).
        D.requires_grad_(False)
        with self._autocast():
            loss_g = self.g_loss(self.d_for_g(fake, fake_y).float(), t.g_loss)
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(loss_g).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        step_ema(self.G_ema, G, t, self.step, t.batch * self.world)
        return step_stats(loss_d, loss_g, real_logits, fake_logits)

    def _discriminate(self, real: torch.Tensor, fake: torch.Tensor, real_y: torch.Tensor | None = None,
                      fake_y: torch.Tensor | None = None):
        """D's logits on both batches (float32) and its loss, with the reconstruction term of a self-supervised D."""
        real_logits, fake_logits, recon = self.d_pair(real, fake, real_y, fake_y)
        real_logits, fake_logits = real_logits.float(), fake_logits.float()
        loss_d = self.d_loss(real_logits, fake_logits)
        if recon is not None:
            loss_d = loss_d + self.config.train.recon_weight * recon
        return real_logits, fake_logits, loss_d

    def _simultaneous_step(self) -> torch.Tensor:
        """Both players step from the same point: one batch, one forward pass through D (one dropout mask), D's
        gradient from its loss and G's from its own, as pylearn2's SGD trained the paper's MNIST model."""
        t = self.config.train
        real, real_y, z, fake_y = self.batches.draw(t.batch)
        with self._autocast():
            fake = self.g_train(z, fake_y)
            if self.augment_on:
                real, fake = self.augment(real, self.gen, real_y), self.augment(fake, self.gen, fake_y)
            real_logits, fake_logits, loss_d = self._discriminate(real, fake, real_y, fake_y)
            loss_g = self.g_loss(fake_logits, t.g_loss)
        self.opt_d.zero_grad(set_to_none=True)
        self.opt_g.zero_grad(set_to_none=True)
        # inputs=: each loss fills only its own player's gradients; the graph is shared, so it is kept once
        self.scaler_d.scale(loss_d).backward(inputs=list(self.D.parameters()), retain_graph=True)
        self.scaler_g.scale(loss_g).backward(inputs=list(self.G.parameters()))
        for scaler, opt in ((self.scaler_d, self.opt_d), (self.scaler_g, self.opt_g)):
            scaler.step(opt)
            scaler.update()
        apply_constraints(self.D)
        self.augment.observe(real_logits, None, t.batch, real_y)
        step_ema(self.G_ema, self.G, t, self.step, t.batch)
        return step_stats(loss_d, loss_g, real_logits, fake_logits)

    # ------------------------------------------------------------------------------------------- the loop
    def run(self) -> Iterator[Event]:
        """Train until the configured steps or minutes are reached, or a stop is requested."""
        t = self.config.train
        lock = RunLock(self.run_dir.lock_path)
        try:
            if self.is_main:
                lock.acquire()
        except GanStudioError as e:
            yield Failed(self.step, self.run_dir.path, str(e))
            return
        try:
            self._open_session()  # inside the try: a failure here still releases the lock
            yield Started(self.run_dir.path, self.step, t.steps, t.minutes, device_name(self.device),
                          self._precision_name(), len(self.images.files), self.shape)
            while self.notices:  # each told once
                yield self.notices.pop(0)
            if self.step == 0 and self.is_main:
                yield self._preview(save=True)
            self._good_state = self._snapshot()
            while True:
                if self.paused:
                    yield Paused(self.step)
                    with self.clock.pause():  # paused time is not training time
                        self._unpaused.wait()
                elapsed = self.clock.elapsed()
                reason = self._end_reason(elapsed)
                if reason is not None:
                    break
                notice = yield from self._advance()  # one iteration of Algorithm 1
                if notice is not None:  # the step was given up (out of memory, no compiler): go round again
                    yield notice
                    continue
                if self.schedule.log_due(self.step):
                    yield from self._log_window(elapsed)
                now = self.clock.now()
                yield from self._scheduled_preview(now)
                yield from self._scheduled_checkpoint(now)
            yield from self._finish(reason)
        except GanStudioError as e:
            yield Failed(self.step, self.run_dir.path, str(e))
        except torch.OutOfMemoryError:
            yield Failed(self.step, self.run_dir.path,
                         f"out of memory on {device_name(self.device)} at batch {t.batch}; try a smaller batch "
                         f"or resolution (the last checkpoint is kept)")
        except Exception as e:  # noqa: BLE001 - any failure must reach the user as a message, with a log
            if self.is_main:
                self.run_dir.error_log.write_text(traceback.format_exc(), encoding="utf-8")
            yield Failed(self.step, self.run_dir.path,
                         f"training failed at step {self.step}: {type(e).__name__}: {e} (details in error.log)")
        finally:
            lock.release()

    def _open_session(self) -> None:
        """Tidy the run folder; start this session's clock, schedule and statistics window."""
        if self.is_main:
            self.run_dir.remove_stale_temporaries()
            styles = {"styles": dict(zip(self.styles, self.style_counts)), "n_images": len(self.images.files)}
            self.run_dir.write_info(device=device_name(self.device), precision=self._precision_name(),
                                    **(styles if self.n_styles else {}))
        self.clock = SessionClock()
        self.session_progress = 0.0
        self.schedule = Schedule(self.config.train, self.step, self.world, now=self.clock.start)
        self._acc = torch.zeros(4, device=self.device)  # the window's summed statistics, on the device
        self._window_steps = 0

    def _end_reason(self, elapsed: float) -> str | None:
        """"steps", "time", "plateau" or "stopped" when training ends before the next step; None while it goes on."""
        if self.schedule.steps_reached(self.step):
            return "steps"
        # Under torchrun, ending on time, a plateau or a request is agreed by all ranks every log_every steps.
        if self.schedule.agreed_step(self.step):
            time_up = self.schedule.time_up(elapsed)
            if self.config.train.lr_anneal:  # every rank anneals alike: on the mean of their clocks
                done = self.schedule.progress(self.step, elapsed, 1.0)[0] or 0.0
                self.session_progress = done if self.world == 1 else \
                    float(dist.mean_across_ranks(torch.tensor(done, device=self.device)))
            if dist.any_rank(time_up or self._plateau or self._stop.is_set(), self.device):
                return "time" if time_up else "plateau" if self._plateau else "stopped"
        return None

    def _advance(self) -> Generator[Event, None, Notice | None]:
        """One training step into the statistics window; its value is, if every rank gave the step up (out of
        memory, no compiler: engine/step_guard.py), the Notice of what changed. A compile is a phase off the clock."""
        batch = self.config.train.batch
        compiling = self.guard.before_step(self.step, batch)
        self.g_train, self.d_pair, self.d_for_g = self.guard.modules
        yield from self.guard.pop_notices()
        with self.clock.pause() if compiling else contextlib.nullcontext():
            stats, failure, error = self.guard.attempt(self.train_step, self.step, batch)
        yield from self.guard.pop_notices()
        if failure is not None:
            return self._halve_batch() if failure == "out of memory" else self._fall_back_to_eager(error)
        self._acc += stats  # type: ignore[arg-type]  # a finished step has its statistics
        self.step += 1
        self._window_steps += 1
        return None

    def _log_window(self, elapsed: float) -> Iterator[Event]:
        """The window's mean statistics (with the quality check when due), or a rollback if a loss was not finite."""
        means = dist.mean_across_ranks(self._acc / self._window_steps)
        if not torch.isfinite(means).all():
            yield self._roll_back()
            self.schedule.rolled_back_to(self.step)
        else:
            quality, spent = None, 0.0
            if self.quality.due(self.step):
                checked = self.clock.now()
                quality = yield from self.quality.check(self.step, self.generate, lambda: self.state_dict(elapsed))
                share = trainer_reconstruction_share(self)
                quality = quality if share is None else {**quality, "recon_share": share}
                spent = self.clock.now() - checked  # not training time: kept out of images/s
                t = self.config.train
                self._plateau = t.stop_on_plateau and self.quality.plateaued(t.plateau_checks)
            stats = self._log(means, elapsed, quality, spent)
            yield stats
            yield from self.quality.overfitting(stats, self.augment_on, self.augment.adaptive, len(self.images.files))
        self._acc.zero_()
        self._window_steps = 0
        self.clock.new_window()

    def _scheduled_preview(self, now: float) -> Iterator[Preview]:
        if self.is_main and self.schedule.preview_due(self.step, now, self.preview_seconds):
            yield self._preview(save=self.schedule.grid_due(self.step))
            self.schedule.previewed(now)

    def _scheduled_checkpoint(self, now: float) -> Iterator[Event]:
        """A checkpoint when one is due, if the losses since the last are finite; a rollback if not."""
        if not self.schedule.checkpoint_due(self.step, now):
            return
        if self._window_is_finite(self._acc):
            yield from self._checkpoint(self.clock.elapsed(now))
        else:
            yield self._roll_back()
            self._acc.zero_()
            self._window_steps = 0
        self.schedule.checkpointed(self.step, now)

    def _finish(self, reason: str) -> Iterator[Event]:
        """The end of a session: the final state is checked, saved and previewed (each unless just done)."""
        session = self.clock.elapsed()
        if not self._window_is_finite(self._acc):
            raise GanStudioError(f"training diverged at step {self.step} (a loss is not finite); "
                                 f"the last checkpoint is intact")
        quality = None
        if self.quality.final_due(self.step):  # the final state gets its chance to be the best
            quality = yield from self.quality.check(self.step, self.generate, lambda: self.state_dict(session))
        self.quality.refine_best(self.step, self.generate, lambda: snapshot_generate(
            self.G_ema, self.run_dir.best_checkpoint, self.n_styles, self.device))
        if self.step != self.schedule.last_checkpoint_step or self.last_checkpoint is None:
            yield from self._checkpoint(session)
        if self.is_main and not self.schedule.grid_due(self.step):
            yield self._preview(save=True)
        yield Finished(self.step, self.run_dir.path, reason, self.seconds_before + session, quality)

    # ------------------------------------------------------------------------------------ faults and recovery
    def _window_is_finite(self, acc: torch.Tensor) -> bool:
        return bool(torch.isfinite(dist.mean_across_ranks(acc)).all())

    def _snapshot(self) -> dict[str, Any]:
        """A copy of the whole training state on the CPU, to roll back to if the game diverges."""
        return copy.deepcopy(self.state_dict())

    def _roll_back(self) -> Notice:
        """A loss went NaN or infinite: return to the last good state with half the learning rates, once."""
        t = self.config.train
        bad_step = self.step
        good = self._good_state
        if self._rolled_back or good is None:
            raise GanStudioError(
                f"training diverged again at step {bad_step} after the learning rates were lowered; the last "
                f"checkpoint is intact: try a lower learning rate or another model")
        self._rolled_back = True
        self._load_state(copy.deepcopy(good))  # loading may alias tensors: keep the snapshot pristine
        t.lr_g, t.lr_d = t.lr_g / 2, t.lr_d / 2
        for opt, lr in ((self.opt_g, t.lr_g), (self.opt_d, t.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr
        if self.is_main:
            self.config.save(self.run_dir.config_path)
            self.run_dir.truncate_stats(self.step)
        return Notice(self.step, f"training diverged at step {bad_step} (a loss was not finite): rolled back to "
                                 f"step {self.step} and halved the learning rates (G {t.lr_g:g}, D {t.lr_d:g})")

    def _fall_back_to_eager(self, error: BaseException | None) -> Notice:
        """torch.compile failed (no compiler, an unsupported op): train the same networks eagerly."""
        self.g_train, self.d_pair, self.d_for_g = self.guard.fall_back()
        self.opt_g.zero_grad(set_to_none=True)
        self.opt_d.zero_grad(set_to_none=True)
        return Notice(self.step, f"torch.compile is not available here ({type(error).__name__}); "
                                 f"training without it")

    def _halve_batch(self) -> Notice:
        """Out of memory in a step: free what the step held and go on with half the batch."""
        t = self.config.train
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        if t.batch <= 1:
            raise torch.OutOfMemoryError("out of memory at batch 1")
        t.batch //= 2
        if self.is_main:
            self.config.save(self.run_dir.config_path)
        return Notice(self.step, f"out of memory on {device_name(self.device)}: continuing with batch {t.batch}")

    def _precision_name(self) -> str:
        return {None: "float32", torch.bfloat16: "bfloat16", torch.float16: "float16"}[self.amp_dtype]

    def _log(self, means: torch.Tensor, elapsed: float, quality: dict[str, float] | None, excluded: float) -> StepStats:
        """The window's statistics as a record of stats.jsonl; ``excluded`` seconds of it were not training."""
        t = self.config.train
        a = self.augment
        signals = torch.cat([a.p_mean.float().view(1), a.rt.float().view(1), a.p.float().view(-1)[:self.n_styles]])
        loss_d, loss_g, d_real, d_fake, p, rt, *p_styles = torch.cat([means, signals.to(means)]).tolist()  # the
        # loop's only host sync
        rate = self._window_steps / max(self.clock.window_seconds(excluded), 1e-9)
        progress, eta = self.schedule.progress(self.step, elapsed, rate)
        stats = StepStats(self.step, self.seconds_before + elapsed, rate * t.batch * self.world, loss_d, loss_g,
                          d_real, d_fake, self.opt_g.param_groups[0]["lr"], self.opt_d.param_groups[0]["lr"],
                          progress, eta, round(p, 4) if self.augment_on else None, round(rt, 4),
                          quality.get("swd") if quality else None, quality.get("copy_share") if quality else None,
                          {s: round(v, 4) for s, v in zip(self.styles, p_styles)} if self.augment_on and p_styles
                          else None, quality.get("recon_share") if quality else None)
        if self.is_main:
            self.run_dir.append_stats(stats.to_json())
        return stats

    @torch.no_grad()
    def generate(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """EMA generator images in [0, 1], float32 on the CPU. With styles, ``y`` (N, S) is each image's style (or
        blend); without it, each row of ``z`` carries its style after its noise (the quality check's batches)."""
        self._calibrate_ema()
        return generate_with(self.G_ema, z, self.n_styles, self.device, y)

    def _calibrate_ema(self) -> None:
        """Batch-norm statistics for the EMA weights of this step: once a step (a preview, a quality check and a
        checkpoint of the same step share them), in the training's precision (the bulk of a checkpoint's cost)."""
        if self._calibrated_step == self.step:
            return
        m = self.config.model
        with self._autocast():
            recalibrate_batchnorm(self.G_ema, m.z_dim, m.noise, self.device, seed=self.config.train.seed + self.step,
                                  n_styles=self.n_styles)
        self._calibrated_step = self.step

    def _preview(self, save: bool) -> Preview:
        images = self.generate(self.fixed_noise, self.fixed_styles)
        grid = make_grid(images.clamp(0, 1), nrow=int(math.ceil(math.sqrt(len(images)))), padding=2, pad_value=1.0)
        array = (grid.mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy())
        if array.shape[2] == 1:
            array = np.repeat(array, 3, axis=2)
        path = None
        if save:
            from PIL import Image

            path = self.run_dir.sample_path(self.step)
            atomic_save(path, lambda f: Image.fromarray(array).save(f, "PNG"))
        return Preview(self.step, array, path)

    # ------------------------------------------------------------------------------------------ checkpoints
    def state_dict(self, session_seconds: float = 0.0) -> dict[str, Any]:
        """Everything a resume needs, as a checkpoint holds it (engine/trainer_state.py)."""
        return trainer_state(self, session_seconds)

    def _checkpoint(self, session_seconds: float) -> Iterator[CheckpointSaved]:
        """Write a checkpoint (rank 0 only); every caller has checked that the losses since the last one are
        finite, so a diverged state never reaches a file."""
        state = self.state_dict(session_seconds)
        self._good_state = copy.deepcopy(state)
        if not self.is_main:
            return
        path = self.run_dir.checkpoint_path(self.step)
        ckpt.save_checkpoint(path, state)
        ckpt.prune_checkpoints(self.run_dir.checkpoints, self.config.train.keep_last)
        self.last_checkpoint = path
        yield CheckpointSaved(self.step, path)

    def _load_state(self, state: dict[str, Any]) -> None:
        load_trainer_state(self, state)
