#!/usr/bin/env bash
# Every GPU check of the project in one run, under 8 minutes, writing ONE JSON: benchmarks/results/gpu_check.json.
#
#   bash benchmarks/gpu_check.sh            # on a machine with a CUDA GPU (installs the package if needed)
#   GPU_CHECK_DEVICE=cpu GPU_CHECK_OUT=/tmp/dry.json bash benchmarks/gpu_check.sh   # a dry run of the script on a CPU
#
# Part 1 (about 3 minutes; each check records ok / failed / skipped with its figures, and a failing check never
# stops the others): the precision chosen by the card's compute capability (engine/gpu.py); cuDNN autotuning and
# TF32 switched on; the checkpoint holding the training GPU's random state alone, an old checkpoint's list of
# per-GPU states resuming, and a resumed run matching an uninterrupted one exactly; torch.compile as a phase of
# its own (notices, its time outside --minutes, compiled once, D's G-step pass compiled); out of memory found
# eagerly and halved, the networks compiled only at the batch that fits; a data set kept in host memory giving
# the same batches as on the GPU; torchrun with two GPUs over NCCL, rank r on cuda:r (only with 2+ GPUs).
# Part 2 (at most 4 minutes): benchmarks/throughput.py on the GPU, DCGAN 64 at batch 256 (the README's GPU target:
# at least 4x the classic loop) and at batch 64 (the launch-bound case), each with its first compile in the
# warm-up, against the classic loop, with peak GPU memory; merged into the same JSON. GPU_CHECK_ROWS adds rows to
# the batch-256 run (e.g. dcgan64,fastgan64,dcgan128) when a session has more time; rows are written as they
# finish, so a row cut off by the time limit loses only itself.
# Time: part 1 at most 230 s, part 2 at most 140 + 90 s: under 8 minutes with the package installed.
set -uo pipefail
cd "$(dirname "$0")/.."
DEVICE="${GPU_CHECK_DEVICE:-cuda}"
OUT="${GPU_CHECK_OUT:-benchmarks/results/gpu_check.json}"
RESULTS="$(dirname "$OUT")"
mkdir -p "$RESULTS"
python3 -c "import gan_studio" 2>/dev/null || python3 -m pip install -q -e .
if [ "$DEVICE" = "cuda" ]; then
  python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA GPU here')" || exit 1
  nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader || true
fi
export GAN_STUDIO_CACHE="${GAN_STUDIO_CACHE:-$(mktemp -d)}"
export GAN_STUDIO_RUNS="$(mktemp -d)"
SMALL=$([ "$DEVICE" = "cuda" ] && echo 0 || echo 1)  # the CPU dry run trains tiny networks

timeout 230 python3 - "$DEVICE" "$OUT" "$SMALL" <<'PY'
import json, os, shutil, subprocess, sys, tempfile, time, traceback
from pathlib import Path

import torch

device_name, out, small = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "1"
cuda = device_name == "cuda"
from gan_studio.config import RunConfig
from gan_studio.data.demo import ensure_demo_folder
from gan_studio.engine import Finished, Notice, Trainer
from gan_studio.engine import checkpoint as ckpt

checks, began_all = [], time.monotonic()
meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "torch": torch.__version__, "cuda": torch.version.cuda,
        "device": device_name, "gpus": torch.cuda.device_count() if cuda else 0}
if cuda:
    meta["gpu"] = torch.cuda.get_device_name(0)
    meta["capability"] = list(torch.cuda.get_device_capability(0))
    meta["memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2 ** 30, 1)
demo = str(ensure_demo_folder())


def save():
    out.write_text(json.dumps({"meta": meta, "checks": checks}, indent=2, default=str) + "\n")


def check(name):
    def wrap(fn):
        began = time.monotonic()
        try:
            result = fn() or {}
            status = result.pop("status", "ok")
        except Exception as e:  # noqa: BLE001 - every check is recorded, none stops the others
            status, result = "failed", {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-2000:]}
        checks.append({"check": name, "status": status, "seconds": round(time.monotonic() - began, 1), **result})
        print(f"{name:<28} {status:<8} {json.dumps({k: v for k, v in result.items() if k != 'trace'})[:300]}",
              flush=True)
        save()
    return wrap


def config(model="dcgan", res=32, batch=32, **train):
    cfg = RunConfig()
    cfg.data.source, cfg.data.res, cfg.model.name = demo, res, model
    cfg.model.width = 8 if small else 32
    cfg.train.device, cfg.train.batch, cfg.train.quality_every = device_name, batch, 0
    cfg.train.log_every, cfg.train.sample_every, cfg.train.augment = 2, 1000, "off"
    cfg.train.compile = "off"
    for k, v in train.items():
        setattr(cfg.train, k, v)
    return cfg


def digest(trainer):
    return sum(float(p.detach().double().sum()) for p in trainer.G.parameters())


@check("precision_by_capability")
def _():
    from gan_studio.engine.device import autocast_dtype
    from gan_studio.engine.gpu import cuda_autocast_dtype
    if not cuda:
        return {"status": "skipped", "why": "no GPU"}
    dev = torch.device("cuda", 0)
    cap = torch.cuda.get_device_capability(dev)
    chosen = autocast_dtype(dev, "auto")
    assert chosen == cuda_autocast_dtype(dev) == (torch.bfloat16 if cap >= (8, 0) else torch.float16)
    return {"capability": list(cap), "chosen": str(chosen), "is_bf16_supported": torch.cuda.is_bf16_supported(),
            "bf16_native": torch.cuda.is_bf16_supported(including_emulation=False)}


@check("host_data_path")
def _():
    import numpy as np
    from gan_studio.data.sampler import DeviceImages, data_fits_on_device, free_device_memory
    dev = torch.device(device_name)
    images = np.random.default_rng(0).integers(0, 256, (200, 3, 72, 72), dtype=np.uint8)
    batches = []
    for on_device in (True, False):
        data = DeviceImages(images, (64, 64), dev, flip=True, channels_last=True, on_device=on_device)
        gen = torch.Generator(device=dev).manual_seed(1)
        batches.append([data.sample(64, gen) for _ in range(4)])
    assert all(torch.equal(a, b) for a, b in zip(*batches))
    free = free_device_memory(dev)
    return {"same_batches": True, "pinned": data.pin, "free_gib": round(free / 2 ** 30, 1) if free else None,
            "fits_1gib": data_fits_on_device(2 ** 30, dev), "fits_all_free": data_fits_on_device(free or 0, dev)}


@check("backends_and_resume_exact")
def _():
    with tempfile.TemporaryDirectory() as tmp:
        straight = Trainer.new(config(steps=8), out=Path(tmp) / "a")
        events = list(straight.run())
        assert isinstance(events[-1], Finished), events[-1]
        flags = {"cudnn_benchmark": torch.backends.cudnn.benchmark,
                 "matmul_fp32": torch.backends.cuda.matmul.fp32_precision,
                 "conv_fp32": torch.backends.cudnn.conv.fp32_precision}
        if cuda:
            assert flags["cudnn_benchmark"] and flags["matmul_fp32"] == "tf32"
        first = Trainer.new(config(steps=4), out=Path(tmp) / "b")
        list(first.run())
        path = sorted((Path(tmp) / "b" / "checkpoints").glob("step_*.pt"))[-1]
        state = ckpt.load_checkpoint(path)
        single = "cuda" not in state["rng"] or isinstance(state["rng"]["cuda"], torch.Tensor)
        assert single, type(state["rng"].get("cuda"))
        resumed = Trainer.resume(Path(tmp) / "b", steps=8)
        list(resumed.run())
        diff = abs(digest(resumed) - digest(straight))
        same = diff == 0.0
        # an old checkpoint: one state per GPU of an 8-GPU host; it must resume on this one
        if cuda:
            state["rng"]["cuda"] = [state["rng"]["cuda"]] * 8
            state["rng"].pop("cuda_index", None)
            torch.save(state, path)
        old = Trainer.resume(Path(tmp) / "b", steps=10)
        assert isinstance(list(old.run())[-1], Finished)
        # bit-identical on the CPU; on a GPU cuDNN's autotuning may pick other kernels in another session, so the
        # difference is recorded, not required to be zero
        assert same or cuda, "a resumed run differs from an uninterrupted one"
        return {**flags, "rng_single_state": single, "resume_matches": same, "weights_sum_difference": diff,
                "old_rng_list_resumed": True, "route": straight.route.label()}


@check("compile_phase")
def _():
    with tempfile.TemporaryDirectory() as tmp:
        minutes = 0.25 if cuda else 0.05
        cfg = config("dcgan", 64, 64, minutes=minutes, compile="on" if cuda else "off")
        cfg.model.width = 8 if small else 64  # the network of the batch-64 throughput row: its compile is cached
        t = Trainer.new(cfg, out=Path(tmp) / "r")
        began = time.monotonic()
        events = list(t.run())
        wall = time.monotonic() - began
        notices = [e.message for e in events if isinstance(e, Notice)]
        fin = events[-1]
        assert isinstance(fin, Finished), fin
        result = {"notices": notices, "session_seconds": round(fin.seconds, 1), "wall_seconds": round(wall, 1),
                  "steps": fin.step, "compiled": t.compiled, "compile_seconds": round(t.guard.compile_seconds, 1)}
        if cuda:
            assert any(n.startswith("compiling the networks") for n in notices), notices
            assert any(n.startswith("compiled the networks in") for n in notices), notices
            assert fin.seconds <= minutes * 60 + 10 and t.compiled and t.d_for_g is not t.D
            assert sum(n.startswith("compiling") for n in notices) == 1  # compiled once
        return result


@check("oom_found_eagerly")
def _():
    if not cuda:
        return {"status": "skipped", "why": "no GPU memory to exhaust"}
    with tempfile.TemporaryDirectory() as tmp:
        t = Trainer.new(config("dcgan", 128, 65536, steps=2, compile="on"), out=Path(tmp) / "r")
        events = list(t.run())
        notices = [e.message for e in events if isinstance(e, Notice)]
        assert isinstance(events[-1], Finished), events[-1]
        halvings = [n for n in notices if "out of memory" in n]
        compiles = [n for n in notices if n.startswith("compiling")]
        assert halvings and len(compiles) <= 1, notices
        return {"final_batch": t.config.train.batch, "halvings": len(halvings), "compiles": compiles,
                "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2 ** 30, 1)}


@check("torchrun_nccl_two_gpus")
def _():
    if not cuda or torch.cuda.device_count() < 2:
        return {"status": "skipped", "why": f"{torch.cuda.device_count() if cuda else 0} GPU(s); needs 2"}
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
               "gan_studio", "train", demo, "--res", "32", "--width", "16", "--batch", "32", "--steps", "20",
               "--device", "cuda:0", "--out", str(Path(tmp) / "r")]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
        info = json.loads((Path(tmp) / "r" / "run.json").read_text())
        assert r.returncode == 0, r.stderr[-2000:]
        assert info.get("world_size") == 2
        return {"returncode": r.returncode, "world_size": info.get("world_size"), "device": info.get("device")}


meta["checks_seconds"] = round(time.monotonic() - began_all, 1)
save()
PY
echo "part 1 done: $(python3 -c "import json;d=json.load(open('$OUT'));print(sum(c['status']=='ok' for c in d['checks']),'ok,',sum(c['status']=='failed' for c in d['checks']),'failed,',sum(c['status']=='skipped' for c in d['checks']),'skipped')")"

# Part 2: throughput, batch 256 (every family at 64 and 128 px) and batch 64 (launch-bound), ours vs classic
ROWS="${GPU_CHECK_ROWS:-dcgan64}"
SECONDS_EACH=$([ "$DEVICE" = "cuda" ] && echo 8 || echo 1)
timeout 140 python3 benchmarks/throughput.py --device "$DEVICE" --batch 256 --seconds "$SECONDS_EACH" --warmup 20 \
  --minutes 60 --rows "$ROWS" --out "$RESULTS/throughput_cuda.json" || true
timeout 90 python3 benchmarks/throughput.py --device "$DEVICE" --batch 64 --seconds "$SECONDS_EACH" --warmup 20 \
  --minutes 60 --rows dcgan64 --out "$RESULTS/throughput_cuda_b64.json" || true
python3 - "$OUT" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
data = json.loads(out.read_text())
for name in ("throughput_cuda", "throughput_cuda_b64"):
    path = out.parent / f"{name}.json"
    data[name] = json.loads(path.read_text()) if path.exists() else {"error": "not run or cut off"}
out.write_text(json.dumps(data, indent=2, default=str) + "\n")
print(f"wrote {out}")
PY
