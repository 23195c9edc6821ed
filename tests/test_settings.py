from __future__ import annotations

import os
import subprocess
import sys

from .conftest import BASE_DIR

# The documented production variables; DEBUG is not among them: it is off unless set.
PRODUCTION = {
    "SECRET_KEY": "k3Jd9-pq0ZmV7xRt2LwY8sBn4HcF6gAe1UiO5yTr0QpWzXc-7vKm2LsQ",
    "ALLOWED_HOSTS": "traps.example.org",
    "DATABASE_URL": "postgres://neaspec:secret@db.example.org:5432/neaspec",
    "CELERY_BROKER_URL": "redis://redis.example.org:6379/0",
}


def manage(*args: str, **environment: str) -> subprocess.CompletedProcess:
    # A production environment: nothing of this test run's own (such as the browser tests'
    # DJANGO_ALLOW_ASYNC_UNSAFE) leaks into it.
    leave_out = {*PRODUCTION, "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in leave_out}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env | environment,
        capture_output=True, text=True,
    )  # fmt: skip


def test_check_deploy_is_clean_when_configured_for_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_is_off_when_unset():
    code = "from django.conf import settings; print(settings.DEBUG)"
    result = manage("shell", "--verbosity", "0", "--command", code, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", **(PRODUCTION | {"SECRET_KEY": ""}))
    assert result.returncode == 1
    assert "SECRET_KEY must be set when DEBUG is False" in result.stderr


def test_a_command_run_without_debug_says_how_to_turn_it_on():
    # A newcomer's first command besides make run, with no variables set at all.
    result = manage("import_folder", str(BASE_DIR / "var"))
    assert result.returncode == 1
    assert "run a command as `DEBUG=True python manage.py ...`" in result.stderr


def test_a_bad_setting_value_fails_loudly():
    result = manage("check", DEBUG="maybe")
    assert "Unexpected value DEBUG=maybe, use 'True' or 'False'" in result.stderr


def test_a_lockout_without_an_end_is_refused():
    # axes would read a zero cool-off as "locked out until an admin resets it".
    result = manage("check", DEBUG="True", LOGIN_COOLOFF_MINUTES="0")
    assert result.returncode == 1
    assert "LOGIN_FAILURE_LIMIT and LOGIN_COOLOFF_MINUTES must be positive" in result.stderr
