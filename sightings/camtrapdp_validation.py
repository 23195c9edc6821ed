"""Validating a Camtrap DP 1.0.2 package offline, in memory that does not grow with it.

As sightings/camtrap_dp/VALIDATION.md says: the descriptor against the official profile with
jsonschema, the tables against the official table schemas with frictionless. One change
from handing frictionless the whole package: frictionless checks primary keys, unique
fields and foreign keys by keeping every key it has read in a dict (and the referenced
tables' keys in a set), which for a million observations is hundreds of megabytes. So the
tables go to frictionless without their keys, a row at a time (types, formats, enums,
patterns, required fields: memory stays flat), and the keys are checked here with the same
rules on an SQLite file beside the package, whose memory is its page cache.

The key rules, as frictionless applies them: a primary key or a unique field may not repeat;
a foreign key's value must be a key of the table it names, unless it is empty.
"""

from __future__ import annotations

import copy
import csv
import json
import sqlite3
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

SCHEMAS = Path(__file__).resolve().parent / "camtrap_dp"
TABLES = ("deployments", "media", "observations")
EXTERNAL_REFS = {
    "https://specs.frictionlessdata.io/schemas/data-package.json":
        "external-refs/specs.frictionlessdata.io_schemas_data-package.json",
    "http://json.schemastore.org/geojson.json": "external-refs/json.schemastore.org_geojson.json",
}  # fmt: skip
ROWS_PER_INSERT = 10_000
ERRORS_PER_KEY = 20  # enough to see the pattern; the rest are counted


class InvalidPackage(Exception):
    """The package does not validate: for an export, a bug, never a download."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("Camtrap DP package does not validate:\n" + "\n".join(errors[:50]))
        self.errors = errors


@cache
def schema(name: str) -> dict:
    """The official table schema of one of TABLES."""
    return json.loads((SCHEMAS / f"{name}-table-schema.json").read_text(encoding="utf-8"))


def validate(folder: Path) -> None:
    """Raise InvalidPackage unless the package in this folder validates: its descriptor
    against the Camtrap DP profile, its tables against the table schemas (types, formats,
    enums, patterns, required fields, primary, unique and foreign keys)."""
    folder = Path(folder)
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    errors = [
        f"datapackage.json {'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _profile_validator().iter_errors(descriptor)
    ]
    errors += _table_errors(folder, descriptor)
    if not errors:  # keys of tables that are not even readable would only repeat the errors
        errors += _key_errors(folder)
    if errors:
        raise InvalidPackage(errors)


@cache
def _profile_validator():
    import jsonschema
    from referencing import Registry, Resource

    registry = Registry().with_resources(
        (url, Resource.from_contents(json.loads((SCHEMAS / path).read_text(encoding="utf-8"))))
        for url, path in EXTERNAL_REFS.items()
    )
    profile = json.loads((SCHEMAS / "camtrap-dp-profile.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(
        profile, registry=registry, format_checker=jsonschema.FormatChecker()
    )


def _table_errors(folder: Path, descriptor: dict) -> list[str]:
    import frictionless

    local = {**descriptor, "profile": "data-package"}
    local["resources"] = [
        {**resource, "schema": _without_keys(resource["name"]), "profile": "tabular-data-resource"}
        if resource.get("name") in TABLES
        else resource
        for resource in descriptor.get("resources", [])
    ]
    report = frictionless.Package(local, basepath=str(folder)).validate()
    errors = [f"package: {error.message}" for error in report.errors]
    for task in report.tasks:
        errors += [f"{task.name}: {error.message}" for error in task.errors]
    return errors


@cache
def _without_keys(name: str) -> dict:
    table = copy.deepcopy(schema(name))
    table.pop("primaryKey", None)
    table.pop("foreignKeys", None)
    for field in table["fields"]:
        field.get("constraints", {}).pop("unique", None)
    return table


# The keys, on disk.


def _unique_keys(table: dict) -> list[tuple[str, ...]]:
    keys = [_names(table["primaryKey"])] if table.get("primaryKey") else []
    keys += [
        (field["name"],)
        for field in table["fields"]
        if field.get("constraints", {}).get("unique") and (field["name"],) not in keys
    ]
    return keys


def _foreign_keys(table: dict) -> list[tuple[tuple[str, ...], str, tuple[str, ...]]]:
    return [
        (_names(key["fields"]), key["reference"]["resource"], _names(key["reference"]["fields"]))
        for key in table.get("foreignKeys", [])
    ]


def _names(fields: str | list[str]) -> tuple[str, ...]:
    return (fields,) if isinstance(fields, str) else tuple(fields)


def _key_errors(folder: Path) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="camtrapdp-keys-") as scratch:
        db = sqlite3.connect(Path(scratch) / "keys.sqlite3")
        try:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.execute("PRAGMA temp_store = FILE")  # index sorts spill to disk, not memory
            for name in TABLES:
                _load_keys(db, folder, name)
            errors = []
            for name in TABLES:
                table = schema(name)
                for key in _unique_keys(table):
                    errors += _repeated(db, name, key)
                for fields, target, target_fields in _foreign_keys(table):
                    errors += _dangling(db, name, fields, target, target_fields)
            return errors
        finally:
            db.close()


def _key_columns(name: str) -> list[str]:
    table = schema(name)
    columns = [field for key in _unique_keys(table) for field in key]
    columns += [field for fields, _, _ in _foreign_keys(table) for field in fields]
    for other in TABLES:  # the fields other tables refer to
        for _, target, target_fields in _foreign_keys(schema(other)):
            if target == name:
                columns += target_fields
    return list(dict.fromkeys(columns))


def _load_keys(db: sqlite3.Connection, folder: Path, name: str) -> None:
    columns = _key_columns(name)
    quoted = ", ".join(f'"{column}" TEXT' for column in columns)
    db.execute(f'CREATE TABLE "{name}" ("row" INTEGER, {quoted})')
    insert = f'INSERT INTO "{name}" VALUES (?{", ?" * len(columns)})'
    chunk = []
    for row in _key_rows(folder / f"{name}.csv", columns):
        chunk.append(row)
        if len(chunk) == ROWS_PER_INSERT:
            db.executemany(insert, chunk)
            chunk.clear()
    db.executemany(insert, chunk)
    for number, column in enumerate(columns):
        db.execute(f'CREATE INDEX "{name}_{number}" ON "{name}" ("{column}")')


def _key_rows(path: Path, columns: list[str]) -> Iterator[tuple]:
    """(row number, key cells...), numbered as frictionless numbers rows (the header is 1);
    an empty cell is missing (None), as the schemas' missingValues say."""
    with open(path, newline="", encoding="utf-8") as file:
        rows = csv.reader(file)
        header = next(rows)
        where = [header.index(column) for column in columns]
        for number, row in enumerate(rows, start=2):
            yield (number, *(row[i] or None if i < len(row) else None for i in where))


def _repeated(db: sqlite3.Connection, name: str, key: tuple[str, ...]) -> list[str]:
    columns = ", ".join(f'"{column}"' for column in key)
    found = db.execute(
        f'SELECT {columns}, MIN("row"), MAX("row"), COUNT(*) FROM "{name}" '
        f"GROUP BY {columns} HAVING COUNT(*) > 1 LIMIT {ERRORS_PER_KEY}"
    ).fetchall()
    return [
        f"{name}: {', '.join(key)} {', '.join(map(str, values[: len(key)]))} is not unique: "
        f"rows {values[-3]} and {values[-2]}" + (f" ({values[-1]} rows)" if values[-1] > 2 else "")
        for values in found
    ]


def _dangling(
    db: sqlite3.Connection, name: str, fields: tuple, target: str, target_fields: tuple
) -> list[str]:
    present = " AND ".join(f'"{field}" IS NOT NULL' for field in fields)
    match = " AND ".join(
        f't."{other}" = s."{field}"' for field, other in zip(fields, target_fields, strict=True)
    )
    columns = ", ".join(f's."{field}"' for field in fields)
    found = db.execute(
        f'SELECT s."row", {columns} FROM "{name}" s WHERE {present} AND NOT EXISTS '
        f'(SELECT 1 FROM "{target}" t WHERE {match}) ORDER BY s."row" LIMIT {ERRORS_PER_KEY}'
    ).fetchall()
    return [
        f"{name}: row {row}: {', '.join(fields)} {', '.join(values)} is not in {target}"
        for row, *values in found
    ]
