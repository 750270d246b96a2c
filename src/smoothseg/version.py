"""Version of smoothseg and of the packages it runs on (one home for both)."""

from __future__ import annotations

import platform
from importlib import metadata

__version__ = "0.1.0"


def package_versions(*packages: str, python: bool = False) -> dict[str, str]:
    """``{"smoothseg": ..., ["python": ...,] package: version}`` (``absent`` when missing).

    Args:
        packages: Distribution names (as ``pip`` knows them, e.g. ``scikit-image``).
        python: Also record the Python version.

    """
    out = {"smoothseg": __version__}
    if python:
        out["python"] = platform.python_version()
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out
