#!/usr/bin/env python
"""Worker memory benchmark: the peak memory (RSS) of processing one file.

    python bench/memory.py

Makes (once, cached in bench/out/memory/) a camera-like 12-megapixel JPEG, the same JPEG
followed by 512 MiB of other data (as a file with a long tail, under the size limit), and
an uncompressed 48-megapixel TIFF; uploads each through sightings.ingest, then processes
each in a fresh process that runs the worker's task body, and prints that process's
resident memory once started and its peak while processing (Linux only: read in /proc).
Uses DATABASE_URL and CELERY_BROKER_URL if set (a separate "<name>_memory" database), else
a SQLite file under bench/out/.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import environment
import ingest as ingest_bench  # bench/ingest.py: its camera-like JPEG and deployment
from environment import OUT, ROOT

FILES = OUT / "memory"
TAIL = 512 * 1024 * 1024
TIFF_SIZE = (8000, 6000)


def make_files() -> list[Path]:
    """The three files, made once: a 12 MP JPEG, it with a long tail, a large TIFF."""
    FILES.mkdir(parents=True, exist_ok=True)
    ingest_bench.CORPUS.mkdir(parents=True, exist_ok=True)
    jpeg = ingest_bench.make_image(0)
    long = FILES / "long-tail.jpg"
    if not long.exists():
        with long.open("wb") as out:
            out.write(jpeg.read_bytes())
            for _ in range(TAIL // (1 << 20)):
                out.write(bytes(1 << 20))
    return [jpeg, long, make_tiff()]


def make_tiff() -> Path:
    from PIL import Image

    path = FILES / "large.tif"
    if not path.exists():
        image = Image.linear_gradient("L").resize(TIFF_SIZE).convert("RGB")
        image.save(path, "TIFF")
    return path


def upload(paths: list[Path]) -> list[int]:
    """Each file into a batch through the upload code; the ids of their Media rows."""
    deployment, user = ingest_bench.set_up_deployment()  # sets Django up
    from django.core.files import File

    from sightings import ingest

    batch = deployment.batches.create(uploaded_by=user)
    ids = []
    for path in paths:
        with path.open("rb") as source:
            sha256 = hashlib.file_digest(source, "sha256").hexdigest()
            media = ingest.add_file(
                batch, File(source, name=path.name), name=path.name, folder="", sha256=sha256
            )
        ids.append(media.pk)
    environment.purge_queue()  # processed here, not by a worker
    return ids


def measure(media_id: int) -> dict:
    """Process one media in a fresh process; its memory once started and at its peak."""
    command = [sys.executable, __file__, "--process", str(media_id)]
    output = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.splitlines()[-1])


def process(media_id: int) -> None:
    """In the child: start as a worker process does, then run the task body once."""
    import django

    django.setup()
    from sightings import tasks
    from sightings.models import Media

    Media.objects.get(pk=media_id)  # the database connection, opened before measuring
    started = _memory("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here (Linux)
    tasks.process_media(media_id)
    peak = _memory("VmHWM")
    media = Media.objects.get(pk=media_id)
    print(json.dumps({"started": started, "peak": peak, "state": media.state}))


def _memory(field: str) -> int:
    """This process's resident memory (VmRSS) or its peak (VmHWM), in bytes."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB$", status, re.MULTILINE)[1]) * 1024


def main() -> None:
    print("Making or reusing the files in", FILES, "...")
    paths = make_files()
    environment.configure("memory")
    ids = upload(paths)
    print(f"\n{'file':<16} {'size':>9} {'started':>9} {'peak':>9} {'added':>9}  state")
    added = {}
    for path, media_id in zip(paths, ids, strict=True):
        result = measure(media_id)
        added[path.name] = result["peak"] - result["started"]
        print(
            f"{path.name:<16} {_mib(path.stat().st_size)} {_mib(result['started'])} "
            f"{_mib(result['peak'])} {_mib(added[path.name])}  {result['state']}"
        )
    _remove_stored_files()
    normal, long, tiff = (added[path.name] for path in paths)
    print(
        f"\nworker peak RSS added, MiB: 12 MP JPEG {normal / 2**20:.0f}, "
        f"with a {TAIL >> 20} MiB tail {long / 2**20:.0f}, 48 MP TIFF {tiff / 2**20:.0f}"
    )


def _mib(size: int) -> str:
    return f"{size / 2**20:6.0f} MiB"


def _remove_stored_files() -> None:
    # The stored copies of the large files are not worth keeping between runs.
    for folder in ("originals", "previews", "thumbnails"):
        for path in (OUT / "media" / folder).rglob("*"):
            if path.is_file():
                path.unlink()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--process"]:
        process(int(sys.argv[2]))
    else:
        main()
