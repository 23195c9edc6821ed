"""The design system's template tags: icons drawn inline from the vendored Lucide set."""

from __future__ import annotations

import functools
import re

from django import template
from django.contrib.staticfiles import finders
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

ICON_NAME = re.compile(r"[a-z0-9-]+")


@functools.cache
def _svg_body(name: str) -> str:
    """The drawing inside a vendored icon's <svg>: read once, from our own static files."""
    if not ICON_NAME.fullmatch(name):
        raise template.TemplateSyntaxError(f"Not an icon name: {name!r}")
    path = finders.find(f"vendor/lucide/icons/{name}.svg")
    if path is None:
        raise template.TemplateSyntaxError(f"No such icon in static/vendor/lucide: {name!r}")
    with open(path, encoding="utf-8") as svg:
        text = svg.read()
    return text[text.index(">", text.index("<svg")) + 1 : text.rindex("</svg>")].strip()


@register.simple_tag
def icon(name: str, label: str = "") -> str:
    """An icon inline, so it takes the text's colour. With a label it is announced; without,
    it is decoration beside words that say the same, and hidden from screen readers."""
    # Inline SVG, not <use href=sprite#id>: one request fewer, and no CSS or script needed.
    body = mark_safe(_svg_body(name))  # our vendored file, never user data
    if label:
        return format_html(
            '<svg class="icon" viewBox="0 0 24 24" role="img" aria-label="{}" focusable="false">'
            "{}</svg>",
            label,
            body,
        )
    return format_html(
        '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">{}</svg>', body
    )
