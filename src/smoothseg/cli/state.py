"""What the running ``smoothseg`` command knows about itself (debug flag, its arguments)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class CliState:
    """Process-wide state of the command line.

    Attributes:
        debug: Show full tracebacks (``--debug`` or ``SMOOTHSEG_DEBUG``).
        argv: The arguments ``main()`` ran with (``train --nproc`` relaunches them).

    """

    debug: bool = False
    argv: tuple[str, ...] = ()


STATE = CliState(debug=os.environ.get("SMOOTHSEG_DEBUG", "") not in ("", "0"))
