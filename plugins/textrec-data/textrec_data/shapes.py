"""The outline of a labeled line on its page: a box (possibly rotated) or a polygon.

Exports give outlines relative to the page (Label Studio in percent, Dataturks in [0, 1]); they are
held as fractions of the page's width and height until the page image is known, then turned into
pixels with :meth:`Box.in_pixels` / :meth:`Polygon.in_pixels` (x right, y down).

A box's ``rotation`` is in degrees, clockwise on the page, about its top-left corner ``(x, y)``:
Label Studio's convention. Its corners are then ``(x, y)``, ``(x, y) + w * u``, ``(x, y) + w * u +
h * v``, ``(x, y) + h * v`` with ``u = (cos a, sin a)`` and ``v = (-sin a, cos a)``.
"""

from __future__ import annotations

import math

import attrs
import numpy as np


@attrs.frozen
class Box:
    """A rectangle ``width`` x ``height`` from its top-left corner ``(x, y)``, rotated by ``rotation`` degrees."""

    x: float
    y: float
    width: float
    height: float
    rotation: float = 0.0

    def in_pixels(self, page_width: int, page_height: int) -> Box:
        """This box, given in fractions of the page, in pixels of a ``page_width`` x ``page_height`` page."""
        return Box(self.x * page_width, self.y * page_height, self.width * page_width, self.height * page_height,
                   self.rotation)

    def corners(self) -> np.ndarray:
        """The four corners, ``(4, 2)`` as ``(x, y)``, clockwise from the top-left."""
        a = math.radians(self.rotation)
        u = np.array([math.cos(a), math.sin(a)]) * self.width
        v = np.array([-math.sin(a), math.cos(a)]) * self.height
        origin = np.array([self.x, self.y])
        return np.stack([origin, origin + u, origin + u + v, origin + v])

    def key(self) -> str:
        """The box's identity on its page: its numbers to six significant digits."""
        return "box " + " ".join(f"{value:.6g}" for value in (self.x, self.y, self.width, self.height, self.rotation))


@attrs.frozen
class Polygon:
    """A polygon through ``points`` (``(x, y)`` pairs, in order)."""

    points: tuple[tuple[float, float], ...]

    def in_pixels(self, page_width: int, page_height: int) -> Polygon:
        return Polygon(tuple((x * page_width, y * page_height) for x, y in self.points))

    def corners(self) -> np.ndarray:
        return np.array(self.points, dtype=np.float64).reshape(-1, 2)

    def key(self) -> str:
        return "polygon " + " ".join(f"{x:.6g},{y:.6g}" for x, y in self.points)


Shape = Box | Polygon


def area(points: np.ndarray) -> float:
    """The area enclosed by the polygon ``points`` (shoelace formula)."""
    if len(points) < 3:
        return 0.0
    x, y = points[:, 0], points[:, 1]
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2


def clipped(points: np.ndarray, width: float, height: float) -> np.ndarray:
    """The polygon ``points`` clipped to the rectangle ``[0, width] x [0, height]`` (Sutherland-Hodgman)."""
    edges = ((0, 0.0, 1), (0, width, -1), (1, 0.0, 1), (1, height, -1))  # (axis, bound, side: inside >= or <=)
    polygon = [tuple(p) for p in points]
    for axis, bound, side in edges:
        if not polygon:
            break
        out = []
        for i, current in enumerate(polygon):
            previous = polygon[i - 1]
            inside_now = (current[axis] - bound) * side >= 0
            inside_before = (previous[axis] - bound) * side >= 0
            if inside_now != inside_before:
                t = (bound - previous[axis]) / (current[axis] - previous[axis])
                out.append(tuple(previous[k] + t * (current[k] - previous[k]) for k in range(2)))
            if inside_now:
                out.append(current)
        polygon = out
    return np.array(polygon, dtype=np.float64).reshape(-1, 2)


def inside_fraction(points: np.ndarray, width: float, height: float) -> float:
    """The fraction of the polygon's area inside the page ``[0, width] x [0, height]`` (0 for no area)."""
    whole = area(points)
    return area(clipped(points, width, height)) / whole if whole > 0 else 0.0
