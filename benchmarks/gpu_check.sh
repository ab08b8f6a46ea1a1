#!/usr/bin/env bash
# One short check on a GPU machine (under 8 minutes): the throughput table for every model and resolution at
# batch 256 against the classic DCGAN-example loop, with peak GPU memory and the share of the GPU's peak.
# Usage: bash benchmarks/gpu_check.sh   (needs a CUDA GPU; installs the package if it is not installed)
# The table is written row by row (results/throughput_cuda.json), so a row cut off by the time limit loses only
# itself. torch.compile is on by default on CUDA; its first compile of each model is part of the warm-up.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import gan_studio" 2>/dev/null || python3 -m pip install -q -e .
python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA GPU here')"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
timeout 450 python3 benchmarks/throughput.py --device cuda --batch 256 --seconds 10 --warmup 20 \
  --rows dcgan64,mlp32,dcgan32,dcgan128,fastgan64,fastgan128,fastgan256
