"""smoothseg: liver and liver-tumor segmentation in 3D CT (SmoothSegNet)."""

__version__ = "0.1.0"

__all__ = ["__version__"]
