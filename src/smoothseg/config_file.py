"""Reading config files: one reader for every TOML, JSON or YAML file smoothseg accepts."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from smoothseg.errors import InputError

SUFFIXES = (".toml", ".json", ".yaml", ".yml")


def read_config_file(path: str | Path, *, what: str = "config") -> dict[str, Any]:
    """Read a TOML, JSON or YAML file holding a table/mapping at the top level.

    Args:
        path: The file.
        what: What the file is, for error messages (``config``, ``experiment config``...).

    Raises:
        InputError: Missing, unreadable or unparsable file, an unsupported suffix, or no
            mapping at the top level.

    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, f"{what} file not found")
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(p, f"{what} files must be .toml, .json, .yaml or .yml")
    import yaml

    try:
        text = p.read_text(encoding="utf-8")
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text) or {}
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise InputError(p, f"cannot parse {what}: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(
            p, f"{what} must hold a mapping at the top level (a TOML table, a JSON/YAML object)"
        )
    return data
