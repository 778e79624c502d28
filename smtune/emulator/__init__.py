"""A local AWS for this project: moto 5.2.5's server plus the patches the workflow needs.

Never deployed. See README.md in this directory for what it emulates and what it does not.
"""

from __future__ import annotations

from importlib.util import find_spec

if find_spec("moto") is None:
    raise ImportError(
        "the emulator needs moto and its server, which `pip install .` leaves out: install "
        "the emulator extra, pip install 'sagemaker-tuner-deployer[emulator]' (make demo does)",
        name="moto",
    )

from .control import ControlError
from .patches import UnsupportedMotoVersion
from .server import Emulator, EmulatorError, start_emulator

__all__ = [
    "ControlError",
    "Emulator",
    "EmulatorError",
    "UnsupportedMotoVersion",
    "start_emulator",
]
