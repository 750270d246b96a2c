"""Shipped training presets ``paper.toml`` and ``cpu-small.toml`` (``importlib.resources``)."""
