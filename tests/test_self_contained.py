"""A fresh clone runs its tests with nothing beside it: no path reaches the team's shared folder."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from .conftest import BASE_DIR, TESTDATA

# Where code, tests, benchmarks and the commands that run them live.
SCANNED = ["tests", "bench", "sightings", "neaspec_traps", ".ci", "Makefile", "pyproject.toml"]

# The sibling folder, by its name (spelt here in pieces, so that this guard does not name
# the folder itself), as a path names it: one level up, its absolute path on the team's
# machines, or its name as a quoted path part (parents[2] / "<name>", "<name>/testdata/...").
# Words such as @shared_task or "shared sightings" are not paths.
SIBLING = "sha" + "red"
PATH_TO_SHARED = re.compile(rf"\.\./{SIBLING}\b|/work/{SIBLING}\b|[\"']{SIBLING}[/\"']")

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".heic", ".heif", ".tif", ".tiff"}

# The release's files the exchange validates against (the example package is in tests/data).
CAMTRAP_DP_SCHEMAS = [
    "camtrap-dp-profile.json",
    "deployments-table-schema.json",
    "external-refs/json.schemastore.org_geojson.json",
    "external-refs/specs.frictionlessdata.io_schemas_data-package.json",
    "media-table-schema.json",
    "observations-table-schema.json",
]


def paths_to_shared(root: Path) -> list[str]:
    """Each "file:line" under root's scanned places that names the shared folder."""
    files = [path for name in SCANNED for path in [root / name, *(root / name).rglob("*")]]
    found = []
    for path in sorted(set(files)):
        if not path.is_file() or "__pycache__" in path.parts or path == Path(__file__).resolve():
            continue  # this file has to name the pattern it looks for
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue  # an image
        numbers = [n for n, line in enumerate(lines, 1) if PATH_TO_SHARED.search(line)]
        found += [f"{path.relative_to(root)}:{n}" for n in numbers]
    return found


def test_nothing_points_at_the_shared_folder():
    assert paths_to_shared(BASE_DIR) == []


def test_a_path_to_the_shared_folder_is_found(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conftest.py").write_text(
        f'SHARED = Path(__file__).parents[2] / "{SIBLING}"\n'
        'TESTDATA = BASE_DIR / "tests" / "data"\n'
    )
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "README.md").write_text(f"Figures\n\nSee ../{SIBLING}/PERFORMANCE.md.\n")
    (tmp_path / "sightings").mkdir()
    (tmp_path / "sightings" / "tasks.py").write_text("@shared_task\n# the shared sightings\n")
    (tmp_path / "Makefile").write_text(f"test:\n\tpytest /work/{SIBLING}/testdata\n")
    assert paths_to_shared(tmp_path) == ["Makefile:2", "bench/README.md:3", "tests/conftest.py:1"]


def test_every_test_image_has_exiftools_reading():
    reference = json.loads((TESTDATA / "exiftool-reference.json").read_text())
    images = {
        str(path.relative_to(TESTDATA))
        for path in TESTDATA.rglob("*")
        if path.suffix.lower() in IMAGE_SUFFIXES
    }
    assert sorted(record["SourceFile"] for record in reference) == sorted(images)


def test_the_camtrap_dp_schemas_are_the_official_ones():
    folder = BASE_DIR / "sightings" / "camtrap_dp"
    listed = re.findall(r"^ +([0-9a-f]{64}) +(\S+)$", (folder / "SOURCE.txt").read_text(), re.M)
    copied = {name: sha for sha, name in listed if (folder / name).exists()}
    assert sorted(copied) == CAMTRAP_DP_SCHEMAS
    for name, sha in copied.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha, name
