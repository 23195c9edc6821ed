"""Login throttling: a user name and an address together are locked out after 5 failures."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

LIMIT = 5  # LOGIN_FAILURE_LIMIT's default


def log_in(client, username: str, password: str, address: str = "10.0.0.1", **extra):
    path = extra.pop("path", "/login/")
    form = {"username": username, "password": password}
    return client.post(path, form, REMOTE_ADDR=address, **extra)


def fail(client, username: str, times: int, **extra) -> list[int]:
    return [log_in(client, username, "wrong", **extra).status_code for _ in range(times)]


def logged_in_as(client) -> str | None:
    response = client.get("/")
    return response.context["user"].username if response.status_code == 200 else None


def test_the_fifth_failure_locks_the_pair_out(client, alice):
    assert fail(client, "alice", LIMIT - 1) == [200] * (LIMIT - 1)  # the form again
    response = log_in(client, "alice", "wrong")
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed log-in attempts" in text
    assert "blocked for 15 minutes" in text
    assert 'id="language"' in text  # the site's own page, with its language menu
    # Even the right password is refused now.
    assert log_in(client, "alice", "password").status_code == 429
    assert logged_in_as(client) is None


def test_the_right_password_before_the_limit_logs_in(client, alice):
    fail(client, "alice", LIMIT - 1)
    response = log_in(client, "alice", "password")
    assert (response.status_code, response.url) == (302, "/")
    assert logged_in_as(client) == "alice"


def test_another_user_at_the_same_address_is_unaffected(client, alice, boris):
    fail(client, "alice", LIMIT)
    assert log_in(client, "boris", "password").status_code == 302
    assert logged_in_as(client) == "boris"


def test_the_same_user_at_another_address_is_unaffected(client, alice):
    fail(client, "alice", LIMIT, address="10.0.0.1")
    assert log_in(client, "alice", "password", address="10.0.0.2").status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(client, alice):
    fail(client, "alice", LIMIT - 1)
    assert log_in(client, "alice", "password").status_code == 302
    client.post("/logout/")
    # Counted from zero again: four more failures are not yet a lockout, the fifth is.
    assert fail(client, "alice", LIMIT) == [200] * (LIMIT - 1) + [429]


def test_the_lockout_ends_after_the_cool_off(client, alice):
    fail(client, "alice", LIMIT)
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert log_in(client, "alice", "password").status_code == 302


def test_the_admin_login_is_guarded_too(client, site_admin):
    statuses = fail(client, "site-admin", LIMIT, path="/admin/login/")
    assert statuses == [200] * (LIMIT - 1) + [429]
    assert log_in(client, "site-admin", "password", path="/admin/login/").status_code == 429
    # One lockout for both doors.
    assert log_in(client, "site-admin", "password").status_code == 429
    assert client.get("/admin/").status_code == 302  # to its login page


def test_the_admin_login_works_below_the_limit(client, site_admin):
    response = log_in(client, "site-admin", "password", path="/admin/login/")
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_without_a_proxy_a_forwarded_address_is_not_believed(client, alice):
    # A guesser cannot dodge the count by making up a new X-Forwarded-For each time.
    statuses = [
        log_in(client, "alice", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(LIMIT)
    ]
    assert statuses == [200] * (LIMIT - 1) + [429]


def test_behind_the_proxy_each_client_counts_by_its_forwarded_address(client, alice, settings):
    settings.BEHIND_HTTPS_PROXY = True
    proxy = "10.0.0.1"
    fail(client, "alice", LIMIT, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
    # Another client of the same proxy may still log in as alice...
    other = log_in(client, "alice", "password", proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert other.status_code == 302
    client.post("/logout/")
    # ...but the locked-out one cannot, whatever it puts in front of the proxy's entry.
    spoofed = log_in(client, "alice", "password", proxy,
                     HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.5")  # fmt: skip
    assert spoofed.status_code == 429


@pytest.mark.parametrize("password, logged_in", [("password", True), ("wrong", False)])
def test_the_test_clients_login_still_works(client, alice, password, logged_in):
    assert client.login(username="alice", password=password) is logged_in
