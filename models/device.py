"""Device names a backend accepts (cpu, cuda, cuda:N), checked before anything is loaded; no torch import."""

from __future__ import annotations

import re

from ratiocinator.errors import InvalidInput

_DEVICE = re.compile(r"^(cpu|cuda(:\d+)?)$")


def check_device(device: object) -> str:
    """`device` stripped when it is cpu, cuda or cuda:N; anything else is an InvalidInput naming it."""
    name = device.strip() if isinstance(device, str) else device
    if not isinstance(name, str) or not _DEVICE.match(name):
        raise InvalidInput(f"device {device!r}: expected cpu, cuda or cuda:N (N the index of a GPU, e.g. cuda:0)")
    return name


def cuda_index(device: str) -> int | None:
    """N of cuda:N, None for cuda and cpu."""
    _, sep, index = device.partition(":")
    return int(index) if sep else None
