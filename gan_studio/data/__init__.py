"""Image-folder ingestion: scan a folder, decode images robustly, cache the decoded set on disk.

No Qt here: the GUI and CLI call these functions and show the messages of the errors they raise.
"""

from gan_studio.data.cache import ImageSet, NoUsableImagesError, default_cache_dir, load_dataset
from gan_studio.data.decode import IMAGE_EXTENSIONS, decode_image, stored_size
from gan_studio.data.scan import ImageInfo, Rejected, ScanResult, scan_folder

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageInfo",
    "ImageSet",
    "NoUsableImagesError",
    "Rejected",
    "ScanResult",
    "decode_image",
    "default_cache_dir",
    "load_dataset",
    "scan_folder",
    "stored_size",
]
