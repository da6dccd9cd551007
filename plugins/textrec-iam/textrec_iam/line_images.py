"""Reading, preparing and caching the line images of a store.

The prepared images of every line asked for are cached as one ``.npz`` under
``$TEXTREC_DATA_DIR/iam/processed/``, named by a digest of the store's fingerprint, the line ids,
``height``, ``max_width`` and :data:`CACHE_VERSION`; it is written atomically, so an interrupted
run leaves either no cache or a whole one, and a damaged cache is rebuilt.
"""

from __future__ import annotations

import hashlib

import attrs
import numpy as np

from textrec_core.services.download import data_dir
from textrec_core.services.fileio import load_arrays, save_arrays
from textrec_iam.images import prepare_line
from textrec_iam.stores import LineStore

CACHE_VERSION = 2


@attrs.frozen
class LineImages:
    """Prepared images by line id (uint8 ``(height, width)``, ink bright on dark), and how many
    lines had to be squeezed to ``max_width``."""

    images: dict[str, np.ndarray]
    squeezed: int


def load_line_images(store: LineStore, paths: dict[str, str], *, height: int, max_width: int) -> LineImages:
    """The prepared images of the lines ``paths`` maps (line id -> image path in the store), from
    the cache or the store; a line whose image the store lacks is absent from the result.
    Raises :class:`~textrec_core.errors.DataError` for an image that cannot be decoded."""
    key = hashlib.sha256(
        f"{CACHE_VERSION} {store.fingerprint()} {height} {max_width} {' '.join(sorted(paths))}".encode()
    ).hexdigest()
    cache = data_dir() / "iam" / "processed" / f"lines-{key[:32]}.npz"
    cached = load_arrays(cache)
    if cached is not None and {"ids", "widths", "pixels", "squeezed"} <= cached.keys():
        return _unpack(cached)
    images, squeezed = _read(store, paths, height=height, max_width=max_width)
    ids = sorted(images)
    pixels = np.concatenate([images[i] for i in ids], axis=1) if ids else np.zeros((height, 0), np.uint8)
    save_arrays(cache, ids=np.array(ids, dtype=str), widths=np.array([images[i].shape[1] for i in ids], np.int64),
                pixels=pixels, squeezed=np.array(squeezed))
    return LineImages(images, squeezed)


def _read(store: LineStore, paths: dict[str, str], *, height: int, max_width: int) -> tuple[dict[str, np.ndarray], int]:
    ids_by_path = {path: line_id for line_id, path in paths.items()}
    images: dict[str, np.ndarray] = {}
    squeezed = 0
    for path, gray in store.images(ids_by_path.keys()):
        images[ids_by_path[path]], was_squeezed = prepare_line(gray, height=height, max_width=max_width)
        squeezed += was_squeezed
    return images, squeezed


def _unpack(cached: dict[str, np.ndarray]) -> LineImages:
    offsets = np.concatenate([[0], np.cumsum(cached["widths"])])
    pixels = cached["pixels"]
    images = {str(line_id): pixels[:, offsets[i] : offsets[i + 1]]
              for i, line_id in enumerate(cached["ids"])}
    return LineImages(images, int(cached["squeezed"]))
