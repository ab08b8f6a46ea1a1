"""The command line: a thin driver of the engine. ``gan-studio --help`` lists the commands.

Errors a user can fix are one line on stderr and exit status 1 (2 for a malformed command line).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from gan_studio import __version__
from gan_studio.errors import ConfigError, GanStudioError
from gan_studio.progress import ProgressBar, format_duration

if TYPE_CHECKING:
    from gan_studio.config import RunConfig

from gan_studio.defaults import DEFAULT_MINUTES
from gan_studio.families import FAMILIES, SMALL_DATASET


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except GanStudioError as e:
        message = " ".join(str(e).splitlines())  # one line, whatever path or value it quotes
        print(f"gan-studio: error: {message}", file=sys.stderr)
        rejected = getattr(e, "rejected", None)
        for r in (rejected or [])[:20]:
            print(f"  rejected {r.path}: {r.reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ngan-studio: interrupted", file=sys.stderr)
        return 130


def add_snapshot_choice(parser: argparse.ArgumentParser) -> None:
    """--checkpoint / --which: which of a run's generators to use (sample and export)."""
    parser.add_argument("--checkpoint", type=Path,
                        help="a checkpoint file (default: the run's best snapshot, else newest)")
    parser.add_argument("--which", choices=["best", "latest"], default="best",
                        help="without --checkpoint: the best snapshot by the quality check (default) or the newest")


def add_style_choice(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--style", metavar="NAME", help="a model with styles: every image in this style "
                       "(default: each seed's style in turn)")
    group.add_argument("--blend", metavar="NAME:W,NAME:W", help="a model with styles: a blend of styles, e.g. "
                       "monet:0.6,song:0.4 (weights are normalised)")


def style_from_args(args: argparse.Namespace, run: Path):
    """The style vector --style or --blend asks of ``run``'s model (None: each seed's own)."""
    from gan_studio.data.styles import parse_blend, style_vector
    from gan_studio.engine.rundir import RunDir

    text = args.style or args.blend
    if text is None:
        return None
    names = RunDir.open(run).config().model.styles
    if not names:
        raise ConfigError(f"{run} has no styles: it was trained on one data set (train on a folder of style "
                          f"folders for a model with styles)")
    try:
        return style_vector(names, parse_blend(args.style if args.style else text, names))
    except ValueError as e:
        raise ConfigError(str(e)) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gan-studio", description="Train GANs on your own folder of images.")
    p.add_argument("--version", action="version", version=f"gan-studio {__version__}")
    sub = p.add_subparsers(metavar="COMMAND")

    s = sub.add_parser("scan", help="check a folder: usable images, sizes, and rejected files with reasons")
    s.add_argument("folder", type=Path)
    s.set_defaults(func=cmd_scan)

    t = sub.add_parser("train", help="train a GAN on a folder (or --demo), or --resume a run")
    t.add_argument("folder", nargs="?", help="folder of images (or an MNIST .csv.gz / idx file)")
    t.add_argument("--demo", action="store_true", help="train on the built-in procedural landscapes")
    t.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue a run from its newest checkpoint")
    t.add_argument("--preset", help="a named configuration to start from (gan-studio presets lists them); "
                                    "options given on the command line override it")
    t.add_argument("--model", choices=list(FAMILIES), help=f"model family (default: fastgan for a folder of fewer "
                                                          f"than {SMALL_DATASET:,} images, mlp for small grayscale "
                                                          f"images such as digits, else dcgan)")
    t.add_argument("--res", type=int, help="short side in pixels (default: the model's size, 64 (28 for mlp), or "
                                           "less where most images are smaller)")
    t.add_argument("--aspect", default=None, help="width:height, e.g. 1:1 or 2:1 for landscapes (default: the "
                                                  "shape most of the images have)")
    t.add_argument("--crop", choices=["center", "pad", "random"], help="how images meet the aspect (default center)")
    t.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                   help="random horizontal flips of the data (default: as the model family's record says)")
    t.add_argument("--batch", type=int, help="batch size (default 64)")
    length = t.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help="train until this total step")
    length.add_argument("--minutes", type=float, help=f"train for this many minutes (default {DEFAULT_MINUTES:g})")
    t.add_argument("--k", type=int, help="discriminator steps per generator step (default 1)")
    t.add_argument("--g-loss", choices=["non_saturating", "minimax"], help="generator loss (default non_saturating)")
    t.add_argument("--update", choices=["alternating", "simultaneous"],
                   help="alternating D and G steps (Algorithm 1, the default) or both from one batch (k = 1)")
    t.add_argument("--lr-g", type=float, help="generator learning rate (default 2e-4; 3e-4 for fastgan)")
    t.add_argument("--lr-d", type=float, help="discriminator learning rate (default 2e-4; 3e-4 for fastgan)")
    t.add_argument("--width", type=int, help="channel width of the convolutional models (default 64)")
    t.add_argument("--augment", choices=["auto", "on", "off"],
                   help="differentiable augmentation of what D sees, with an adaptive strength (default auto: on "
                        "for the convolutional models on fewer than 2,000 images)")
    t.add_argument("--quality-every", type=int, metavar="STEPS",
                   help="measure sample quality (SWD) every STEPS and keep the best snapshot (default 250; 0: off)")
    t.add_argument("--stop-on-plateau", action="store_true", default=None,
                   help="end training when quality stops improving for 4 quality checks in a row")
    t.add_argument("--checkpoint-every", type=int, metavar="STEPS",
                   help="also checkpoint every STEPS steps (always: every 2 minutes and on every stop)")
    t.add_argument("--sample-every", type=int, metavar="STEPS", help="save a preview grid every STEPS (default 100)")
    t.add_argument("--out", type=Path, metavar="RUN_DIR",
                   help="the run folder (default: a new one under the runs folder)")
    t.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    t.add_argument("--amp", choices=["auto", "bf16", "fp16", "off"], help="mixed precision (default auto)")
    t.add_argument("--compile", choices=["auto", "on", "off"],
                   help="torch.compile the networks (default auto: on CUDA GPUs); falls back to eager if it fails")
    t.add_argument("--seed", type=int, help="random seed (default 0)")
    t.add_argument("--styles", choices=["auto", "off"],
                   help="auto (default): a folder of style folders (one per painter) trains one model with a style "
                        "per folder; off: one model on every image")
    t.set_defaults(func=cmd_train)

    m = sub.add_parser("sample", help="generate images from a trained run")
    m.add_argument("run", type=Path, metavar="RUN_DIR")
    m.add_argument("--n", type=int, default=64, help="number of images (default 64)")
    m.add_argument("--seed", type=int, default=0, help="seed of the first image; image i uses seed+i (default 0)")
    m.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    m.add_argument("--grid", action="store_true", help="also write grid.png, all images on one sheet")
    add_style_choice(m)
    add_snapshot_choice(m)
    m.add_argument("--device", default="auto")
    m.set_defaults(func=cmd_sample)

    v = sub.add_parser("eval", help="measure a run's samples: SWD, diversity (MS-SSIM), copies, Parzen estimate")
    v.add_argument("run", type=Path, metavar="RUN_DIR")
    v.add_argument("--data", type=Path, help="the real images to compare with (default: the run's own data set)")
    v.add_argument("--n", type=int, default=300, help="number of samples (default 300; SWD compares equal counts)")
    v.add_argument("--seed", type=int, default=0, help="seed of the first sample and of the metrics (default 0)")
    v.add_argument("--which", choices=["best", "latest"], default="best", help="which snapshot (default best)")
    v.add_argument("--no-parzen", action="store_true", help="skip the Parzen-window estimate")
    v.add_argument("--held-out", type=Path, metavar="DATA",
                   help="images the model never saw, for the Parzen estimate (default: the test split beside an "
                        "MNIST training file; else the training images, which rewards memorising, and says so)")
    v.add_argument("--device", default="auto")
    v.set_defaults(func=cmd_eval)

    d = sub.add_parser("demo", help="write the built-in demo landscapes to a folder")
    d.add_argument("out", type=Path, nargs="?", help="folder (default: the cache folder)")
    d.add_argument("--n", type=int, default=300)
    d.add_argument("--size", type=int, default=128)
    d.set_defaults(func=cmd_demo)

    e = sub.add_parser("export", help="export a gallery from a run: images, contact sheet, HTML page, GIFs")
    e.add_argument("run", type=Path, metavar="RUN_DIR")
    e.add_argument("--n", type=int, default=100, help="number of new samples (default 100)")
    e.add_argument("--seed", type=int, default=0, help="seed of the first sample (default 0)")
    e.add_argument("--out", type=Path, required=True, help="output folder")
    e.add_argument("--format", choices=["png", "jpg"], default="png")
    e.add_argument("--size", type=int, help="long side of each image in pixels (default: the run's resolution)")
    e.add_argument("--grid", action="store_true", help="also a contact sheet")
    e.add_argument("--html", action="store_true", help="also a self-contained HTML gallery page")
    e.add_argument("--gif", action="store_true", help="also animated GIFs: a latent walk and the training progress")
    e.add_argument("--favourites", action="store_true",
                   help="export the seeds marked as favourites in the gallery (RUN_DIR/favourites.json) instead of --n")
    add_style_choice(e)
    add_snapshot_choice(e)
    e.add_argument("--device", default="cpu")
    e.add_argument("--overwrite", action="store_true", help="replace files that already exist")
    e.set_defaults(func=cmd_export)

    x = sub.add_parser("export-model", help="export the generator as an ONNX or TorchScript file, with a model card")
    x.add_argument("run", type=Path, metavar="RUN_DIR")
    x.add_argument("--checkpoint", default="best", metavar="best|latest|STEP",
                   help="the run's best snapshot (default), its newest checkpoint, or the checkpoint of a step")
    x.add_argument("--format", choices=["onnx", "torchscript"],
                   help="default: torchscript for a .pt or .ts file name, else onnx")
    x.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="the model file; its card goes beside it as FILE.json and FILE.md")
    x.add_argument("--force", action="store_true", help="replace the file and its card if they exist")
    x.set_defaults(func=cmd_export_model)

    g = sub.add_parser("gui", help="open the desktop app")
    g.add_argument("folder", type=Path, nargs="?", help="a folder of images to load")
    g.set_defaults(func=cmd_gui)

    pr = sub.add_parser("presets", help="list the named configurations for train --preset")
    pr.set_defaults(func=cmd_presets)

    r = sub.add_parser("runs", help="list past runs")
    r.add_argument("--root", type=Path, help="runs folder (default: the per-user one)")
    r.set_defaults(func=cmd_runs)

    dr = sub.add_parser("doctor", help="what this machine trains on: device, precision, threads, the cache folder "
                                       "and the measured CPU routes")
    dr.add_argument("--probe", action="store_true",
                    help="measure the fastest CPU route for --model/--res/--batch now, again if one is cached "
                         "(under 10 s; training then takes it)")
    dr.add_argument("--model", choices=list(FAMILIES), default="dcgan", help="with --probe (default dcgan)")
    dr.add_argument("--res", type=int, default=64, help="with --probe (default 64)")
    dr.add_argument("--batch", type=int, default=64, help="with --probe (default 64)")
    dr.set_defaults(func=cmd_doctor)
    return p


# ------------------------------------------------------------------------------------------------- scan
def cmd_scan(args: argparse.Namespace) -> int:
    from gan_studio.data import scan_folder

    bar = ProgressBar("scanning")
    result = scan_folder(args.folder, progress=lambda done, total: bar.update(done, total))
    bar.close()
    print(f"{result.root}")
    print(f"  usable images: {len(result.images)}")
    if result.images:
        ws = [i.width for i in result.images]
        hs = [i.height for i in result.images]
        print(f"  sizes: {min(ws)}x{min(hs)} to {max(ws)}x{max(hs)} pixels (width x height)")
        modes: dict[str, int] = {}
        for i in result.images:
            modes[i.mode] = modes.get(i.mode, 0) + 1
        print("  modes: " + ", ".join(f"{k} {v}" for k, v in sorted(modes.items())))
    from gan_studio.data.styles import detect_styles

    layout = detect_styles([i.path for i in result.images])
    if layout is not None:  # what train --styles auto will do with this folder
        print(f"  styles: {layout.describe()}")
        for line in layout.messages():
            print(f"    {line}")
    print(f"  rejected: {len(result.rejected)}")
    for r in result.rejected:
        print(f"    {r.path}: {r.reason}")
    if result.ignored:
        print(f"  ignored (not image files): {len(result.ignored)}")
    if not result.images:
        print(f"gan-studio: error: no usable image in {args.folder}", file=sys.stderr)
        return 1
    return 0


# ------------------------------------------------------------------------------------------------ train
# (option, section, field): a train option given on the command line replaces the default's value.
TRAIN_OPTIONS = [("res", "data", "res"), ("aspect", "data", "aspect"), ("crop", "data", "crop"),
                 ("width", "model", "width"), ("batch", "train", "batch"), ("k", "train", "k"),
                 ("g_loss", "train", "g_loss"), ("update", "train", "update"), ("lr_g", "train", "lr_g"),
                 ("lr_d", "train", "lr_d"), ("checkpoint_every", "train", "checkpoint_every"),
                 ("sample_every", "train", "sample_every"), ("device", "train", "device"), ("amp", "train", "amp"),
                 ("seed", "train", "seed"), ("compile", "train", "compile"), ("augment", "train", "augment"),
                 ("quality_every", "train", "quality_every"), ("stop_on_plateau", "train", "stop_on_plateau"),
                 ("styles", "data", "styles")]


def data_source(args: argparse.Namespace) -> str:
    if args.demo and args.folder:
        raise ConfigError("give a folder or --demo, not both")
    if not args.demo and not args.folder:
        raise ConfigError("give a folder of images to train on, --demo for the built-in landscapes, "
                          "or --resume RUN_DIR")
    return "demo" if args.demo else str(Path(args.folder).expanduser().resolve())


def check_options(args: argparse.Namespace) -> None:
    """What the options alone can tell, said before a single image is read (a folder can take a while)."""
    from gan_studio.config import DataConfig, image_size, parse_aspect
    from gan_studio.families import family

    if args.aspect is not None:
        parse_aspect(args.aspect)
    if args.res is not None:
        DataConfig(source=".", res=args.res).validate()
    if args.model and args.res:
        why_not = family(args.model).check_shape(*image_size(args.res, args.aspect or "1:1"))
        if why_not:
            raise ConfigError(why_not)


def config_from_args(args: argparse.Namespace, summary) -> "RunConfig":
    """A RunConfig for a new run: the defaults policy's choice for this data on this device (the one the app
    makes), then a preset's values, then the options given on the command line."""
    from gan_studio.defaults import DEFAULT_MINUTES, defaults_for
    from gan_studio.engine.device import resolve_device

    device = resolve_device(args.device or "auto").type
    cfg = defaults_for(summary, device, preset=args.preset, model=args.model)
    cfg.data.source = summary.source
    for option, section, key in TRAIN_OPTIONS:
        value = getattr(args, option)
        if value is not None:
            setattr(getattr(cfg, section), key, value)
    if args.flip is not None:
        cfg.data.flip = args.flip
    if args.steps is not None or args.minutes is not None:
        cfg.train.steps, cfg.train.minutes = args.steps, args.minutes
    elif cfg.train.steps is None and cfg.train.minutes is None:
        cfg.train.minutes = DEFAULT_MINUTES
    return cfg.validate()


def cmd_train(args: argparse.Namespace) -> int:
    from gan_studio.engine import Trainer
    from gan_studio.engine import distributed as dist

    if dist.env_world_size() > 1:  # launched by torchrun: one process per GPU (or CPU worker, with gloo)
        args.device = dist.init_from_env(args.device or "auto")
    try:
        return _train(args, Trainer)
    finally:
        dist.shutdown()


def _train(args: argparse.Namespace, trainer_class) -> int:
    from gan_studio.data.summary import summarize_source

    if args.resume:
        if args.folder or args.demo:
            raise ConfigError("--resume continues a run with its own data; do not give a folder or --demo")
        bar = ProgressBar("loading images")
        trainer = trainer_class.resume(args.resume, steps=args.steps, minutes=args.minutes, device=args.device,
                                 progress=lambda done, total: bar.update(done, total))
    else:
        source = data_source(args)
        check_options(args)
        bar = ProgressBar("checking images")
        cfg = config_from_args(args, summarize_source(source, lambda done, total: bar.update(done, total)))
        bar.close()
        bar = ProgressBar("loading images")
        trainer = trainer_class.new(cfg, out=args.out, progress=lambda done, total: bar.update(done, total))
    bar.close()
    report_skipped(trainer.images)
    return drive_training(trainer)


def report_skipped(images, limit: int = 20) -> None:
    """Files the data set could not use, with reasons: never a silent skip."""
    rejected = getattr(images, "rejected", [])
    if not rejected:
        return
    print(f"skipped {len(rejected)} file(s) that could not be used:", file=sys.stderr)
    for r in rejected[:limit]:
        print(f"  {r.path}: {r.reason}", file=sys.stderr)
    if len(rejected) > limit:
        print(f"  ... and {len(rejected) - limit} more (gan-studio scan lists them all)", file=sys.stderr)


def drive_training(trainer) -> int:
    """Print the trainer's events; Ctrl-C (or SIGTERM) stops cleanly after the current step, with a checkpoint."""
    from gan_studio.engine import CheckpointSaved, Failed, Finished, Notice, Preview, RunDir, Started, StepStats
    from gan_studio.engine.events import FINISH_REASONS

    def on_signal(signum, frame):  # first signal: stop cleanly; second: the default handler
        print("\nstopping after this step (a checkpoint will be saved); press Ctrl-C again to abort",
              file=sys.stderr)
        trainer.request_stop()
        signal.signal(signum, signal.SIG_DFL)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)} \
        if _main_thread() else {}
    if not trainer.is_main:  # under torchrun only rank 0 speaks
        try:
            return 1 if any(isinstance(e, Failed) for e in list(trainer.run())) else 0
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
    bar = ProgressBar("training")
    status = 1
    try:
        for event in trainer.run():
            if isinstance(event, Started):
                length = (f"to step {event.total_steps}" if event.total_steps is not None else "") + \
                         (f" for {event.minutes:g} min" if event.minutes is not None else "")
                bar.message(f"run {event.run_dir}\n  {event.n_images} images of {event.image_shape[2]}x"
                            f"{event.image_shape[1]}x{event.image_shape[0]} (WxHxC) on {event.device} "
                            f"({event.precision}), from step {event.step} {length}".rstrip())
            elif isinstance(event, StepStats):
                extra = (f"step {event.step} D {event.loss_d:.3f} G {event.loss_g:.3f} D(x) {event.d_real:.2f} "
                         f"D(G(z)) {event.d_fake:.2f} {event.images_per_s:.0f} img/s")
                if event.augment_p is not None:
                    extra += f" aug {event.augment_p:.2f}"
                if event.swd is not None:
                    bar.message(f"  quality at step {event.step}: SWD {event.swd:.1f} (lower is better), "
                                f"{event.copy_share:.0%} copies")
                if event.progress is not None:
                    bar.update(event.step, fraction=event.progress, eta=event.eta_s, extra=extra)
                else:
                    bar.update(event.step, extra=extra)
            elif isinstance(event, CheckpointSaved):
                kind = "best snapshot so far" if RunDir.is_best(event.path) else "checkpoint"
                bar.message(f"  {kind}: {event.path}")
            elif isinstance(event, Notice):
                bar.message(f"  note: {event.message}")
            elif isinstance(event, Preview) and event.path is not None and event.step:
                pass  # preview grids land in RUN/samples; the bar line stays quiet
            elif isinstance(event, Finished):
                bar.close()
                why = FINISH_REASONS.get(event.reason, event.reason)
                if event.quality:
                    print(f"final quality: SWD {event.quality['swd']:.1f}, {event.quality['copy_share']:.0%} copies",
                          file=sys.stderr)
                print(f"finished at step {event.step} ({why}) after {format_duration(event.seconds)} of training\n"
                      f"  run folder: {event.run_dir}\n  samples: {RunDir(event.run_dir).samples}\n"
                      f"  continue with: gan-studio train --resume {event.run_dir}", file=sys.stderr)
                status = 0
            elif isinstance(event, Failed):
                bar.close()
                print(f"gan-studio: error: {event.message}", file=sys.stderr)
                status = 1
    finally:
        bar.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return status


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


# ----------------------------------------------------------------------------------------------- sample
def cmd_sample(args: argparse.Namespace) -> int:
    from gan_studio.engine import load_generator
    from gan_studio.export import save_grid, save_images

    if args.n < 1:
        raise ConfigError("--n must be at least 1")
    gen = load_generator(args.run, checkpoint=args.checkpoint, device=args.device, which=args.which)
    for note in gen.notes:  # a damaged checkpoint was passed over: say which one is used
        print(f"note: {note}", file=sys.stderr)
    seeds = list(range(args.seed, args.seed + args.n))
    style = style_from_args(args, gen.run_dir)
    bar = ProgressBar("sampling", total=args.n)
    images = gen.images(seeds, progress=lambda done, total: bar.update(done, total, force=done == total), style=style)
    bar.close()
    bar = ProgressBar("writing", total=args.n)
    paths = save_images(images, seeds, args.out, run_name=gen.run_dir.name, step=gen.step,
                        progress=lambda done, total: bar.update(done, total, force=done == total),
                        styles=gen.style_labels(seeds, style) if gen.styles else None)
    bar.close()
    print(f"wrote {len(paths)} images from step {gen.step} of {gen.run_dir.name} to {args.out}", file=sys.stderr)
    if args.grid:
        grid = save_grid(images, Path(args.out) / "grid.png")
        print(f"wrote {grid}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------------------- eval
def cmd_eval(args: argparse.Namespace) -> int:
    import json

    from PIL import Image

    from gan_studio.engine.quality import evaluate_run
    from gan_studio.engine.rundir import RunDir
    from gan_studio.fileio import atomic_save, atomic_write_text

    if args.n < 2:
        raise ConfigError("--n must be at least 2")
    print(f"evaluating {args.n} samples of {args.run} ...", file=sys.stderr)
    figures, pairs = evaluate_run(args.run, data=str(args.data) if args.data else None, n=args.n, seed=args.seed,
                                  which=args.which, device=args.device, parzen_ll=not args.no_parzen,
                                  held_out=str(args.held_out) if args.held_out else None)
    figures_path, pairs_path = RunDir.open(args.run).eval_paths(figures["step"])
    text = json.dumps(figures, indent=2)
    try:
        atomic_write_text(figures_path, text + "\n")
        atomic_save(pairs_path, lambda f: Image.fromarray(pairs).save(f, "PNG"))
    except OSError as e:  # a folder in the way, a full disk
        raise GanStudioError(f"cannot write the evaluation into {figures_path.parent}: {e.strerror or e}") from None
    for note in figures.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    print(text)
    print(f"SWD {figures['swd']:.1f} (n={figures['swd_n']}), copies {figures['copy_share']:.1%}, MS-SSIM "
          f"{figures['ms_ssim_samples']:.3f} (training set {figures['ms_ssim_train']:.3f})\n"
          + (f"Parzen log-likelihood {figures['parzen']['test_ll']} nats of "
             + ("held-out images" if figures["parzen"]["held_out"] else "training images (not held out)") + "\n"
             if "parzen" in figures else "") +
          f"wrote {figures_path} and the closest pairs, {pairs_path}", file=sys.stderr)
    for name, f in figures.get("styles", {}).items():  # a conditional run, style by style
        print(f"  {name}: SWD {f['swd']:.1f} (n={f['n']}, against {name}'s images), copies {f['copy_share']:.1%}, "
              f"style accuracy {f['style_accuracy']:.0%} (the style meter reads {f['meter_heldout_accuracy']:.0%} "
              f"of held-out real {name} images right)", file=sys.stderr)
    return 0


# ------------------------------------------------------------------------------------------------- export
def cmd_export(args: argparse.Namespace) -> int:
    from gan_studio.engine.rundir import RunDir
    from gan_studio.export import export_run

    seeds = None
    if args.favourites:
        seeds = RunDir.open(args.run).read_favourites()  # a damaged favourites.json is an error, not "none"
        if not seeds:
            raise GanStudioError(f"{args.run} has no favourites yet: mark some in the gallery, "
                                 f"or export --n new samples")
    bar = ProgressBar("exporting")
    result = export_run(args.run, args.out, n=args.n, first_seed=args.seed, fmt=args.format, size=args.size,
                        grid=args.grid, html=args.html, gif=args.gif, overwrite=args.overwrite, seeds=seeds,
                        checkpoint=args.checkpoint, which=args.which, device=args.device,
                        progress=lambda done, total: bar.update(done, total, force=done == total),
                        style=style_from_args(args, args.run))
    bar.close()
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"exported {len(result.files)} file(s) to {result.out}", file=sys.stderr)
    return 0


def cmd_export_model(args: argparse.Namespace) -> int:
    from gan_studio.model_export import export_model, model_export_plan, snapshot_choice

    existing = [p for p in model_export_plan(args.out) if p.exists()]
    if existing and not args.force:
        raise GanStudioError(f"{existing[0]} already exists; add --force to replace it")
    result = export_model(args.run, args.out, fmt=args.format, checkpoint=snapshot_choice(args.checkpoint),
                          overwrite=args.force)
    print(f"exported the generator of step {result.step} as {result.format}: {result.model}\n"
          f"  model card: {result.card_json}, {result.card_md}", file=sys.stderr)
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    from gan_studio.gui.app import main as gui_main

    return gui_main([str(args.folder)] if args.folder else [])


# ------------------------------------------------------------------------------------------------- misc
def cmd_demo(args: argparse.Namespace) -> int:
    from gan_studio.data.demo import ensure_demo_folder

    bar = ProgressBar("painting landscapes", total=args.n)
    folder = ensure_demo_folder(args.out, n=args.n, size=args.size, progress=lambda d, t: bar.update(d, t))
    bar.close()
    print(folder)
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    from gan_studio.presets import PRESETS

    for name, preset in PRESETS.items():
        print(f"{name:<16} {preset.description}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from gan_studio.engine.rundir import list_runs, summarize

    runs = list_runs(args.root)
    if not runs:
        print("no runs yet", file=sys.stderr)
    for run in runs:  # small files only (no torch); a damaged run is said on its own line and the list goes on
        s = summarize(run)
        if s.damage or s.config is None:
            print(f"{run.path}  damaged: {s.damage}")
        else:
            print(f"{run.path}  {s.config.model.name}  step {s.step}  {s.config.data.source}")
        for problem in s.problems:
            print(f"  damaged: {problem}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from gan_studio.engine.doctor import report

    if args.probe:
        check_options(argparse.Namespace(aspect=None, res=args.res, model=args.model))
    probe = {"model": args.model, "res": args.res, "batch": args.batch} if args.probe else None
    print("\n".join(report(probe)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
