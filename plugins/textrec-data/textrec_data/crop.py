"""Cutting a line image out of its page.

A box is sampled along its own axes, so a rotated box comes out level: the crop is ``round(height)``
x ``round(width)`` pixels, bilinear, and whatever part of it falls off the page takes the paper's
colour. A polygon is cut at its bounding box (clipped to the page) and every pixel outside the
polygon is filled with the paper's colour. The paper's colour is the page's median gray level
(:func:`paper_level`): pages are mostly paper.

:func:`shape_problem` says why an outline cannot be cut: fewer than 3 points, a side or an area
too small to hold a line (:data:`MIN_SIDE` pixels), or less than :data:`MIN_INSIDE` of its area on
the page.
"""

from __future__ import annotations

import numpy as np

from textrec_data.shapes import Box, Polygon, Shape, area, inside_fraction

#: The shortest side, in pixels, of an outline that can hold a line.
MIN_SIDE = 2.0
#: The least fraction of an outline's area that must lie on the page.
MIN_INSIDE = 0.5


def paper_level(page: np.ndarray) -> int:
    """The paper's gray level of a page (uint8, dark ink on light paper): its median pixel."""
    return int(np.median(page))


def shape_problem(shape: Shape, page_width: int, page_height: int) -> str | None:
    """``"degenerate_shape"`` or ``"out_of_image"`` when ``shape`` (in pixels) cannot be cut from the
    page, else None."""
    points = shape.corners()
    if not np.isfinite(points).all() or len(points) < 3:
        return "degenerate_shape"
    if isinstance(shape, Box):
        if shape.width < MIN_SIDE or shape.height < MIN_SIDE:
            return "degenerate_shape"
    else:
        spans = points.max(axis=0) - points.min(axis=0)
        if spans.min() < MIN_SIDE or area(points) < MIN_SIDE * MIN_SIDE:
            return "degenerate_shape"
    if inside_fraction(points, page_width, page_height) < MIN_INSIDE:
        return "out_of_image"
    return None


def crop(page: np.ndarray, shape: Shape, paper: int) -> np.ndarray:
    """The line image (uint8) of ``shape`` (in pixels; :func:`shape_problem` found nothing) on ``page``."""
    if isinstance(shape, Box):
        return _crop_box(page, shape, paper)
    return _crop_polygon(page, shape, paper)


def _crop_box(page: np.ndarray, box: Box, paper: int) -> np.ndarray:
    from skimage.transform import AffineTransform, warp

    a = np.radians(box.rotation)
    # Output pixel (column u, row v) -> page point (x, y): the box's top-left plus u along its width
    # axis and v along its height axis.
    to_page = AffineTransform(matrix=np.array([[np.cos(a), -np.sin(a), box.x],
                                               [np.sin(a), np.cos(a), box.y],
                                               [0.0, 0.0, 1.0]]))
    shape = (max(1, round(box.height)), max(1, round(box.width)))
    out = warp(page, to_page, output_shape=shape, order=1, mode="constant", cval=paper, preserve_range=True)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _crop_polygon(page: np.ndarray, polygon: Polygon, paper: int) -> np.ndarray:
    from skimage.draw import polygon2mask

    points = polygon.corners()
    rows, cols = page.shape
    left, top = (max(0, int(np.floor(v))) for v in points.min(axis=0))
    right = min(cols, int(np.ceil(points[:, 0].max())))
    bottom = min(rows, int(np.ceil(points[:, 1].max())))
    piece = page[top:bottom, left:right].copy()
    inside = polygon2mask(piece.shape, np.stack([points[:, 1] - top, points[:, 0] - left], axis=1))
    piece[~inside] = paper
    return piece
