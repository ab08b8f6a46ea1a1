"""Draw images from a GAN Studio generator exported as ONNX, with onnxruntime, numpy and Pillow only.

    pip install onnxruntime numpy pillow
    python examples/onnx_runner.py generator.onnx --n 16 --out samples/
"""
import argparse
import pathlib

import numpy as np
import onnxruntime as ort
from PIL import Image

parser = argparse.ArgumentParser(description="Draw N images from a GAN Studio ONNX generator.")
parser.add_argument("model")
parser.add_argument("--n", type=int, default=16)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("samples"))
args = parser.parse_args()

session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
z_dim = session.get_inputs()[0].shape[1]
uniform = session.get_modelmeta().custom_metadata_map.get("z_distribution") == "uniform"  # as the card says
rng = np.random.default_rng(args.seed)
z = rng.uniform(-3**0.5, 3**0.5, (args.n, z_dim)) if uniform else rng.standard_normal((args.n, z_dim))
images = session.run(None, {"z": z.astype(np.float32)})[0]  # (N, C, H, W) in [0, 1]
pixels = (images * 255).round().astype(np.uint8).transpose(0, 2, 3, 1)  # (N, H, W, C)
args.out.mkdir(parents=True, exist_ok=True)
for i, image in enumerate(pixels):
    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(args.out / f"image_{i:04d}.png")
print(f"wrote {len(pixels)} images to {args.out}")
