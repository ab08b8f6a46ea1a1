"""GAN Studio: train generative adversarial networks on your own folder of images.

The engine (``data``, ``models``, ``engine``, ``export``) never imports Qt; ``gui`` and ``cli`` drive it.
"""

__version__ = "0.1.0"
