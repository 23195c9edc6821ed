#!/usr/bin/env python
"""Load benchmark: four people upload cards at once, over HTTP, to the whole system.

    python bench/load.py            (BENCH_IMAGES_EACH=60 images per uploader by default)

Four uploaders, each a logged-in HTTP session of its own, send 60 camera-like 12 MP JPEGs
each as the upload page does (static/js/upload.js: multipart POSTs of up to 20 files with
`Accept: application/json`, the batch id of the first answer sent with the rest), then poll
their batch's progress JSON until it says done. Against two stacks the bench starts itself:

1. `make run`'s: `manage.py rundev` (SQLite, the development Redis, one worker with the
   sweep's scheduler, runserver), DEBUG on, all under bench/out/load/dev/;
2. production's: PostgreSQL and Redis from DATABASE_URL and CELERY_BROKER_URL (a separate
   "<name>_load" database), gunicorn, two `celery worker` processes of concurrency 1 and
   `celery beat`, DEBUG off. Skipped when those two variables are not set.

Prints per stack images per second end to end, the upload time, the time to finish after
the last upload, the CPU time of each part (the machine is shared: others' time too), and
the images lost, read from the stack's database afterwards: every uploaded image stored
exactly once, processed (or failed with a reason), and in an event if it has a capture
time. Exits non-zero if any image was lost or grouped wrongly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import http.cookies
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import environment
import ingest
from environment import OUT, ROOT

EACH = int(os.getenv("BENCH_IMAGES_EACH", "60"))
# Two sessions per demo deployment, the images of one card dealt between them in turn:
# events then hold images of both batches, so grouping runs concurrently on one deployment
# (the hard case) while the other team's deployment is processed beside it (the usual one).
UPLOADERS = ["cn-uploader", "cn-uploader", "ru-uploader", "ru-uploader"]
PASSWORD = "demo"  # seed_demo's
MAX_FILES, MAX_BYTES = 20, 64 * 1024 * 1024  # per request, as static/js/upload.js sends
# Capture times: bursts of 3 images 2 s apart, a burst every 10 minutes; every image its
# own instant, every burst one event under the default 60 s gap.
BURST, BURST_STEP, BURST_EVERY = 3, 2, 600
FIRST_CAPTURE = dt.datetime(2025, 10, 1)
POLL_SECONDS = 0.25
DONE_TIMEOUT = 1800
STARTED: list[subprocess.Popen] = []
PARTS = ["web", "workers", "beat", "broker", "database", "bench"]  # as CPU time is reported
STOPPING = threading.Event()  # set when the bench stops the stacks: uploaders give up
# Taken before environment.configure() rewrites os.environ for the production stack.
BASE_ENVIRONMENT = dict(os.environ, PYTHONUNBUFFERED="1")


@dataclass
class Image:
    """One uploaded file: a corpus JPEG with its capture time rewritten (so its bytes too)."""

    index: int
    base: Path
    old_time: bytes
    new_time: bytes
    size: int = 0
    sha256: str = ""

    @property
    def name(self) -> str:
        return f"RCNX{self.index:04d}.JPG"

    def data(self) -> bytes:
        data = self.base.read_bytes()
        # DateTime, DateTimeOriginal and CreateDate; same length, so no offset moves.
        if data.count(self.old_time) != 3:
            raise RuntimeError(f"{self.base}: not three capture times to rewrite")
        return data.replace(self.old_time, self.new_time)


def capture_time(index: int) -> bytes:
    seconds = index // BURST * BURST_EVERY + index % BURST * BURST_STEP
    return (FIRST_CAPTURE + dt.timedelta(seconds=seconds)).strftime("%Y:%m:%d %H:%M:%S").encode()


def prepare_images(count: int) -> list[Image]:
    from PIL import Image as Pillow

    ingest.CORPUS.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor() as pool:
        paths = list(pool.map(ingest.make_image, range(count)))
    images = []
    for index, path in enumerate(paths):
        with Pillow.open(path) as opened:
            old_time = opened.getexif()[0x0132].encode()
        image = Image(index, path, old_time, capture_time(index))
        data = image.data()
        image.size, image.sha256 = len(data), hashlib.sha256(data).hexdigest()
        images.append(image)
    return images


def deal(images: list[Image]) -> list[list[Image]]:
    """Each uploader's images: a deployment's share of the corpus, every other image."""
    per_deployment = 2 * EACH
    return [
        images[per_deployment * (number // 2) : per_deployment * (number // 2 + 1)][number % 2 :: 2]
        for number in range(len(UPLOADERS))
    ]


def expected_events(images: list[Image]) -> list[list[str]]:
    """The images each event should hold: a burst, within one deployment."""
    events: dict[tuple[int, int], list[str]] = {}
    for image in images:
        key = (image.index // (2 * EACH), image.index // BURST)
        events.setdefault(key, []).append(image.sha256)
    return list(events.values())


# The uploaders' side: HTTP as a browser speaks it.


class Session:
    """One browser: its own cookies; a connection per request (nothing kept alive)."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
        cookie = "; ".join(f"{key}={value}" for key, value in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            connection.request(method, path, body, {"Cookie": cookie, **(headers or {})})
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for key, morsel in http.cookies.SimpleCookie(header).items():
                self.cookies[key] = morsel.value
        return response.status, content

    def post_form(self, path: str, fields: dict) -> int:
        body = urllib.parse.urlencode(fields)
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", path, body, form)[0]

    def page(self, path: str) -> str:
        status, content = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}")
        return content.decode()


def form_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def log_in(session: Session, user: str) -> str:
    """Log in as the login page does; return the upload page of the user's deployment."""
    token = form_token(session.page("/login/"))
    fields = {"username": user, "password": PASSWORD, "csrfmiddlewaretoken": token}
    if session.post_form("/login/", fields) != 302 or "sessionid" not in session.cookies:
        raise RuntimeError(f"{user} could not log in")
    return re.search(r'href="(/deployments/\d+/upload/)"', session.page("/")).group(1)


def groups(images: list[Image]) -> list[list[Image]]:
    """The requests the upload page makes of a selection: up to 20 files, 64 MiB."""
    result, current, size = [], [], 0
    for image in images:
        if current and (len(current) >= MAX_FILES or size + image.size > MAX_BYTES):
            result.append(current)
            current, size = [], 0
        current.append(image)
        size += image.size
    return result + [current] if current else result


def multipart(fields: list[tuple[str, str]], files: list[Image]) -> tuple[str, int, object]:
    """A multipart/form-data body as the page's FormData sends it: content type, length and
    the body as a generator, so a request holds one image in memory at a time."""
    boundary = "----neaspec-load-" + os.urandom(8).hex()
    parts: list[tuple[bytes, Image | None]] = []
    for name, value in fields:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        parts.append((head.encode(), None))
    for image in files:
        head = (
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="files"; filename="{image.name}"\r\nContent-Type: image/jpeg\r\n\r\n'
        )
        parts.append((head.encode(), image))
        path = f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="paths"\r\n\r\n'
        parts.append((f"{path}{image.name}\r\n".encode(), None))
    tail = f"--{boundary}--\r\n".encode()
    length = sum(len(head) + (image.size if image else 0) for head, image in parts) + len(tail)

    def body():
        for head, image in parts:
            yield head
            if image:
                yield image.data()
        yield tail

    return f"multipart/form-data; boundary={boundary}", length, body()


def send(session: Session, path: str, token: str, files: list[Image], batch) -> dict:
    fields = [("csrfmiddlewaretoken", token)] + ([("batch", str(batch))] if batch else [])
    content_type, length, body = multipart(fields, files)
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(length),
        "Accept": "application/json",
    }
    status, content = session.request("POST", path, body, headers)
    if status != 200:
        raise UploadError(status, content[:500])
    return json.loads(content)


class UploadError(Exception):
    def __init__(self, status: int, content: bytes) -> None:
        super().__init__(f"HTTP {status}: {content!r}")
        self.status = status


def send_with_retry(session: Session, path: str, token: str, files, batch, tally) -> dict:
    """As the page does: up to 4 attempts, 2 s more between each, none after a 4xx."""
    for attempt in range(1, 5):
        try:
            return send(session, path, token, files, batch)
        except (UploadError, OSError, http.client.HTTPException) as error:
            if attempt == 4 or 400 <= getattr(error, "status", 0) < 500 or STOPPING.is_set():
                raise
            tally["retried"] += 1
            print(f"  request failed ({error}); trying again in {2 * attempt} s", flush=True)
            time.sleep(2 * attempt)


def wait_until_done(session: Session, batch: int) -> float | None:
    """Poll the batch's progress JSON as its page does; when it said done (None: never)."""
    deadline = time.time() + DONE_TIMEOUT
    while time.time() < deadline:
        status, content = session.request(
            "GET", f"/batches/{batch}/progress/", headers={"Accept": "application/json"}
        )
        if status == 200 and json.loads(content)["done"]:
            return time.time()
        time.sleep(POLL_SECONDS)
    return None


def uploader(port: int, user: str, images: list[Image], barrier, result: dict) -> None:
    try:
        session = Session(port)
        path = log_in(session, user)
        token = form_token(session.page(path))
        tally = {"retried": 0, "requests": 0}
        barrier.wait(timeout=300)  # the clock starts when all four are ready
        batch = None
        for group in groups(images):
            batch = send_with_retry(session, path, token, group, batch, tally)["batch"]
            tally["requests"] += 1
        result.update(tally, batch=batch, uploaded=time.time())
        result["done"] = wait_until_done(session, batch)
    except BaseException as error:
        barrier.abort()
        result["error"] = error


def upload_concurrently(port: int, shares: list[list[Image]], read_cpu) -> tuple[dict, list]:
    """Run the four uploaders at once; return when they started (after logging in: a login
    hashes a password for half a second), the CPU reading then, and what each saw."""
    clock: dict = {}

    def start() -> None:
        clock.update(cpu=read_cpu(), start=time.time())

    barrier = threading.Barrier(len(shares), action=start)
    results: list[dict] = [{} for _ in shares]
    threads = [
        # Daemons: Ctrl-C stops the bench at once; its finally stops the servers.
        threading.Thread(target=uploader, args=(port, user, share, barrier, result), daemon=True)
        for user, share, result in zip(UPLOADERS, shares, results, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = [result["error"] for result in results if "error" in result]
    if errors:
        first = next(
            (e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0]
        )
        raise RuntimeError(f"an uploader failed: {first!r}") from first
    return clock, results


# The stacks: processes of their own, each in a process group of its own.


def spawn(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,  # its children too are stopped with it, and only they
        )  # fmt: skip
    STARTED.append(process)
    return process


def group_alive(group: int) -> bool:
    """Whether a process of the group lives (zombies not counted: nothing left to stop)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


def stop(processes: list[subprocess.Popen]) -> None:
    """Stop each process and everything it started: TERM, then KILL after 30 s."""
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for process in processes:
        while time.monotonic() < deadline and (process.poll() is None or group_alive(process.pid)):
            time.sleep(0.1)
        _signal_group(process, signal.SIGKILL)
        process.wait()
        STARTED.remove(process)


def _signal_group(process: subprocess.Popen, number: int) -> None:
    try:
        os.killpg(process.pid, number)  # its own group, started by spawn()
    except ProcessLookupError:
        pass


def wait_ready(port: int, processes: list[subprocess.Popen], logs: list[Path]) -> None:
    """Until the web server answers and every worker's log says it is ready."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args} stopped:\n{tail(logs)}")
        if all(" ready." in log.read_text() for log in logs) and answers(port):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the stack did not start in 180 s:\n{tail(logs)}")


def answers(port: int) -> bool:
    try:
        return Session(port).request("GET", "/login/")[0] == 200
    except OSError:
        return False


def tail(logs: list[Path]) -> str:
    return "\n".join(f"{log}:\n{log.read_text()[-3000:]}" for log in logs if log.exists())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_development(folder: Path, port: int) -> tuple[dict, list, list[Path]]:
    """`make run`: rundev migrates, seeds the demo data, starts its Redis, worker and web."""
    env = {
        key: value
        for key, value in BASE_ENVIRONMENT.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "CELERY_QUEUE", "MEDIA_ROOT"}
    }
    env.update(DEBUG="True", VAR_DIR=str(folder), DJANGO_SETTINGS_MODULE="neaspec_traps.settings")
    log = folder / "rundev.log"
    command = [sys.executable, "manage.py", "rundev", f"127.0.0.1:{port}"]
    return env, [spawn(command, env, log)], [log]


def start_production(folder: Path, port: int) -> tuple[dict, list, list[Path]]:
    """PostgreSQL, Redis, gunicorn, two workers of one process each and beat, DEBUG off."""
    from sightings.management.commands.rundev import worker_command

    env = dict(
        os.environ, PYTHONUNBUFFERED="1", VAR_DIR=str(folder), MEDIA_ROOT=str(folder / "media")
    )
    env.update(ALLOWED_HOSTS="127.0.0.1", SESSION_COOKIE_SECURE="False")
    env.update(CSRF_COOKIE_SECURE="False")  # plain HTTP on the loopback
    for step in (["migrate", "--verbosity", "0"], ["seed_demo"]):
        manage = [sys.executable, "manage.py", *step]
        subprocess.run(manage, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    web = [sys.executable, "-m", "gunicorn", "neaspec_traps.wsgi", "--bind", f"127.0.0.1:{port}"]
    # A process per core; threads, so progress polls are answered beside four uploads.
    web += ["--workers", "2", "--threads", "4", "--timeout", "300"]
    processes = [spawn(web, env, folder / "gunicorn.log")]
    logs = [folder / f"worker-{number}.log" for number in (1, 2)]
    for number, log in enumerate(logs, 1):
        # No gossip or mingle: the Redis may be shared with other installations' workers.
        worker = worker_command(1) + ["--without-gossip", "--without-mingle"]
        processes.append(spawn(worker + ["-n", f"load{number}@%h"], env, log))
    beat = [sys.executable, "-m", "celery", "-A", "neaspec_traps", "beat", "-l", "INFO"]
    beat += ["--schedule", str(folder / "celerybeat-schedule")]
    processes.append(spawn(beat, env, folder / "beat.log"))
    return env, processes, logs


# After the run: what the stack's own database says.


def inspect(env: dict, images: list[Image], batches: list[int]) -> dict:
    """Count the losses in a child process set up with the stack's own settings."""
    request = {
        "sha256": [image.sha256 for image in images],
        "batches": batches,
        "events": expected_events(images),
    }
    child = subprocess.run(
        [sys.executable, __file__, "--inspect"], input=json.dumps(request), env=env, cwd=ROOT,
        capture_output=True, text=True,
    )  # fmt: skip
    if child.returncode:
        raise RuntimeError(f"counting the losses failed:\n{child.stderr}")
    return json.loads(child.stdout.splitlines()[-1])


def count_losses(request: dict) -> dict:
    """In the child: which uploaded images are not stored once, finished and grouped."""
    import django

    django.setup()
    from django.db.models import Count

    from sightings.models import Media, SkippedFile

    shas = set(request["sha256"])
    found = Media.objects.filter(sha256__in=shas)
    copies = dict(found.values_list("sha256").annotate(n=Count("pk")).order_by())
    media = list(found)
    losses = {
        "missing": shas - set(copies),
        "stored twice": {sha for sha, n in copies.items() if n > 1},
        "file missing": {m.sha256 for m in media if not _stored(m)},
        "not finished": {m.sha256 for m in media if not _finished(m)},
        "processed, in no event": {m.sha256 for m in media if _ungrouped(m)},
    }
    processed = [m for m in media if m.state == Media.State.PROCESSED]
    return {
        "lost": len(set().union(*losses.values())),
        "losses": {label: len(shas) for label, shas in losses.items()},
        "failed": sum(m.state == Media.State.FAILED for m in media),
        "no capture time": sum(not m.captured_at for m in processed),
        "in the batches": Media.objects.filter(batch__in=request["batches"]).count(),
        "skipped": SkippedFile.objects.filter(batch__in=request["batches"]).count(),
        **count_events(media, request["events"]),
    }


def count_events(media: list, expected_events: list[list[str]]) -> dict:
    """The deployments' events against the bursts they should be."""
    from django.db.models import Count

    from sightings.models import Event

    deployments = {m.deployment_id for m in media}
    events = Event.objects.filter(deployment__in=deployments).annotate(members=Count("media"))
    grouped: dict[int, set[str]] = {}
    for m in media:
        if m.event_id:
            grouped.setdefault(m.event_id, set()).add(m.sha256)
    expected = {frozenset(event) for event in expected_events}
    across = events.annotate(batches=Count("media__batch", distinct=True)).filter(batches__gt=1)
    return {
        "events": events.count(),
        "events expected": len(expected),
        "events as expected": len(expected & {frozenset(e) for e in grouped.values()}),
        "events miscounted": sum(event.media_count != event.members for event in events),
        "events across batches": across.count(),
    }


def _stored(media) -> bool:
    from django.core.files.storage import default_storage

    return default_storage.exists(media.file.name) and (
        default_storage.size(media.file.name) == media.file_size
    )


def _finished(media) -> bool:
    return media.state == "processed" or (media.state == "failed" and bool(media.failure_reason))


def _ungrouped(media) -> bool:
    return media.state == "processed" and media.captured_at is not None and not media.event_id


# The run.


def run_stack(title: str, key: str, start, images: list[Image]) -> dict:
    folder = OUT / "load" / key
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"\n{title}\n  load average before: {load_average()}", flush=True)
    port = free_port()
    env, processes, logs = start(folder, port)
    database = env.get("DATABASE_URL", "").rpartition("/")[2]  # PostgreSQL's; "" for SQLite
    try:
        wait_ready(port, processes, logs)
        clock, results = upload_concurrently(
            port, deal(images), lambda: (time.monotonic(), cpu_seconds(processes, database))
        )
        began, before = clock["cpu"]
        cpu = cpu_used(before, cpu_seconds(processes, database), time.monotonic() - began)
        print(f"  load average at the end: {load_average()}")
    except BaseException:
        STOPPING.set()
        raise
    finally:
        stop(processes)
    report = inspect(env, images, [result["batch"] for result in results])
    figures = timeline(clock["start"], results, images)
    figures["cpu"] = cpu
    print_stack(figures, report, results)
    if not report["lost"]:
        shutil.rmtree(folder / "media", ignore_errors=True)  # a GB or so; kept to look into a loss
    return {**figures, **report}


def cpu_seconds(processes: list[subprocess.Popen], database: str) -> dict[str, float]:
    """CPU seconds so far of each part of the stack (the process groups it started, the
    database server's processes serving its database), of the bench's own process, and of
    the whole machine, which is shared: what others used is the difference."""
    tick = os.sysconf("SC_CLK_TCK")
    machine = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    seconds = {"machine": sum(int(v) for i, v in enumerate(machine) if i not in (3, 4)) / tick}
    seconds["bench"] = sum(os.times()[:2])
    groups = {process.pid for process in processes}
    for folder in Path("/proc").glob("[0-9]*"):
        try:
            fields = (folder / "stat").read_text().rpartition(")")[2].split()
            command = (folder / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, UnicodeDecodeError):
            continue
        if int(fields[2]) in groups:
            part = _part(command)
        elif database and f" {database} " in command:  # "postgres: 15/main: user db host"
            part = "database"
        else:
            continue
        # User and system time, its own and that of its children it waited for.
        seconds[part] = seconds.get(part, 0) + sum(int(v) for v in fields[11:15]) / tick
    return seconds


def _part(command: str) -> str:
    if "redis-server" in command:
        return "broker"
    if "celery" in command:
        return "workers" if " worker " in command else "beat"
    return "web"


def cpu_used(before: dict, after: dict, seconds: float) -> dict[str, float]:
    used = {part: after[part] - before.get(part, 0) for part in after}
    used["others"] = used["machine"] - sum(v for part, v in used.items() if part != "machine")
    return {**used, "cores": used["machine"] / seconds}


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg()) + " (1, 5, 15 min)"


def timeline(start: float, results: list[dict], images: list[Image]) -> dict:
    uploaded = max(result["uploaded"] for result in results)
    dones = [result["done"] for result in results]
    done = None if None in dones else max(dones)
    return {
        "upload": uploaded - start,
        "megabytes": sum(image.size for image in images) / 1e6,
        "after upload": done - uploaded if done else None,
        "end to end": done - start if done else None,
        "images per second": len(images) / (done - start) if done else 0.0,
    }


def print_stack(figures: dict, report: dict, results: list[dict]) -> None:
    requests = sum(result["requests"] for result in results)
    print(
        f"  upload: {figures['upload']:.1f} s for {figures['megabytes']:.0f} MB in {requests} "
        f"requests ({figures['megabytes'] / figures['upload']:.1f} MB/s), "
        f"{sum(result['retried'] for result in results)} sent again"
    )
    cpu = figures["cpu"]
    parts = ", ".join(f"{part} {cpu[part]:.1f}" for part in PARTS if part in cpu)
    print(
        f"  CPU seconds during the run: {parts}; the machine's {cpu['machine']:.1f} "
        f"({cpu['cores']:.2f} of {os.cpu_count()} cores busy), others' {cpu['others']:.1f}"
    )
    if figures["end to end"] is None:
        print(f"  NOT DONE within {DONE_TIMEOUT} s of the last upload")
    else:
        print(f"  processing finished {figures['after upload']:.1f} s after the last upload")
        print(
            f"  end to end: {figures['end to end']:.1f} s, "
            f"{figures['images per second']:.2f} images/s"
        )
    losses = ", ".join(f"{label} {count}" for label, count in report["losses"].items())
    print(f"  lost images: {report['lost']} ({losses})")
    print(
        f"  failed with a reason: {report['failed']}, processed without a capture time: "
        f"{report['no capture time']}, media in the batches: {report['in the batches']}, "
        f"files skipped: {report['skipped']}"
    )
    print(
        f"  events: {report['events']} ({report['events expected']} expected, "
        f"{report['events as expected']} holding exactly their burst, "
        f"{report['events across batches']} across two batches, "
        f"{report['events miscounted']} with a wrong image count)"
    )


def wrong(report: dict) -> bool:
    grouped_right = report["events as expected"] == report["events expected"] == report["events"]
    return bool(report["lost"] or report["events miscounted"] or not grouped_right)


def main() -> int:
    # Ctrl-C raises KeyboardInterrupt; TERM too must reach the finally that stops the stacks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    count = EACH * len(UPLOADERS)
    print(f"Generating or reusing {count} JPEGs of {ingest.SIZE[0]}x{ingest.SIZE[1]} ...")
    images = prepare_images(count)
    print(f"{len(UPLOADERS)} uploaders x {EACH} images, {len({i.sha256 for i in images})} distinct")
    stacks = {}
    try:
        stacks["make run"] = run_stack(
            "make run: rundev, SQLite, development Redis, 1 worker (celery's default "
            "concurrency: a process per core) with the sweep's scheduler, runserver, DEBUG on",
            "dev", start_development, images,
        )  # fmt: skip
        if production_configured():
            environment.configure("load")
            stacks["production"] = run_stack(
                f"production: PostgreSQL ({os.environ['DATABASE_URL'].rpartition('/')[2]}), "
                "Redis, 2 workers x 1 process, beat, gunicorn 2 x 4 threads, DEBUG off",
                "production", start_production, images,
            )  # fmt: skip
        else:
            print("\nproduction stack skipped: set DATABASE_URL=postgres://... and "
                  "CELERY_BROKER_URL=redis://... to measure it")  # fmt: skip
    except KeyboardInterrupt:
        print("\ninterrupted")
        return 130
    finally:
        stop(list(STARTED))
    summary = "; ".join(
        f"{name} {result['images per second']:.2f} images/s, lost {result['lost']}"
        for name, result in stacks.items()
    )
    print(f"\nload end to end: {summary}")
    return 1 if any(wrong(result) for result in stacks.values()) else 0


def production_configured() -> bool:
    return os.getenv("DATABASE_URL", "").startswith("postgres") and os.getenv(
        "CELERY_BROKER_URL", ""
    ).startswith("redis")


if __name__ == "__main__":
    if sys.argv[1:] == ["--inspect"]:
        print(json.dumps(count_losses(json.load(sys.stdin))))
    else:
        sys.exit(main())
