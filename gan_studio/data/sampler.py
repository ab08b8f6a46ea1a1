"""Batches straight from the decoded uint8 images held once on the training device.

No loader workers and no per-epoch decoding: a batch is an index draw, a gather, a conversion to float in
[-1, 1] and, where configured, a random crop and a horizontal flip, all on the device.

On a GPU the images go to the device only when they take at most a safe share of its free memory
(``DATA_SHARE_OF_FREE``); a larger set (thousands of images at 1,024 pixels) stays in host
memory, as it is (a memory-mapped cache is paged in by the system as needed), and each batch is gathered there into
pinned memory and copied over asynchronously. The indices are the same draws of the same generator either way, so
both places give the same batches; the host path costs one wait for the device per batch (the indices come from
the device's random stream), which the large images it serves make small beside their step.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

# The decoded data set stays on a GPU only when it takes at most this share of the memory free once the networks
# are there: the rest is for activations, gradients, optimizer state and cuDNN's workspaces.
DATA_SHARE_OF_FREE = 0.35


def free_device_memory(device: torch.device) -> int | None:
    """Bytes free on a CUDA device now (None for other devices or where the driver cannot say)."""
    if device.type != "cuda":
        return None
    try:
        return int(torch.cuda.mem_get_info(device)[0])
    except (RuntimeError, AssertionError):
        return None


def data_fits_on_device(nbytes: int, device: torch.device, share: float = DATA_SHARE_OF_FREE) -> bool:
    """Whether a data set of ``nbytes`` may live on ``device``: always on the CPU (it is the host) and on MPS
    (unified memory); on a GPU when it takes at most ``share`` of the memory free now."""
    if device.type != "cuda":
        return True
    free = free_device_memory(device)
    return free is not None and nbytes <= share * free


class DeviceImages:
    def __init__(self, images: np.ndarray, target_hw: tuple[int, int], device: torch.device,
                 flip: bool = False, channels_last: bool = False, on_device: bool | None = None,
                 labels: np.ndarray | None = None) -> None:
        """``on_device``: keep the images on the device (default: where they fit, see the module docstring).
        ``labels``: each image's style (a conditional model's data), for ``sample_styled``."""
        if images.dtype != np.uint8 or images.ndim != 4:
            raise ValueError(f"expected uint8 images of shape (N, C, H, W), got {images.dtype} {images.shape}")
        self.on_device = data_fits_on_device(images.nbytes, device) if on_device is None else on_device
        # The only copy of the data set, as uint8 (a float copy would be 4x larger), on the device where it fits.
        # A read-only array (a memory-mapped cache) is shared, not copied: nothing here ever writes to it, so
        # PyTorch's warning about non-writable arrays does not apply.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            host = torch.from_numpy(np.ascontiguousarray(images))
            self.images = host.to(device) if self.on_device else host
        self.pin = not self.on_device and device.type == "cuda" and torch.cuda.is_available()
        self.n, self.channels, self.stored_h, self.stored_w = self.images.shape
        self.target_h, self.target_w = target_hw
        if self.target_h > self.stored_h or self.target_w > self.stored_w:
            raise ValueError(f"target {target_hw} is larger than the stored images {(self.stored_h, self.stored_w)}")
        self.flip = flip
        self.channels_last = channels_last
        self.device = device
        self.labels: torch.Tensor | None = None
        self.weights: torch.Tensor | None = None
        if labels is not None:
            if len(labels) != self.n or labels.min() < 0:
                raise ValueError("every image needs a style label (0 or more)")
            self.labels = torch.from_numpy(np.asarray(labels, np.int64)).to(device)
            # Balanced over styles: each style is drawn equally often, so a 40-image style is not drowned by a
            # 400-image one (its images are simply seen more often each).
            counts = np.bincount(labels)
            self.weights = torch.from_numpy(1.0 / counts[labels]).float().to(device)

    def sample(self, batch: int, gen: torch.Generator) -> torch.Tensor:
        """A batch (B, C, H, W) of float32 in [-1, 1], drawn with replacement."""
        return self._images_at(torch.randint(self.n, (batch,), generator=gen, device=self.device), gen)

    def sample_styled(self, batch: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch drawn evenly over the styles, and its labels (B,) on the device."""
        if self.weights is None or self.labels is None:
            raise ValueError("these images have no style labels")
        idx = torch.multinomial(self.weights, batch, replacement=True, generator=gen)
        return self._images_at(idx, gen), self.labels[idx]

    def _images_at(self, idx: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        batch = len(idx)
        x = self.images[idx] if self.on_device else self._from_host(idx)  # (B, C, Hs, Ws) uint8
        if (self.stored_h, self.stored_w) != (self.target_h, self.target_w):
            x = self._random_crop(x, gen)
        x = x.float().mul_(1.0 / 127.5).sub_(1.0)
        if self.flip:
            mask = torch.rand(batch, generator=gen, device=self.device) < 0.5
            x = torch.where(mask.view(-1, 1, 1, 1), x.flip(3), x)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def _from_host(self, idx: torch.Tensor) -> torch.Tensor:
        """The batch gathered in host memory (into pinned memory for an asynchronous copy), then to the device."""
        idx = idx.cpu()
        out = torch.empty((len(idx), *self.images.shape[1:]), dtype=torch.uint8, pin_memory=self.pin)
        torch.index_select(self.images, 0, idx, out=out)
        return out.to(self.device, non_blocking=self.pin)

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
