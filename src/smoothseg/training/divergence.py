"""Stop training with one clear line once the weights stop being finite numbers.

NaN or infinite voxels in a training image, or a learning rate far too high, make the loss NaN;
every weight is NaN one optimizer step later and every later epoch "trains" garbage that would
still be saved as a model. The check runs after every step; the weights are identical on every
rank of a data-parallel run, so all ranks stop together.
"""

from __future__ import annotations

from pathlib import Path

import torch

from smoothseg.errors import InputError


def stop_if_diverged(model: torch.nn.Module, run: Path, epoch: int, loss: float) -> None:
    """Raise when a parameter of ``model`` holds NaN or inf.

    Args:
        model: The network just stepped.
        run: The run folder (named in the message).
        epoch: The epoch in progress (0-based).
        loss: The step's loss, for the message.

    Raises:
        InputError: Non-finite weights; ``last.pt`` still holds the last good epoch.

    """
    params = [p.detach() for p in model.parameters()]
    if not params or bool(torch.stack([torch.isfinite(p).all() for p in params]).all()):
        return
    raise InputError(
        run,
        f"training diverged in epoch {epoch + 1}: the weights became NaN or infinite (batch "
        f"loss {loss:.4g}); last.pt keeps the last good epoch. Check the training images for "
        "NaN/inf voxels, or lower the learning rate",
    )
