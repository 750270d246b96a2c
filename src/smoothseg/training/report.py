"""Run outputs a person reads: ``metrics.csv`` (one row per epoch) and ``curves.png``."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from smoothseg.io.atomic import atomic_output
from smoothseg.io.cells import csv_cell

#: Columns always present, in order; validation columns follow when a stage has them.
BASE_COLUMNS = (
    "epoch",
    "lr",
    "train_loss",
    "train_dice_loss",
    "train_focal",
    "train_tlvr",
    "train_vae",
    "train_seconds",
    "val_dice",
)
VAL_COLUMNS = (
    "val_dice_liver",
    "val_dice_liver_nonempty",
    "val_dice_tumor",
    "val_dice_tumor_nonempty",
    "val_seconds",
)


def write_metrics(path: Path, history: Sequence[dict[str, Any]]) -> Path:
    """Write the whole history as CSV (atomically; empty cells where not validated)."""
    extra = [c for c in VAL_COLUMNS if any(c in row for row in history)]
    columns = [*BASE_COLUMNS, *extra]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in history:
        writer.writerow([csv_cell(row.get(c), 6) for c in columns])
    with atomic_output(path, overwrite=True) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def write_curves(path: Path, history: Sequence[dict[str, Any]], title: str) -> Path:
    """Training loss and validation Dice per epoch as a PNG (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = [int(r["epoch"]) for r in history]
    loss = [float(r["train_loss"]) for r in history]
    val = [(int(r["epoch"]), float(r["val_dice"])) for r in history if _finite(r.get("val_dice"))]
    fig, (ax_loss, ax_dice) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    ax_loss.plot(epochs, loss, marker="o", ms=3, color="tab:blue")
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="training loss")
    ax_loss.grid(alpha=0.3)
    if val:
        ax_dice.plot([e for e, _ in val], [d for _, d in val], marker="o", ms=3, color="tab:green")
    ax_dice.set(xlabel="epoch", ylabel="Dice", title="validation Dice", ylim=(0.0, 1.0))
    ax_dice.grid(alpha=0.3)
    for ax in (ax_loss, ax_dice):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title)
    with atomic_output(path, overwrite=True) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
