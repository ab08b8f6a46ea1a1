"""One damaged run folder never breaks the others (issue #20).

The cases users measured, each reproduced: a config.json that is not JSON, a stats line of a wrong type, a truncated
newest checkpoint beside a good best.pt, a listing that imported PyTorch. Then property-based tests (hypothesis)
damage each file of a real run folder in many ways and drive ``runs``, ``sample``, ``export``, ``eval`` and
``train --resume`` through it: a clear one-line error (exit 1) or a damaged state, never a traceback, and never a
change to the healthy run beside it (hashed before and after every example).

Permission denied is simulated (the tests run as root, whom chmod does not stop): ``deny_reading`` makes
``open``/``io.open``/``os.open`` of the damaged file raise EACCES, as they would for another user.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from gan_studio.cli import main
from gan_studio.engine.rundir import RunDir, summarize

ROOT = Path(__file__).resolve().parents[1]
# torch's note on the pickle protocol of noise it was handed: the damage is reported, the note is expected
pytestmark = pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
NEWEST, OLDER = "checkpoints/step_00000008.pt", "checkpoints/step_00000006.pt"
JSON_FILES = ["config.json", "run.json", "favourites.json", "train.lock", "checkpoints/best.json"]
CHECKPOINTS = ["checkpoints/best.pt", NEWEST, OLDER]
FOLDERS = ["checkpoints", "samples", "eval"]  # replaced by a file
TARGETS = JSON_FILES + ["stats.jsonl", "samples/step_00000008.png"] + CHECKPOINTS + FOLDERS
SAMPLING = ["config.json"] + CHECKPOINTS  # what sampling reads
FILE_DAMAGE = ["truncate", "empty", "noise", "splice", "directory", "fifo", "permission", "delete"]
JSON_DAMAGE = ["wrong type", "missing key", "huge value", "nan"]
STALE_LOCK = {"pid": 2 ** 22 + 12345, "host": socket.gethostname()}  # a process that does not exist


def examples(n: int) -> settings:
    """``n`` examples (times $DAMAGE_EXAMPLES_SCALE, to search longer by hand)."""
    n = max(1, round(n * float(os.environ.get("DAMAGE_EXAMPLES_SCALE", "1"))))
    return settings(max_examples=n, deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


# ------------------------------------------------------------------------------------------- the run
def make_base_run(base: Path, images: Path) -> Path:
    """A small trained run, made once per session (this module and the GUI test share it on disk): checkpoints at
    steps 4, 6 and 8, best.pt and best.json (a quality check every 4 steps), sample grids, favourites."""
    run = base / "damage-base" / "20240102-120000-dcgan-base"
    if (run / "favourites.json").exists():
        return run
    from test_trainer import small_config

    from gan_studio.engine import Finished, Trainer

    shutil.rmtree(run, ignore_errors=True)
    with one_torch_thread():
        cfg = small_config(images, steps=8, checkpoint_every=2, quality_every=4, sample_every=4, preview_n=16)
        cfg.model.width = 4  # small checkpoints: each example copies the run
        events = list(Trainer.new(cfg, out=run).run())
    assert isinstance(events[-1], Finished)
    RunDir(run).save_favourites([1, 5, 9])
    assert {p.name for p in (run / "checkpoints").iterdir()} >= {"best.pt", "best.json", "step_00000008.pt"}
    return run


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Tiny models: one thread is as fast, and the trainer would take both cores of a busy 2-core machine."""
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


@pytest.fixture(scope="session")
def base_run(tmp_path_factory, landscapes32) -> Path:
    return make_base_run(tmp_path_factory.getbasetemp(), landscapes32)


@pytest.fixture(autouse=True)
def torch_threads():
    with one_torch_thread():
        yield


def tree_hash(folder: Path) -> str:
    """Every path, kind and byte under ``folder``."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        h.update(p.read_bytes() if p.is_file() else b"<dir>" if p.is_dir() else b"<other>")
    return h.hexdigest()


class Arena:
    """A runs folder with a healthy run (hashed once) and a fresh copy of the base run to damage per example."""

    def __init__(self, base: Path, where: Path) -> None:
        self.base, self.root = base, where / "runs"
        self.healthy = self.root / "20240101-090000-dcgan-healthy"
        self.victim = self.root / "20240103-090000-dcgan-victim"
        self.out = where / "out"
        shutil.copytree(base, self.healthy)
        self.healthy_hash = tree_hash(self.healthy)
        config = json.loads((base / "config.json").read_text())
        self.healthy_line = f"{self.healthy}  dcgan  step 8  {config['data']['source']}"

    def fresh(self) -> Path:
        for folder in (self.victim, self.out):
            if folder.exists():
                shutil.rmtree(folder)
        shutil.copytree(self.base, self.victim)
        return self.victim

    def check_healthy_untouched(self) -> None:
        assert tree_hash(self.healthy) == self.healthy_hash, "a damaged run changed the healthy one"


@pytest.fixture
def arena(base_run, tmp_path) -> Arena:
    return Arena(base_run, tmp_path)


# ------------------------------------------------------------------------------------------ the damage
def deny_reading(mp: pytest.MonkeyPatch, path: Path) -> None:
    """Opening ``path`` fails with EACCES, as for a user without read permission (root ignores chmod)."""
    target = os.path.abspath(path)
    real_open, real_os_open = builtins.open, os.open

    def denied(file: Any) -> bool:
        return isinstance(file, (str, os.PathLike)) and os.path.abspath(os.fspath(file)) == target

    def guarded_open(file, *args, **kwargs):
        if denied(file):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    def guarded_os_open(file, *args, **kwargs):
        if denied(file):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_os_open(file, *args, **kwargs)

    mp.setattr(builtins, "open", guarded_open)
    mp.setattr(io, "open", guarded_open)
    mp.setattr(os, "open", guarded_os_open)


HUGE_DIGITS = "\x00huge"  # replaced by an integer of 5,000 digits (more than Python's JSON reader takes)
WRONG = ["x", "", -1, 0, 0.5, 2 ** 53 + 1, True, None, [], {}, [1, "a"], {"a": 1}, "../../etc/passwd",
         "a\nb", "\x00"]
HUGE = [10 ** 40, -10 ** 40, 1e308, -1e308, HUGE_DIGITS, "A" * 200_000, list(range(20_000)), [[[[[[[]]]]]]] * 3]
NANS = [float("nan"), float("inf"), float("-inf")]


def json_paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from json_paths(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value[:8]):
            yield from json_paths(item, prefix + (i,))


def replaced(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    value[path[0]] = replaced(value[path[0]], path[1:], new)
    return value


def mutate(data, document: Any, kind: str) -> str:
    """The JSON text of ``document`` with one ``kind`` of damage drawn from ``data``."""
    paths = list(json_paths(document))
    if kind == "missing key":
        keyed = [p for p in paths if p and isinstance(p[-1], str)]
        if keyed:
            path = data.draw(st.sampled_from(keyed), label="key removed")
            parent = document
            for key in path[:-1]:
                parent = parent[key]
            del parent[path[-1]]
            return json.dumps(document)
    path = data.draw(st.sampled_from(paths), label="value replaced")
    pool = {"huge value": HUGE, "nan": NANS}.get(kind, WRONG)
    document = replaced(document, path, data.draw(st.sampled_from(pool), label="by"))
    return json.dumps(document).replace(json.dumps(HUGE_DIGITS), "9" * 5000)


def damage_checkpoint(data, path: Path) -> None:
    """A checkpoint that loads as a zip archive but holds wrong types, missing keys, NaN, huge or misshapen values."""
    import torch

    state = torch.load(path, weights_only=True)
    how = data.draw(st.sampled_from(["drop key", "wrong type", "nan weights", "shape", "step", "image shape",
                                     "config", "rng", "optimizer slot", "quality"]), label="checkpoint damage")
    key = data.draw(st.sampled_from(sorted(state)), label="key")
    if how == "drop key":
        del state[key]
    elif how == "wrong type":
        state[key] = data.draw(st.sampled_from(["x", 5, None, [], {}, 1.5]), label="value")
    elif how == "nan weights":
        net = data.draw(st.sampled_from(["G", "D", "G_ema"]))
        name = next(k for k, t in state[net].items() if t.is_floating_point())
        state[net][name] = state[net][name].clone().fill_(float("nan"))
    elif how == "shape":
        net = data.draw(st.sampled_from(["G", "D", "G_ema"]))
        state[net][data.draw(st.sampled_from(sorted(state[net])))] = torch.zeros(3)
    elif how == "step":
        state["step"] = data.draw(st.sampled_from([-1, 10 ** 15, "8", 8.5, True]))
    elif how == "image shape":
        shapes = [[3, 10 ** 6, 10 ** 6], [3, 32], "x", [3, 16, 16], [0, 32, 32]]
        state["image_shape"] = data.draw(st.sampled_from(shapes))
    elif how == "config":
        configs = [{"data": 5}, {"model": {"width": "8"}}, {"data": {"res": 10 ** 9}}, {"model": {"name": "nope"}},
                   {"train": {"batch": -3}}, []]
        state["config"] = data.draw(st.sampled_from(configs))
    elif how == "rng":
        state["rng"] = {**state["rng"], "torch": torch.zeros(3, dtype=torch.uint8)}
    elif how == "optimizer slot":
        slots = state["opt_g"]["state"]
        first = next(iter(slots))
        slots[first] = {**slots[first], "exp_avg": torch.zeros(7)}
    else:
        state["quality"] = {"best_swd": "x", "best_step": 2}
    torch.save(state, path)


def damage(data, run: Path, mp: pytest.MonkeyPatch, targets: list[str] = TARGETS) -> str:
    """Damage one file of ``run`` in one way drawn from ``data``; returns what was done (for the failure report)."""
    target = data.draw(st.sampled_from(targets), label="file")
    path = run / target
    if target in FOLDERS:
        shutil.rmtree(path, ignore_errors=True)
        path.write_text("a file where a folder should be")
        return f"{target}: a file"
    if target == "train.lock":
        path.write_text(json.dumps(STALE_LOCK))  # a crash's lock (its process is gone), to be damaged in turn
    kinds = FILE_DAMAGE + (JSON_DAMAGE if target in JSON_FILES or target == "stats.jsonl" else []) \
        + (["structure"] * 3 if target.endswith(".pt") else [])
    kind = data.draw(st.sampled_from(kinds), label="damage")
    raw = path.read_bytes()
    if kind == "truncate":
        path.write_bytes(raw[:data.draw(st.integers(0, max(0, len(raw) - 1)), label="kept bytes")])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "noise":
        path.write_bytes(data.draw(st.binary(min_size=1, max_size=2048), label="noise"))
    elif kind == "splice":
        at = data.draw(st.integers(0, max(0, len(raw) - 1)), label="at")
        noise = data.draw(st.binary(min_size=1, max_size=64), label="noise")
        path.write_bytes(raw[:at] + noise + raw[at + len(noise):])
    elif kind in ("directory", "fifo", "delete"):
        path.unlink()
        if kind == "directory":
            path.mkdir()
            (path / "inside.txt").write_text("a folder where a file should be")
        elif kind == "fifo":
            os.mkfifo(path)  # reading it would block forever: every reader must look first
    elif kind == "permission":
        deny_reading(mp, path)
    elif kind == "structure":
        damage_checkpoint(data, path)
    elif target == "stats.jsonl":
        lines = raw.decode().splitlines()
        i = data.draw(st.integers(0, len(lines) - 1), label="line")
        lines[i] = mutate(data, json.loads(lines[i]), kind)
        path.write_text("\n".join(lines) + "\n")
    else:
        path.write_text(mutate(data, json.loads(raw), kind))
    return f"{target}: {kind}"


# --------------------------------------------------------------------------------------------- checks
def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean(code: int, out: str, err: str) -> None:
    """Success, or exit 1 with one line that says what is wrong; never a traceback."""
    if currently_in_test_context():  # the statistics say how examples ended
        event(f"exit {code}" + (" after passing over a damaged checkpoint" if "passed over" in err else ""))
    assert "Traceback" not in out + err, err[-3000:]
    assert code in (0, 1), (code, err[-3000:])
    if code == 1:
        errors = [line for line in err.splitlines() if line.startswith("gan-studio: error:")]
        assert len(errors) == 1, err[-3000:]
        assert "unexpected" not in errors[0] and "training failed at step" not in errors[0], errors[0]


def runs_lines(capsys, root: Path) -> list[str]:
    code, out, err = run_cli(capsys, "runs", "--root", root)
    assert_clean(code, out, err)
    assert code == 0
    return out.splitlines()


# ------------------------------------------------------------------------------- the measured cases
def test_an_invalid_config_json_is_one_damaged_line_and_the_list_goes_on(capsys, base_run, tmp_path):
    root = tmp_path / "runs"
    for name in ("20240101-a", "20240102-b", "20240103-c"):
        shutil.copytree(base_run, root / name)
    (root / "20240102-b" / "config.json").write_text('{"data": {"source": "x"')  # cut short
    code, out, err = run_cli(capsys, "runs", "--root", root)
    assert code == 0 and "error" not in err, err
    lines = {line.split()[0]: line for line in out.splitlines() if not line.startswith(" ")}
    assert set(lines) == {str(root / n) for n in ("20240101-a", "20240102-b", "20240103-c")}
    assert "damaged: config.json is not valid JSON" in lines[str(root / "20240102-b")]
    for name in ("20240101-a", "20240103-c"):
        assert lines[str(root / name)].endswith(f"dcgan  step 8  {RunDir(base_run).config().data.source}")


def test_a_stats_line_of_a_wrong_type_is_skipped_and_said(base_run, tmp_path):
    run = RunDir(shutil.copytree(base_run, tmp_path / "run"))
    with open(run.stats_path, "a") as f:
        f.write('{"step": 5, "seconds": "x"}\n')
    summary = summarize(run)
    assert summary.usable and summary.last_stats["step"] == 8 and isinstance(summary.last_stats["seconds"], float)
    assert summary.problems == ["stats.jsonl line 5: seconds is 'x', not a number of seconds (skipped)"]
    assert [r["step"] for r in run.read_stats()] == [2, 4, 6, 8]  # the charts get the valid records


def test_resume_passes_over_a_truncated_newest_checkpoint_and_says_which_step(capsys, base_run, tmp_path):
    run = shutil.copytree(base_run, tmp_path / "run")
    newest = run / NEWEST
    newest.write_bytes(newest.read_bytes()[:5000])
    assert "checkpoints/step_00000008.pt is cut short: a resume starts from step 6" in summarize(RunDir(run)).problems
    code, _, err = run_cli(capsys, "train", "--resume", run, "--steps", "7")
    assert code == 0, err
    assert "from step 6" in err and "finished at step 7" in err
    assert "note: resuming from step 6 (step_00000006.pt); passed over: checkpoint step_00000008.pt is cut short" \
        in err


def test_resume_falls_back_to_the_best_snapshot_when_every_step_checkpoint_is_damaged(capsys, base_run, tmp_path):
    from gan_studio.engine import Notice, Started, Trainer

    run = shutil.copytree(base_run, tmp_path / "run")
    best_step = RunDir(run).best_info()["step"]
    for _, path in RunDir(run).checkpoint_list():
        path.write_bytes(path.read_bytes()[:-100])
    trainer = Trainer.resume(run, steps=best_step + 1)
    assert trainer.step == best_step
    events = list(trainer.run())
    assert isinstance(events[0], Started) and isinstance(events[1], Notice)
    note = events[1].message
    assert note.startswith(f"resuming from step {best_step} (the best snapshot (best.pt)); passed over: ")
    assert "step_00000008.pt is cut short" in note and "step_00000004.pt is cut short" in note


def test_listing_runs_never_imports_torch(base_run, tmp_path):
    root = tmp_path / "runs"
    shutil.copytree(base_run, root / "a")
    (shutil.copytree(base_run, root / "b") / "config.json").write_text("not json")
    code = ("import sys; from gan_studio.cli import main; code = main(['runs', '--root', sys.argv[1]]); "
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision')); "
            "print('HEAVY', heavy); sys.exit(code or (1 if heavy else 0))")
    result = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, cwd=ROOT,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "HEAVY []" in result.stdout and "damaged: config.json" in result.stdout


def test_a_fifo_or_a_folder_in_place_of_a_file_never_blocks_the_list(capsys, base_run, tmp_path):
    root = tmp_path / "runs"
    run = shutil.copytree(base_run, root / "a")
    for name in ("config.json", "stats.jsonl", "run.json"):
        (run / name).unlink()
        os.mkfifo(run / name)
    (run / "train.lock").mkdir()
    lines = runs_lines(capsys, root)
    assert lines[0] == f"{run}  damaged: config.json is not a regular file"
    assert "  damaged: train.lock is a folder, not a file: remove it to train this run again" in lines


def test_damaged_lock_files_are_stale_and_a_folder_in_their_place_is_a_clear_error(capsys, base_run, tmp_path):
    run = shutil.copytree(base_run, tmp_path / "run")
    for text in ('{"pid": 1e400, "host": 7}', '{"pid": 100000000000000000000, "host": "%s"}' % socket.gethostname(),
                 "[]", "\x00\xff"):
        (run / "train.lock").write_text(text)  # a crash mid-write, or noise: the run is free
        assert summarize(RunDir(run)).lock == "interrupted"
    code, _, err = run_cli(capsys, "train", "--resume", run, "--steps", "9")
    assert code == 0 and not (run / "train.lock").exists(), err
    (run / "train.lock").mkdir()
    code, _, err = run_cli(capsys, "train", "--resume", run, "--steps", "10")
    assert code == 1 and "train.lock is a folder, not a file" in err and "Traceback" not in err


def test_damaged_favourites_are_a_clear_error_for_export_and_none_for_the_gallery(capsys, base_run, tmp_path):
    run = shutil.copytree(base_run, tmp_path / "run")
    (run / "favourites.json").write_text('{"version": 1, "seeds": [1, "two", 3]}')
    assert RunDir(run).favourites() == []
    code, _, err = run_cli(capsys, "export", run, "--favourites", "--out", tmp_path / "out")
    assert code == 1 and "favourites.json: 'two' is not a seed" in err


def test_a_config_with_wrong_types_names_the_field(base_run, tmp_path):
    run = RunDir(shutil.copytree(base_run, tmp_path / "run"))
    config = json.loads(run.config_path.read_text())
    config["model"]["width"] = "8"
    run.config_path.write_text(json.dumps(config))
    assert summarize(run).damage == "config.json: model.width is '8', not an integer"


def test_a_checkpoint_with_nan_weights_or_misshapen_tensors_is_passed_over(capsys, base_run, tmp_path):
    import torch

    run = shutil.copytree(base_run, tmp_path / "run")
    state = torch.load(run / NEWEST, weights_only=True)
    state["G_ema"] = {k: v.clone().fill_(float("nan")) if v.is_floating_point() else v
                      for k, v in state["G_ema"].items()}
    torch.save(state, run / NEWEST)
    state = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    state["G"][next(iter(state["G"]))] = torch.zeros(3)
    torch.save(state, run / "checkpoints" / "best.pt")
    code, _, err = run_cli(capsys, "sample", run, "--n", "2", "--out", tmp_path / "s", "--which", "latest")
    assert code == 0, err
    assert "note: sampling from step 6 (step_00000006.pt); passed over: step_00000008.pt: G_ema is not a state dict " \
           "of finite tensors" in err
    code, _, err = run_cli(capsys, "sample", run, "--n", "2", "--out", tmp_path / "t")
    assert code == 0 and "passed over: best.pt: G.net.0.weight has shape (3,), the model expects" in err, err


def test_a_damaged_sample_grid_is_left_out_of_the_progress_gif(capsys, base_run, tmp_path):
    run = shutil.copytree(base_run, tmp_path / "run")
    (run / "samples" / "step_00000008.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    code, _, err = run_cli(capsys, "export", run, "--n", "2", "--gif", "--out", tmp_path / "out")
    assert code == 0, err
    assert "note: samples/step_00000008.png is damaged: left out of training_progress.gif" in err
    assert (tmp_path / "out" / "training_progress.gif").is_file()


def test_a_folder_that_only_lost_its_config_is_listed_as_damaged(capsys, base_run, tmp_path):
    root = tmp_path / "runs"
    run = shutil.copytree(base_run, root / "a")
    (run / "config.json").unlink()
    (root / "holiday photos").mkdir()  # not a run: not listed
    assert runs_lines(capsys, root) == [f"{run}  damaged: config.json is missing from {run}"]
    code, _, err = run_cli(capsys, "sample", run, "--n", "1", "--out", tmp_path / "s")
    assert code == 1 and "is a damaged run folder: config.json is missing" in err


# ------------------------------------------------------------------------------------ property tests
@contextlib.contextmanager
def damaged(arena: Arena, data, targets: list[str] = TARGETS) -> Iterator[Path]:
    """A fresh copy of the base run with one file damaged, for the length of the block; afterwards the healthy
    run beside it must be byte for byte what it was."""
    run = arena.fresh()
    with pytest.MonkeyPatch.context() as mp:
        damage(data, run, mp, targets)
        yield run
    arena.check_healthy_untouched()


@pytest.mark.slow
@examples(480)
@given(data=st.data())
def test_runs_lists_every_run_whatever_the_damage(data, capsys, arena):
    with damaged(arena, data) as run:
        lines = runs_lines(capsys, arena.root)
    blocks: dict[str, list[str]] = {}  # each run's line, then the damage it can do without
    for line in lines:
        if line.startswith(" "):
            blocks[list(blocks)[-1]].append(line)
        else:
            blocks[line.split("  ")[0]] = [line]
    assert set(blocks) == {str(run), str(arena.healthy)}, lines
    assert blocks[str(arena.healthy)] == [arena.healthy_line], lines
    assert all(line.startswith("  damaged: ") for line in blocks[str(run)][1:]), lines


@pytest.mark.slow
@examples(150)
@given(data=st.data())
def test_sample_from_a_damaged_run(data, capsys, arena):
    which = data.draw(st.sampled_from(["best", "latest"]), label="which")
    with damaged(arena, data, SAMPLING) as run:
        code, out, err = run_cli(capsys, "sample", run, "--n", "2", "--out", arena.out, "--which", which)
    assert_clean(code, out, err)


@pytest.mark.slow
@examples(60)
@given(data=st.data())
def test_export_from_a_damaged_run(data, capsys, arena):
    options = data.draw(st.sampled_from([["--gif"], ["--favourites"], ["--favourites", "--gif"], ["--html"]]))
    with damaged(arena, data, SAMPLING + ["favourites.json", "samples/step_00000008.png", "samples"]) as run:
        code, out, err = run_cli(capsys, "export", run, "--n", "2", "--out", arena.out, *options)
    assert_clean(code, out, err)


@pytest.mark.slow
@examples(20)
@given(data=st.data())
def test_eval_of_a_damaged_run(data, capsys, arena):
    with damaged(arena, data, SAMPLING + ["eval"]) as run:
        code, out, err = run_cli(capsys, "eval", run, "--n", "4", "--no-parzen", "--which", "latest")
    assert_clean(code, out, err)


@pytest.mark.slow
@examples(50)
@given(data=st.data())
def test_resume_a_damaged_run(data, capsys, arena):
    with damaged(arena, data) as run:
        code, out, err = run_cli(capsys, "train", "--resume", run, "--steps", "9")
    assert_clean(code, out, err)
    if code == 0:
        assert "finished at step 9" in err, err[-2000:]
