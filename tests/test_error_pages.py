from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.utils.translation import gettext
from django.views.defaults import server_error

from .conftest import LoginClient

STYLESHEET = '<link rel="stylesheet" href="/static/css/app.css">'
BRAND = {"en": "NEASPEC camera-trap exchange", "zh-hans": "NEASPEC 红外相机数据交换平台",
         "ru": "NEASPEC: обмен данными фотоловушек"}  # fmt: skip


@pytest.fixture(autouse=True)
def _production(settings) -> None:
    # Django shows its own debug pages while DEBUG is on; these are the pages users see.
    settings.DEBUG = False


def heading(language: str, english: str) -> str:
    with translation.override(language):
        return f'<h1 id="error-title">{gettext(english)}</h1>'


@pytest.mark.parametrize("language", ["en", "zh-hans", "ru"])
def test_a_missing_page_is_ours_in_the_users_language(client, boris, language):
    client.force_login(boris)
    response = client.get("/events/999999/", headers={"Accept-Language": language})
    assert response.status_code == 404
    text = response.content.decode()
    assert STYLESHEET in text and f'<html lang="{language}">' in text
    assert heading(language, "Page not found") in text
    assert BRAND[language] in text and 'href="/"' in text
    assert "Django" not in text and "URLconf" not in text


def test_an_unknown_address_is_our_404_not_the_debug_page(client):
    response = client.get("/no/such/page/", headers={"Accept-Language": "ru"})
    assert response.status_code == 404
    text = response.content.decode()
    assert STYLESHEET in text and heading("ru", "Page not found") in text
    assert "Войти" in text  # a way on for someone not logged in: the log-in link
    assert "Using the URLconf" not in text


@pytest.mark.parametrize("language", ["en", "zh-hans", "ru"])
def test_a_forbidden_action_says_so_in_the_users_language(client, charlie, language):
    client.force_login(charlie)  # on no team: may not create individuals
    response = client.get("/individuals/new/", headers={"Accept-Language": language})
    assert response.status_code == 403
    text = response.content.decode()
    assert STYLESHEET in text and f'<html lang="{language}">' in text
    assert heading(language, "You may not do this") in text
    assert BRAND[language] in text and "charlie" in text


@pytest.mark.parametrize("language", ["zh-hans", "ru"])
def test_an_expired_form_is_explained(db, boris, language):
    client = LoginClient(enforce_csrf_checks=True)
    client.force_login(boris)
    response = client.post(
        "/individuals/new/", {"code": "X"}, headers={"Accept-Language": language}
    )
    assert response.status_code == 403
    text = response.content.decode()
    assert STYLESHEET in text and f'<html lang="{language}">' in text
    assert heading(language, "The form has expired") in text
    assert "CSRF" not in text


@pytest.mark.parametrize("language", ["en", "zh-hans", "ru"])
def test_a_server_error_page_needs_no_request_context(language):
    # As Django calls it for an unhandled exception: no context, nothing from the request.
    with translation.override(language):
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    text = response.content.decode()
    assert STYLESHEET in text and f'<html lang="{language}">' in text
    assert heading(language, "Something went wrong") in text
    assert BRAND[language] in text
