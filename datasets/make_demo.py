"""Paint GAN Studio's built-in demo landscapes into a folder (default: datasets/landscapes, which git ignores).

    python datasets/make_demo.py [OUT_DIR] [--n 300] [--size 128]

The pictures come from gan_studio/data/demo.py; the same arguments always give the same pixels.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing the package

from gan_studio.data.demo import DEMO_COUNT, DEMO_SIZE, ensure_demo_folder  # noqa: E402
from gan_studio.errors import GanStudioError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the built-in demo landscapes.")
    parser.add_argument("out_dir", nargs="?", type=Path, default=HERE / "landscapes", help="output folder")
    parser.add_argument("--n", type=int, default=DEMO_COUNT, help=f"number of pictures (default {DEMO_COUNT})")
    parser.add_argument("--size", type=int, default=DEMO_SIZE, help=f"side in pixels (default {DEMO_SIZE})")
    args = parser.parse_args(argv)
    if args.n < 1 or args.size < 8:
        parser.error("--n must be at least 1 and --size at least 8")

    def progress(done: int, total: int) -> None:
        if done == total or done % 50 == 0:
            print(f"\r{done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    start = time.perf_counter()
    try:
        folder = ensure_demo_folder(args.out_dir, n=args.n, size=args.size, progress=progress)
    except GanStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.n} landscapes of {args.size}x{args.size} in {folder} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
