"""The console script: hand the command to a warm process (`audio-edition warm`) when
$AUDIO_EDITION_WARM names its socket, else run the command line here.

All a command sent to a warm process imports is this and audio/warm/client.py: see there why so little.
"""
from __future__ import annotations

import os
import sys

from ..warm import client


def run() -> None:
    """`audio-edition …`: through the warm process when one answers, else in this process (cli.run)."""
    address = os.environ.get(client.WARM_ENV)
    if address and "warm" not in sys.argv[1:]:  # (`warm` itself; or an argument so named: no harm in running here)
        status = client.through_warm(address, sys.argv[1:])
        if status is not None:
            client.end_like(status)
    from .main import run as run_here

    run_here()
