"""`make run` for a newcomer: zero set-up, a real worker, demo logins that can upload."""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from .conftest import BASE_DIR, CAMTRAPR, wait_until

IMAGE = CAMTRAPR / "sample_images_species_dir/StationA/PBE/StationA__2009-04-21__00-40-00(1).JPG"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """Just enough of a browser: cookies, CSRF token, forms and multipart uploads."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str, **headers) -> tuple[str, str]:
        with self.opener.open(urllib.request.Request(self.base + path, headers=headers)) as r:
            return r.geturl(), r.read().decode()

    def post(self, path: str, body: bytes, content_type: str, **headers) -> tuple[str, str]:
        token = next(c.value for c in self.cookies if c.name == "csrftoken")
        headers |= {"Content-Type": content_type, "X-CSRFToken": token, "Referer": self.base}
        request = urllib.request.Request(self.base + path, data=body, headers=headers)
        with self.opener.open(request) as response:
            return response.geturl(), response.read().decode()

    def use_session(self, session_key: str) -> None:
        """Be logged in with a session made elsewhere (the test client's force_login)."""
        host = urllib.parse.urlsplit(self.base).hostname
        self.cookies.set_cookie(http.cookiejar.Cookie(
            0, "sessionid", session_key, None, False, host, False, False, "/", True, False,
            None, False, None, None, {},
        ))  # fmt: skip
        self.get("/login/")  # for the CSRF cookie

    def log_in(self, username: str, password: str) -> str:
        self.get("/login/")
        form = urllib.parse.urlencode({"username": username, "password": password}).encode()
        return self.post("/login/", form, "application/x-www-form-urlencoded")[0]

    def upload(self, path: str, file: Path) -> dict:
        return self.upload_files(path, [(file.name, file.read_bytes())])

    def upload_files(
        self, path: str, files: list[tuple[str, bytes]], fields: list[tuple[str, str]] = ()
    ) -> dict:
        """Post files (and form fields) as the upload page does; its JSON answer."""
        boundary = uuid.uuid4().hex
        disposition = "--" + boundary + '\r\nContent-Disposition: form-data; name="{}"'
        parts = [
            (disposition.format(name) + f"\r\n\r\n{value}\r\n").encode() for name, value in fields
        ]
        for name, data in files:
            parts.append(
                (disposition.format("files") + f'; filename="{name}"\r\n').encode()
                + b"Content-Type: image/jpeg\r\n\r\n"
                + data
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        content_type = f"multipart/form-data; boundary={boundary}"
        url, text = self.post(path, body, content_type, Accept="application/json")
        assert text.startswith("{"), f"{url}: {text[:3000]}"
        return json.loads(text)


@pytest.fixture
def rundev(tmp_path):
    port = free_port()
    environment = {**os.environ, "VAR_DIR": str(tmp_path)}
    # The newcomer's defaults: no DATABASE_URL, no broker URL.
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT", "FILE_UPLOAD_TEMP_DIR"):
        environment.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "rundev", f"127.0.0.1:{port}"],
        cwd=BASE_DIR, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(process.stdout), daemon=True).start()
    yield process, f"http://127.0.0.1:{port}", output
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    for line in _processes_of(tmp_path, with_pids=True).splitlines():  # a failed test's
        os.kill(int(line.split()[0]), signal.SIGKILL)


def test_make_run_serves_the_app_with_a_worker_and_demo_logins(rundev, tmp_path):
    process, base, output = rundev
    wait_until(
        lambda: "celery@" in "".join(output) and " ready." in "".join(output), 90, "".join(output)
    )
    browser = Browser(base)
    wait_until(lambda: _answers(browser), 30, "".join(output))
    assert browser.log_in("cn-uploader", "demo") == base + "/"
    uploaded = browser.upload("/deployments/1/upload/", IMAGE)
    progress = f"/batches/{uploaded['batch']}/progress/"
    wait_until(lambda: json.loads(browser.get(progress)[1])["done"], 60, "".join(output))
    assert json.loads(browser.get(progress)[1])["states"]["processed"] == 1
    assert (tmp_path / "db.sqlite3").exists()
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
    stopped(process, output)
    wait_until(lambda: "celery" not in _processes_of(tmp_path), 30)


def stopped(process: subprocess.Popen, output: list[str]) -> None:
    """Wait for make run to stop its services and exit (each service may take 30 s)."""
    try:
        process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("make run did not stop:\n" + "".join(output)[-4000:])


def _answers(browser: Browser) -> bool:
    try:
        browser.get("/login/")
    except OSError:
        return False
    return True


def _processes_of(folder: Path, with_pids: bool = False) -> str:
    """The command lines of the processes of one make run: its services live in its VAR_DIR."""
    columns = "pid=,args=" if with_pids else "args="
    result = subprocess.run(["ps", "-ww", "-eo", columns], capture_output=True, text=True)
    return "\n".join(line for line in result.stdout.splitlines() if str(folder) in line)


def test_make_run_starts_a_worker_that_died_again_and_says_so(rundev, tmp_path):
    process, base, output = rundev
    wait_until(lambda: " ready." in "".join(output), 90, "".join(output))
    worker = _celery_main_process(tmp_path)
    os.kill(worker, signal.SIGKILL)
    wait_until(lambda: "the Celery worker stopped" in "".join(output), 30, "".join(output))
    wait_until(lambda: "".join(output).count(" ready.") >= 2, 90, "".join(output))
    browser = Browser(base)
    wait_until(lambda: _answers(browser), 30, "".join(output))
    browser.log_in("cn-uploader", "demo")
    uploaded = browser.upload("/deployments/1/upload/", IMAGE)
    progress = f"/batches/{uploaded['batch']}/progress/"
    wait_until(lambda: json.loads(browser.get(progress)[1])["done"], 60, "".join(output))
    os.killpg(process.pid, signal.SIGINT)
    stopped(process, output)
    # The worker it started again stops with it too, even one it was starting as Ctrl-C came.
    wait_until(lambda: "celery" not in _processes_of(tmp_path), 30)


def _celery_main_process(folder: Path) -> int:
    """The worker's main process: the oldest celery process of this make run."""
    result = subprocess.run(
        ["ps", "-ww", "-eo", "pid=,args=", "--sort", "start_time"], capture_output=True, text=True
    )
    return next(
        int(line.split()[0])
        for line in result.stdout.splitlines()
        if "celery -A neaspec_traps worker" in line and str(folder) in line
    )


def test_make_run_stopped_by_a_service_manager_stops_its_services(rundev, tmp_path):
    process, base, output = rundev
    wait_until(lambda: " ready." in "".join(output), 90, "".join(output))
    assert "redis-server" in _processes_of(tmp_path)
    process.terminate()  # SIGTERM to make run alone, as systemd or a closed terminal does
    process.wait(timeout=60)
    wait_until(lambda: not _processes_of(tmp_path), 30, lambda: _processes_of(tmp_path))
