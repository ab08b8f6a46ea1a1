"""The training's data: the run's images, loaded once, and what each step draws from them: real images (with
their styles, for a conditional model), noise, and the styles asked of G, all from the run's one random
generator, so a run is a function of its seed."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from gan_studio.config import ModelConfig, RunConfig
from gan_studio.data.sampler import DeviceImages
from gan_studio.data.styles import proportional_labels
from gan_studio.engine import distributed as dist
from gan_studio.models import sample_noise

ProgressFn = Callable[[int, int], None]


def load_training_images(config: RunConfig, progress: ProgressFn | None = None):
    """The run's data set as an ImageSet (decoded once, then from the cache)."""
    from gan_studio.data import load_dataset
    from gan_studio.data.demo import ensure_demo_folder

    def load():
        source = config.data.source
        if source == "demo":
            source = str(ensure_demo_folder())
        return load_dataset(source, res=config.data.res, aspect=config.data.aspect, crop=config.data.crop,
                            progress=progress)

    if not dist.is_distributed():
        return load()
    # Rank 0 decodes and writes the cache; the others then read it instead of decoding the folder again.
    images = load() if dist.is_main() else None
    dist.barrier()
    return images if images is not None else load()


Batch = tuple[torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor | None]


class Batches:
    def __init__(self, data: DeviceImages, model: ModelConfig, n_styles: int, gen: torch.Generator,
                 device: torch.device) -> None:
        self.data, self.model, self.n_styles, self.gen, self.device = data, model, n_styles, gen, device

    def draw(self, batch: int) -> Batch:
        """(real images, their styles, noise, the styles asked of G); styles as one-hot rows, None without styles.
        Real images are drawn evenly over the styles, and so are the fakes' styles. Without styles the draws are
        those of earlier versions (images, then noise), so old runs resume on the same streams."""
        m = self.model
        if not self.n_styles:
            real = self.data.sample(batch, self.gen)
            return real, None, sample_noise(batch, m.z_dim, m.noise, self.gen, self.device), None
        real, labels = self.data.sample_styled(batch, self.gen)
        z = sample_noise(batch, m.z_dim, m.noise, self.gen, self.device)
        fake_labels = torch.randint(self.n_styles, (batch,), generator=self.gen, device=self.device)
        return real, self.one_hot(labels), z, self.one_hot(fake_labels)

    def one_hot(self, labels: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Labels (N,) -> one-hot style rows (N, S) float on the device."""
        return torch.nn.functional.one_hot(torch.as_tensor(labels, device=self.device), self.n_styles).float()

    def check_noise(self, n: int, seed: int, counts: list[int] | None = None) -> torch.Tensor:
        """A quality check's noise batch, from a stream of its own; with styles, each row carries its style after
        its noise, in the proportions of the training set's ``counts`` (Trainer.generate splits them)."""
        m = self.model
        z = sample_noise(n, m.z_dim, m.noise, torch.Generator(device=self.device).manual_seed(seed), self.device)
        if not self.n_styles:
            return z
        return torch.cat([z, self.one_hot(proportional_labels(n, counts or [1] * self.n_styles))], 1)

    def preview(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The fixed noise of the preview grids and, with styles, theirs: every style, in blocks of rows."""
        m = self.model
        z = sample_noise(n, m.z_dim, m.noise, torch.Generator(device=self.device).manual_seed(seed), self.device)
        return z, self.one_hot(np.arange(n) * self.n_styles // n) if self.n_styles else None
