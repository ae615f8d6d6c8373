"""Where installed code lives (site-packages, user site, the standard library), as opposed to the
project's own code: what a logged agent's artifact must carry, and what a worker may import ahead."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path


@functools.cache
def installation() -> tuple[Path, ...]:
    """The installation's folders: a virtual environment inside the project folder is still the
    installation, not the project's code."""
    import site
    import sysconfig

    places = [p for key, p in sysconfig.get_paths().items() if key in ("purelib", "platlib", "stdlib", "platstdlib")]
    return tuple(Path(p).resolve() for p in [*places, *site.getsitepackages(), site.getusersitepackages()])


def within(path: Path, folders: Iterable[Path]) -> bool:
    """Whether `path` is one of `folders` or lies below one of them."""
    return any(path == folder or folder in path.parents for folder in folders)
