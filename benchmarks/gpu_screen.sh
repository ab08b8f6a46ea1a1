#!/usr/bin/env bash
# A screening of training variants on a GPU at the step counts a CPU reaches in its minutes: the same runs as
# benchmarks/ablation.py's timed ones (same defaults, same steps, same referee), only faster, so that many variants
# fit in one short device lease. A GPU run is not a CPU-minute figure: a variant it picks is confirmed on the CPU.
#
#   GPU_SCREEN_DATA=.gpu/monet300 GAN_STUDIO_REFEREE=.gpu/referee/swd.py OUT=/tmp/screen bash benchmarks/gpu_screen.sh
#
# Groups run in parallel (one process each; the GPU is shared, the referee's CPU work spread over the cores); each
# group's variants run one after another and are written to its JSON as they finish, so a group cut off by the time
# limit loses only the variant in flight. Everything lands in $OUT: screen.json (every group's
# ablation JSON by group) and screen.log.
set -uo pipefail
cd "$(dirname "$0")/.."
DATA="${GPU_SCREEN_DATA:-../shared/datasets/monet300}"
LIMIT="${GPU_SCREEN_SECONDS:-480}"
STEPS="${GPU_SCREEN_STEPS:-750}"
OUT="${OUT:-/tmp/gpu_screen}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 OMP_NUM_THREADS="${OMP_NUM_THREADS:-3}"
NOC='"train.compile": "off"'  # compiling each short run would cost more than the run
RUNS=$(mktemp -d)

group() {  # group NAME STEPS RES VARIANT...
  local name=$1 steps=$2 res=$3; shift 3
  local args=()
  for v in "$@"; do args+=(--variant "$v"); done
  GAN_STUDIO_CACHE="$RUNS/cache_$name" timeout "$LIMIT" python3 benchmarks/ablation.py "$DATA" --steps "$steps" \
    --res "$res" --name "screen_$name" --runs "$RUNS" "${args[@]}" >"$RUNS/$name.log" 2>&1
  { echo "== $name"; tail -n 40 "$RUNS/$name.log"; } >>"$OUT/screen.log"
}

python3 -c "import torch; print(torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')" \
  | tee "$OUT/screen.log"
S=$STEPS
group base $S 64 "default_s0={$NOC}" "default_s1={$NOC, \"train.seed\": 1}" &
group anneal1 $S 64 "anneal1_s0={$NOC, \"train.lr_anneal\": 1.0, \"train.lr_anneal_to\": 0.03}" \
  "anneal1_s1={$NOC, \"train.lr_anneal\": 1.0, \"train.lr_anneal_to\": 0.03, \"train.seed\": 1}" &
group anneal75 $S 64 "anneal75_s0={$NOC, \"train.lr_anneal\": 0.75, \"train.lr_anneal_to\": 0.05}" \
  "anneal75_s1={$NOC, \"train.lr_anneal\": 0.75, \"train.lr_anneal_to\": 0.05, \"train.seed\": 1}" &
group recon10 $S 64 "recon10_s0={$NOC, \"train.recon_weight\": 10.0}" \
  "recon10_s1={$NOC, \"train.recon_weight\": 10.0, \"train.seed\": 1}" &
group crop3 $S 64 "crop3_s0={$NOC, \"model.d_self_supervision\": \"whole+crop\", \"train.recon_weight\": 3.0}" \
  "crop3_s1={$NOC, \"model.d_self_supervision\": \"whole+crop\", \"train.recon_weight\": 3.0, \"train.seed\": 1}" &
group lr5 $S 64 "lr5_anneal1_s0={$NOC, \"train.lr_g\": 0.0005, \"train.lr_d\": 0.0005, \"train.lr_anneal\": 1.0, \"train.lr_anneal_to\": 0.03}" \
  "lr5_anneal1_s1={$NOC, \"train.lr_g\": 0.0005, \"train.lr_d\": 0.0005, \"train.lr_anneal\": 1.0, \"train.lr_anneal_to\": 0.03, \"train.seed\": 1}" &
group res128 "${GPU_SCREEN_STEPS_128:-2700}" 128 "default128_s0={$NOC}" &
group res128short "${GPU_SCREEN_STEPS_128_SHORT:-1350}" 128 "default128_s0={$NOC}" &
wait
python3 - "$OUT/screen.json" benchmarks/results/ablation_screen_*.json <<'PY'
import json, sys
merged = {p.split("ablation_screen_")[1][:-5]: json.load(open(p)) for p in sys.argv[2:]}
json.dump(merged, open(sys.argv[1], "w"), indent=1)
PY
ls "$OUT"
