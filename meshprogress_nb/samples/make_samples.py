"""Makes the demo's sample images (deterministic, synthetic): ``python -m meshprogress_nb.samples.make_samples``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
SIZE = 384


def terrain(rng: np.random.Generator) -> np.ndarray:
    """Hills: a sum of random Gaussian bumps."""
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    z = np.zeros((SIZE, SIZE))
    for _ in range(40):
        cx, cy, r, h = rng.random(), rng.random(), 0.03 + 0.15 * rng.random(), rng.random()
        z += h * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r**2))
    return z


def ripples(_: np.random.Generator) -> np.ndarray:
    """Concentric waves from the centre, fading outwards."""
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE - 0.5
    r = np.hypot(x, y)
    return np.cos(40 * r) * np.exp(-4 * r)


def crater(rng: np.random.Generator) -> np.ndarray:
    """A rimmed crater on noisy ground."""
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE - 0.5
    r = np.hypot(x, y)
    rim = np.exp(-((r - 0.25) ** 2) / 0.002) - 0.6 * np.exp(-(r**2) / 0.02)
    return rim + 0.05 * rng.standard_normal((SIZE, SIZE))


def save(name: str, values: np.ndarray) -> None:
    scaled = (values - values.min()) / (values.max() - values.min())
    Image.fromarray((scaled * 255).astype(np.uint8)).save(HERE / f"{name}.png", optimize=True)


def main() -> None:
    rng = np.random.default_rng(20261129)
    for make in (terrain, ripples, crater):
        save(make.__name__, make(rng))


if __name__ == "__main__":
    main()
