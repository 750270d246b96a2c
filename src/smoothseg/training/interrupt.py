"""Clean stops on SIGTERM/SIGINT: the training loop stops at the next batch boundary.

While :func:`interrupt_guard` is active, the first SIGTERM or SIGINT (Ctrl-C) only records the
signal; the trainer calls :func:`raise_if_interrupted` after every batch and at every epoch
boundary, which raises :class:`TrainingInterrupted`. The epoch in progress is dropped: ``last.pt``
always holds the state at the last epoch boundary (it is written before the first epoch, too),
so ``smoothseg train --resume`` redoes that epoch and ends exactly where an uninterrupted run
would (same seed, same device). A second signal restores the previous handler and re-delivers
the signal, so a stuck run can still be killed.

Handlers can only be installed in the main thread; elsewhere the guard does nothing.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from smoothseg.errors import SmoothsegError

log = logging.getLogger(__name__)

#: The signals that stop training cleanly.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

_received: list[int] = []


class TrainingInterrupted(SmoothsegError):
    """Training stopped on a signal after making sure ``last.pt`` can resume it.

    Attributes:
        run: The run folder.
        signal_name: ``SIGTERM`` or ``SIGINT``.
        epochs_done: Epochs held by ``last.pt``.

    """

    def __init__(self, run: Path, signum: int, epochs_done: int) -> None:
        self.run = run
        self.signal_name = signal.Signals(signum).name
        self.epochs_done = epochs_done
        self.exit_code = 128 + int(signum)  # the shell convention: 143 for SIGTERM, 130 for ^C
        super().__init__(
            f"{run}: training stopped by {self.signal_name}; last.pt holds {epochs_done} "
            "finished epoch(s) (the epoch in progress is redone); continue with "
            "`smoothseg train ... --resume`"
        )


def interrupt_requested() -> int | None:
    """The signal number received while a guard is active, else ``None``."""
    return _received[0] if _received else None


def raise_if_interrupted(
    run: Path, epochs_done: int, agree: Callable[[int | None], int | None] | None = None
) -> None:
    """Raise :class:`TrainingInterrupted` when a stop signal has arrived.

    Args:
        run: The run folder (for the message).
        epochs_done: Finished epochs held by ``last.pt``.
        agree: Distributed runs: maps this rank's signal to the one all ranks agree on, so
            every rank stops at the same batch.

    """
    signum = interrupt_requested()
    if agree is not None:
        signum = agree(signum)
    if signum is not None:
        raise TrainingInterrupted(run, signum, epochs_done)


def _handler(previous: dict[int, Any]) -> Callable[[int, FrameType | None], None]:
    def handle(signum: int, frame: FrameType | None) -> None:
        del frame
        if _received:  # second signal: give up the clean stop
            signal.signal(signum, previous.get(signum, signal.SIG_DFL))
            os.kill(os.getpid(), signum)
            return
        _received.append(signum)
        log.warning(
            "%s received: stopping after the current batch (send it again to abort now)",
            signal.Signals(signum).name,
        )

    return handle


@contextmanager
def interrupt_guard(signals: tuple[int, ...] = STOP_SIGNALS) -> Iterator[None]:
    """Turn ``signals`` into a stop request for the duration of the block (main thread only)."""
    _received.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {s: signal.getsignal(s) for s in signals}
    handle = _handler(previous)
    for s in signals:
        signal.signal(s, handle)
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old if old is not None else signal.SIG_DFL)
        _received.clear()
