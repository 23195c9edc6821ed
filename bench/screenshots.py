#!/usr/bin/env python
"""Screenshots of the main pages for the README, and what each page weighs in JS and CSS.

    python bench/screenshots.py

Runs the browser test that pictures the main pages (tests/browser/test_screenshots.py: the
exchange built from the repository's real camera-trap images, Chromium at 1366x900, the map
without network tiles) and keeps its PNGs and its page-weight table in docs/screenshots/.
The same test runs with the suite, so what the README shows is what the tests see.
Chinese needs a CJK font on the machine (Debian: apt-get install fonts-noto-cjk), or its
screenshot shows empty boxes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"


def main() -> int:
    if (
        shutil.which("fc-list")
        and not subprocess.run(
            ["fc-list", ":lang=zh"], capture_output=True, text=True
        ).stdout.strip()
    ):
        sys.exit("No Chinese font: apt-get install fonts-noto-cjk, then run this again.")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    test = "tests/browser/test_screenshots.py"
    env = {**os.environ, "SCREENSHOTS_DIR": str(SHOTS)}
    done = subprocess.run([sys.executable, "-m", "pytest", test, "-q", "-s"],
                          cwd=ROOT, env=env)  # fmt: skip
    if done.returncode == 0:
        print(f"Wrote {SHOTS.relative_to(ROOT)}/: "
              + ", ".join(sorted(path.name for path in SHOTS.iterdir())))  # fmt: skip
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
