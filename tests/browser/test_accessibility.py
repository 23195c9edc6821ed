"""Every page, in every language, through axe-core; the keyboard; widths down to a phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import log_in

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
LANGUAGES = ["en", "zh-hans", "ru"]
WIDTHS = [1366, 1024, 768, 390]


def pages(exchange: dict) -> dict[str, list[str]]:
    """Each user's pages: all of them between the three."""
    cn, ru = exchange["cn"], exchange["ru"]
    deployment, batch = cn[0].deployment_id, cn[0].batch_id
    location = cn[0].deployment.location_id
    team = cn[0].deployment.location.team_id
    draft = next(media for media in cn if media.event_id != cn[0].event_id)
    return {
        "alice": [
            "/", f"/deployments/{deployment}/", f"/deployments/{deployment}/upload/",
            f"/batches/{batch}/", f"/events/{draft.event_id}/", f"/events/{cn[0].event_id}/",
            f"/sightings/{exchange['named'].pk}/", f"/media/{cn[0].pk}/",
            f"/media/{ru[0].pk}/", "/sightings/", "/sightings/?view=grid",
            "/sightings/?species=" + str(exchange["named"].species_id), "/map/",
            "/individuals/", f"/individuals/{exchange['individual'].pk}/",
            f"/individuals/{exchange['individual'].pk}/edit/", "/individuals/new/",
            "/record-table/", "/analysis/activity/",
            "/analysis/activity/?species=" + str(exchange["named"].species_id),
            "/analysis/survey/",
            f"/analysis/survey/?history_species={exchange['named'].species_id}"
            "&occasion_length=7&include_effort=on",
            "/no/such/page/",
        ],
        # A reviewer of the other team: the upload page is not his (403).
        "boris": [f"/deployments/{ru[0].deployment_id}/upload/"],
        "wei": ["/review/", "/returned/", "/account/notifications/", "/account/tokens/"],
        "ada": [
            "/teams/", f"/teams/{team}/", f"/teams/{team}/sharing/",
            f"/teams/{team}/locations/new/", f"/locations/{location}/edit/",
            f"/teams/{team}/deployments/new/", f"/deployments/{deployment}/edit/",
        ],
        None: ["/login/", "/no/such/page/"],
    }  # fmt: skip


def axe_violations(page) -> list[str]:
    """The serious and critical violations axe finds on the page, one line per element."""
    # Evaluated through the DevTools protocol, which the page's CSP does not govern, so the
    # page is checked as users get it, its policy in force.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{page.url}\n  {rule['impact']}: {rule['id']}: {rule['help']}\n"
        f"  at {node['target']}: {node['html'][:160]}\n  {node['failureSummary']}"
        for rule in results["violations"]
        if rule["impact"] in ("serious", "critical")
        for node in rule["nodes"]
    ]


def visit(browser, live_server, language: str, user: str | None, urls: list[str], check) -> list:
    context = browser.new_context(extra_http_headers={"Accept-Language": language})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())  # offline
    found = []
    try:
        if user:
            log_in(page, live_server, user)
        for url in urls:
            page.goto(live_server.url + url)
            page.wait_for_load_state("networkidle")
            found += check(page)
    finally:
        context.close()
    return found


def lock_out(browser, live_server, language: str) -> list[str]:
    """Fail to log in until the lockout page shows, then check it."""
    context = browser.new_context(extra_http_headers={"Accept-Language": language})
    page = context.new_page()
    try:
        for _ in range(6):
            page.goto(f"{live_server.url}/login/")
            page.fill("#id_username", "mallory")
            page.fill("#id_password", "guess")
            page.click("button[type=submit]")
            if page.locator("#locked-out").count():
                return axe_violations(page)
        raise AssertionError("no lockout after 6 failed log-ins")
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_page_has_a_serious_accessibility_violation(browser, live_server, exchange, language):
    found = lock_out(browser, live_server, language)
    for user, urls in pages(exchange).items():
        found += visit(browser, live_server, language, user, urls, axe_violations)
    print("\n".join(found))
    assert found == [], f"{len(found)} serious or critical violations:\n" + "\n".join(found)


# The elements that stick out past the window's right edge while their parent does not,
# skipping what scrolls or is clipped inside a box of its own (tables in .table-wrap).
OVERFLOWING = """() => {
  const clipped = (el) => {
    // A scrolling box clips absolutely positioned descendants only when it is positioned.
    if (getComputedStyle(el).position === "absolute") return false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const right = el.getBoundingClientRect().right;
    if (right <= innerWidth + 1 || clipped(el)) continue;
    if (el.parentElement.getBoundingClientRect().right > innerWidth + 1) continue;
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
    out.push(`${name}.${el.className?.baseVal ?? el.className} ends at ${Math.round(right)}`);
  }
  return out.slice(0, 5);
}"""


def too_wide(page, widths: list[int]) -> list[str]:
    """For each width, whether the page scrolls sideways, and what makes it."""
    found = []
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        if scroll > inner:
            culprits = "\n    ".join(page.evaluate(OVERFLOWING))
            found.append(f"{page.url}: {scroll} px wide at {inner}:\n    {culprits}")
    return found


@pytest.mark.django_db(transaction=True)
def test_the_main_pages_fit_every_width(browser, live_server, exchange):
    # In Russian: its long words wrap worst, so what fits in Russian fits in English.
    urls = pages(exchange)["alice"]
    found = visit(browser, live_server, "ru", "alice", urls, lambda p: too_wide(p, WIDTHS))
    assert found == [], "\n".join(found)


@pytest.mark.django_db(transaction=True)
def test_the_filter_pickers_work_from_the_keyboard(page, live_server, exchange):
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/sightings/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    for _ in range(40):  # along the menu and the search box to the first picker
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('details[data-picker]') !== null"):
            break
    species = page.locator("details[data-picker]").first
    page.keyboard.press("Enter")
    assert species.evaluate("details => details.open")
    page.keyboard.press("Escape")
    assert not species.evaluate("details => details.open")
    page.keyboard.press("Space")  # Space opens it too, at its search box
    assert species.evaluate("details => details.open")
    page.keyboard.type("leopard cat")
    page.keyboard.press("Enter")  # picks the first match
    assert species.locator("input[type=checkbox]:checked").count() == 1
    page.keyboard.press("Tab")  # on to the matches' checkboxes: Space undoes and redoes
    page.keyboard.press("Space")
    assert species.locator("input[type=checkbox]:checked").count() == 0
    page.keyboard.press("Space")
    page.keyboard.press("Escape")
    for _ in range(10):  # on to the Filter button, and submit
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/sightings/?**species=*")
    assert page.locator(".chips .chip").count() == 1
