"""One family of user-facing errors: every message is meant to be shown to the user as is."""


class GanStudioError(Exception):
    """Base of every error GAN Studio reports to a user (CLI: one line and a non-zero exit)."""


class ConfigError(GanStudioError):
    """A configuration value is missing, out of range or inconsistent."""


class DataError(GanStudioError):
    """A data set cannot be used (no usable image, unreadable folder, ...)."""


class ImageDecodeError(DataError):
    """One file could not be decoded as an image; the reason is the message."""


class CheckpointError(GanStudioError):
    """A checkpoint or run directory is missing, corrupt, untrusted or incompatible."""
