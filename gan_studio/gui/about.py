"""The About box text: version, what the app does, and the credits for the data and the ideas it uses."""

from __future__ import annotations


def about_html(version: str) -> str:
    return f"""
<h3>GAN Studio {version}</h3>
<p>Train a generative adversarial network on your own folder of images, watch it learn,
and browse and export what it makes. Everything runs on this computer.</p>
<p><b>Data</b><br>
The demo landscapes are procedural paintings generated on your computer by GAN Studio
(numpy and Pillow): no image is downloaded and none is anyone else's work.<br>
The project's tests and benchmarks also use 300 paintings by Claude Monet (public domain; photographs
from the Kaggle competition “I'm Something of a Painter Myself”), Chinese landscape paintings of the Song and
Ming dynasties (public domain; photographs from the University of Pennsylvania “Landscape-Painting-Classification”
project, sourced from ArtStor) and the MNIST digits (Y. LeCun, C. Cortes, C. J. C. Burges; CC BY-SA 3.0).</p>
<p><b>Methods</b><br>
Goodfellow et al., <i>Generative Adversarial Nets</i> (2014): the game, Algorithm 1, the MLP GAN and the
Parzen-window estimate;
Radford, Metz and Chintala, <i>Unsupervised Representation Learning with Deep Convolutional GANs</i> (2016);
Liu, Zhu, Song and Elgammal, <i>Towards Faster and Stabilized GAN Training for High-fidelity Few-shot Image
Synthesis</i> (FastGAN, 2021);
Zhao, Liu, Lin, Zhu and Han, <i>Differentiable Augmentation for Data-Efficient GAN Training</i> (DiffAugment,
2020);
Karras et al., <i>Training Generative Adversarial Networks with Limited Data</i> (ADA, 2020);
Karras, Aila, Laine and Lehtinen, <i>Progressive Growing of GANs</i> (2018) for the sliced Wasserstein distance
on Laplacian pyramids;
Wang, Simoncelli and Bovik, <i>Multiscale Structural Similarity</i> (MS-SSIM, 2003);
Miyato et al., <i>Spectral Normalization for GANs</i> (2018);
White, <i>Sampling Generative Networks</i> (2016) for the spherical latent walks.</p>
<p><b>Software</b><br>
PyTorch (BSD), Qt for Python / PySide6 (LGPL v3), NumPy, Pillow, ONNX (Apache 2.0).</p>
<p>Licence: MIT.</p>
"""
