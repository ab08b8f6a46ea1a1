"""Batches straight from the decoded uint8 images held once on the training device.

No loader workers and no per-epoch decoding: a batch is an index draw, a gather, a conversion to float in
[-1, 1] and, where configured, a random crop and a horizontal flip, all on the device.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch


class DeviceImages:
    def __init__(self, images: np.ndarray, target_hw: tuple[int, int], device: torch.device,
                 flip: bool = False, channels_last: bool = False) -> None:
        if images.dtype != np.uint8 or images.ndim != 4:
            raise ValueError(f"expected uint8 images of shape (N, C, H, W), got {images.dtype} {images.shape}")
        # The only copy of the data set on the device, as uint8 (a float copy would be 4x larger).
        # A read-only array (a memory-mapped cache) is shared, not copied: nothing here ever writes to it, so
        # PyTorch's warning about non-writable arrays does not apply.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            self.images = torch.from_numpy(np.ascontiguousarray(images)).to(device)
        self.n, self.channels, self.stored_h, self.stored_w = self.images.shape
        self.target_h, self.target_w = target_hw
        if self.target_h > self.stored_h or self.target_w > self.stored_w:
            raise ValueError(f"target {target_hw} is larger than the stored images {(self.stored_h, self.stored_w)}")
        self.flip = flip
        self.channels_last = channels_last
        self.device = device

    def sample(self, batch: int, gen: torch.Generator) -> torch.Tensor:
        """A batch (B, C, H, W) of float32 in [-1, 1], drawn with replacement."""
        idx = torch.randint(self.n, (batch,), generator=gen, device=self.device)
        x = self.images[idx]  # (B, C, Hs, Ws) uint8
        if (self.stored_h, self.stored_w) != (self.target_h, self.target_w):
            x = self._random_crop(x, gen)
        x = x.float().mul_(1.0 / 127.5).sub_(1.0)
        if self.flip:
            mask = torch.rand(batch, generator=gen, device=self.device) < 0.5
            x = torch.where(mask.view(-1, 1, 1, 1), x.flip(3), x)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def _random_crop(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """An independent crop offset per image, by two gathers (rows, then columns)."""
        b, c = x.shape[:2]
        th, tw = self.target_h, self.target_w
        oy = torch.randint(self.stored_h - th + 1, (b, 1), generator=gen, device=self.device)
        ox = torch.randint(self.stored_w - tw + 1, (b, 1), generator=gen, device=self.device)
        rows = oy + torch.arange(th, device=self.device)  # (B, th)
        cols = ox + torch.arange(tw, device=self.device)  # (B, tw)
        x = x.gather(2, rows.view(b, 1, th, 1).expand(b, c, th, self.stored_w))
        return x.gather(3, cols.view(b, 1, 1, tw).expand(b, c, th, tw))
