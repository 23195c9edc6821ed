"""Keyset pagination: a page deep in a million rows costs what the first one does.

Pages are reached by the sort key of the row before (or after) them, never by an offset,
so the database walks its index from there instead of counting rows to skip.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass

from django.db.models import Q, QuerySet

# Sort choices of the browser: (key, fields). Every order ends in the id, so it is total.
ORDERS = {
    "-time": ("-observed_at", "-id"),
    "time": ("observed_at", "id"),
    "species": ("species__name_en", "-observed_at", "-id"),
    "location": ("location__name", "-observed_at", "-id"),
}


class BadCursor(ValueError):
    """A cursor this code did not make: the page asked for does not exist."""


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    previous_cursor: str | None


def page(queryset: QuerySet, order: str, size: int, after: str = "", before: str = "") -> Page:
    """The rows after (or before) a cursor, in the given order (BadCursor for a cursor
    that does not fit it)."""
    fields = ORDERS.get(order, ORDERS["-time"])
    if before:
        rows = list(_beyond(queryset, _reversed(fields), _decode(before, fields))[: size + 1])
        more, rows = len(rows) > size, rows[:size][::-1]
        if not rows:
            return Page([], None, None)
        return Page(rows, _cursor(rows[-1], fields), _cursor(rows[0], fields) if more else None)
    rows = list(_beyond(queryset, fields, _decode(after, fields))[: size + 1])
    more, rows = len(rows) > size, rows[:size]
    if not rows:
        return Page([], None, None)
    return Page(
        rows,
        _cursor(rows[-1], fields) if more else None,
        _cursor(rows[0], fields) if after else None,
    )


def _beyond(queryset: QuerySet, fields: tuple[str, ...], values: list | None) -> QuerySet:
    queryset = queryset.order_by(*fields)
    if values is None:
        return queryset
    # (a, b, c) after (x, y, z): a > x, or a = x and b > y, or a = x, b = y and c > z;
    # with a >= x besides, which lets the database start from x in its index.
    condition = Q()
    for index, field in enumerate(fields):
        equal = {name.lstrip("-"): values[i] for i, name in enumerate(fields[:index])}
        condition |= Q(**equal, **{_lookup(field, "lt", "gt"): values[index]})
    return queryset.filter(Q(**{_lookup(fields[0], "lte", "gte"): values[0]}), condition)


def _lookup(field: str, descending: str, ascending: str) -> str:
    return f"{field.lstrip('-')}__{descending if field.startswith('-') else ascending}"


def _reversed(fields: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(field[1:] if field.startswith("-") else f"-{field}" for field in fields)


def _cursor(row, fields: tuple[str, ...]) -> str:
    values = [_value(row, field.lstrip("-")) for field in fields]
    text = json.dumps([v.isoformat() if hasattr(v, "isoformat") else v for v in values])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _value(row, path: str):
    for part in path.split("__"):
        row = getattr(row, part) if row is not None else None
    return row


def _decode(cursor: str, fields: tuple[str, ...]) -> list | None:
    """The sort key a cursor holds, each value of its field's type; None for no cursor."""
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(fields):
            raise BadCursor(cursor)
        return [
            _typed(field.lstrip("-"), value) for field, value in zip(fields, values, strict=True)
        ]
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise BadCursor(cursor) from error


def _typed(field: str, value):
    if field == "observed_at":
        instant = dt.datetime.fromisoformat(value)
        if instant.tzinfo is None:
            raise ValueError("an instant without its offset")
        return instant
    expected = int if field == "id" else str
    # bool is an int to Python, never an id to us.
    if type(value) is not expected or (expected is int and not 0 <= value < 2**63):
        raise TypeError(f"{field}: {value!r}")
    return value
