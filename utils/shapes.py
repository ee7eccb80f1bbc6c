"""Analytic solids in world millimetres (RAS+): the building blocks of the synthetic patient.

Each shape answers two questions: which of these points (array ``(..., 3)`` in mm) are inside, and
what axis-aligned box (mm) holds it, so that a scanner only evaluates the shape where it can be.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def rotation_matrix(angles_deg: tuple[float, float, float]) -> np.ndarray:
    """3x3 rotation from Euler angles (deg) about x, then y, then z (world axes)."""
    ax, ay, az = np.deg2rad(angles_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


@dataclass(frozen=True)
class Ellipsoid:
    """Solid ellipsoid: centre (mm), semi-axes (mm) and an optional rotation (deg about x, y, z)."""

    centre_mm: tuple[float, float, float]
    radii_mm: tuple[float, float, float]
    angles_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def contains(self, xyz_mm: np.ndarray) -> np.ndarray:
        """Boolean mask of the points ``(..., 3)`` (mm) inside the ellipsoid."""
        local = (xyz_mm - np.asarray(self.centre_mm, dtype=xyz_mm.dtype)) @ rotation_matrix(
            self.angles_deg
        ).astype(xyz_mm.dtype)
        return np.einsum("...i,...i->...", local / self.radii_mm, local / self.radii_mm) <= 1.0

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned (min, max) corners (mm) of the rotated ellipsoid."""
        half = np.sqrt(((rotation_matrix(self.angles_deg) * np.asarray(self.radii_mm)) ** 2).sum(axis=1))
        return np.asarray(self.centre_mm) - half, np.asarray(self.centre_mm) + half


@dataclass(frozen=True)
class Capsule:
    """Solid capsule: all points within ``radius_mm`` of the segment from ``start_mm`` to ``end_mm``."""

    start_mm: tuple[float, float, float]
    end_mm: tuple[float, float, float]
    radius_mm: float

    def contains(self, xyz_mm: np.ndarray) -> np.ndarray:
        """Boolean mask of the points ``(..., 3)`` (mm) inside the capsule."""
        a = np.asarray(self.start_mm, dtype=xyz_mm.dtype)
        ab = np.asarray(self.end_mm, dtype=xyz_mm.dtype) - a
        t = np.clip(((xyz_mm - a) @ ab) / float(ab @ ab), 0.0, 1.0)
        nearest = a + t[..., None] * ab
        return ((xyz_mm - nearest) ** 2).sum(axis=-1) <= self.radius_mm**2

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned (min, max) corners (mm)."""
        ends = np.array([self.start_mm, self.end_mm])
        return ends.min(axis=0) - self.radius_mm, ends.max(axis=0) + self.radius_mm


@dataclass(frozen=True)
class Profile:
    """Body-like solid: elliptic cross-sections whose semi-axes and centre vary with height z (mm).

    ``knots`` rows are ``(z, x_semi_axis, y_semi_axis, y_centre)`` in mm, z increasing; ``inset_mm``
    shrinks every section, which gives concentric layers (skin fat, muscle wall) from one outline.
    """

    knots: tuple[tuple[float, float, float, float], ...]
    inset_mm: float = 0.0

    def _sections(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = np.asarray(self.knots, dtype=float)
        rx = np.interp(z, k[:, 0], k[:, 1]) - self.inset_mm
        ry = np.interp(z, k[:, 0], k[:, 2]) - self.inset_mm
        return rx, ry, np.interp(z, k[:, 0], k[:, 3])

    def contains(self, xyz_mm: np.ndarray) -> np.ndarray:
        """Boolean mask of the points ``(..., 3)`` (mm) inside the profile."""
        x, y, z = xyz_mm[..., 0], xyz_mm[..., 1], xyz_mm[..., 2]
        rx, ry, cy = self._sections(z)
        z_lo, z_hi = self.knots[0][0] + self.inset_mm, self.knots[-1][0] - self.inset_mm
        with np.errstate(divide="ignore", invalid="ignore"):
            inside = (x / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0
        return inside & (rx > 0) & (ry > 0) & (z >= z_lo) & (z <= z_hi)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned (min, max) corners (mm)."""
        k = np.asarray(self.knots, dtype=float)
        rx = k[:, 1].max() - self.inset_mm
        return (
            np.array([-rx, (k[:, 3] - k[:, 2]).min() + self.inset_mm, k[0, 0] + self.inset_mm]),
            np.array([rx, (k[:, 3] + k[:, 2]).max() - self.inset_mm, k[-1, 0] - self.inset_mm]),
        )


@dataclass(frozen=True)
class Union:
    """Union of solids: inside when inside any part (lobulated masses, bones made of several pieces)."""

    parts: tuple[Ellipsoid | Capsule | Profile | Union, ...] = field(default_factory=tuple)

    def contains(self, xyz_mm: np.ndarray) -> np.ndarray:
        """Boolean mask of the points ``(..., 3)`` (mm) inside any part."""
        inside = np.zeros(xyz_mm.shape[:-1], dtype=bool)
        for part in self.parts:
            inside |= part.contains(xyz_mm)
        return inside

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned (min, max) corners (mm) of all parts."""
        lows, highs = zip(*(part.bounds_mm() for part in self.parts), strict=True)
        return np.min(lows, axis=0), np.max(highs, axis=0)


Shape = Ellipsoid | Capsule | Profile | Union
