from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import polib
import pytest

from sightings.models import Sighting

from .conftest import BASE_DIR
from .test_processing import HYPERFIRE_2, add, process

LANGUAGES = {"zh-hans": "zh_Hans", "ru": "ru"}
CATALOGUES = {code: BASE_DIR / "locale" / name / "LC_MESSAGES" for code, name in LANGUAGES.items()}
# django: Python and templates; djangojs: the scripts' own words (static/js, via /jsi18n/).
DOMAINS = ("django", "djangojs")


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_has_no_untranslated_or_fuzzy_entries(language, domain):
    catalogue = polib.pofile(CATALOGUES[language] / f"{domain}.po")
    assert not catalogue.metadata_is_fuzzy
    assert [entry.msgid for entry in catalogue.untranslated_entries()] == []
    assert [entry.msgid for entry in catalogue.fuzzy_entries()] == []


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_its_source(language, domain):
    source = polib.pofile(CATALOGUES[language] / f"{domain}.po")
    compiled = polib.mofile(CATALOGUES[language] / f"{domain}.mo")
    translations = {(e.msgid, e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in source}
    assert {(e.msgid, e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in compiled} == (
        translations
    )


@pytest.mark.skipif(not shutil.which("xgettext"), reason="GNU gettext is not installed")
@pytest.mark.parametrize("domain", DOMAINS)
def test_the_catalogue_holds_every_string_of_the_code(tmp_path, domain):
    # makemessages writes into locale/ of the current directory: run it on a copy.
    for folder in ("sightings", "templates", "neaspec_traps", "static"):
        shutil.copytree(BASE_DIR / folder, tmp_path / folder)
    shutil.copy(BASE_DIR / "manage.py", tmp_path)
    (tmp_path / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-d", domain, "-l", "ru", "--no-obsolete",
         "--ignore", "static/vendor/*"],
        cwd=tmp_path, check=True, capture_output=True,
    )  # fmt: skip
    made = tmp_path / f"locale/ru/LC_MESSAGES/{domain}.po"
    current = {entry.msgid for entry in polib.pofile(made)}
    committed = {entry.msgid for entry in polib.pofile(CATALOGUES["ru"] / f"{domain}.po")}
    assert current == committed


class TextNodes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.nodes: set[str] = set()

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.nodes.add(" ".join(data.split()))


def text_nodes(html: str) -> set[str]:
    # The raw tags are the file's own data ("EXIF DateTimeOriginal"), never translated.
    html = re.sub(r"<details>.*?</details>", "", html, flags=re.S)
    parser = TextNodes()
    parser.feed(html)
    return parser.nodes


@pytest.fixture
def key_pages(ru_deployment, boris) -> list[str]:
    media = process(add(ru_deployment, boris, HYPERFIRE_2))
    return ["/", f"/deployments/{media.deployment_id}/", f"/media/{media.pk}/",
            f"/batches/{media.batch_id}/", f"/events/{media.event_id}/", "/individuals/",
            "/record-table/", "/sightings/", "/map/",
            f"/sightings/{Sighting.objects.get(event=media.event_id).pk}/"]  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
def test_key_pages_show_no_english_left(client, boris, key_pages, language):
    catalogue = polib.pofile(CATALOGUES[language] / "django.po")
    translated = {
        entry.msgid for entry in catalogue if entry.msgstr and entry.msgstr != entry.msgid
    }
    # The language switcher names each language in itself ("English", "Русский").
    translated -= {"English", "Simplified Chinese", "Russian"}
    client.force_login(boris)
    for url in key_pages:
        english = text_nodes(client.get(url, headers={"Accept-Language": "en"}).content.decode())
        shown = english & translated
        assert shown, url  # the page does use catalogue strings
        local = text_nodes(client.get(url, headers={"Accept-Language": language}).content.decode())
        assert shown & local == set(), url


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_login_and_upload_pages_are_translated(client, boris, ru_deployment, language):
    page = client.get("/login/", headers={"Accept-Language": language}).content.decode()
    assert {"zh-hans": "登录", "ru": "Войти"}[language] in page


def test_the_language_switcher_remembers_the_choice(client, boris):
    client.force_login(boris)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "相机布设" in page
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    assert "Установки камер" in client.get("/").content.decode()
