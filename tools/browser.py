"""Make sure the system Chromium that the browser tests drive is installed.

    python tools/browser.py          # install Debian's chromium when missing (as root)

Standard library only. Browser tests never download a browser of their own: they drive
/usr/bin/chromium (or KOPILKA_CHROMIUM). Run as root, a missing browser is installed with
apt-get; otherwise we say how, and the browser tests fail rather than skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str | None:
    configured = os.environ.get("KOPILKA_CHROMIUM")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def ensure() -> str | None:
    path = chromium_path()
    if path:
        return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(
            "browser: Chromium is missing. Install it with `sudo apt-get install chromium` "
            "(Debian/Ubuntu) or point KOPILKA_CHROMIUM at a Chromium binary; "
            "the browser tests fail without it.",
            file=sys.stderr,
        )
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("browser: installing Debian's chromium package (once per machine) ...", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "env": env}
    if subprocess.call(["apt-get", "install", "-y", "-q", "chromium"], **quiet) != 0:
        subprocess.call(["apt-get", "update", "-q"], **quiet)
        subprocess.call(["apt-get", "install", "-y", "-q", "chromium"], **quiet)
    return chromium_path()


if __name__ == "__main__":
    found = ensure()
    print(f"browser: {found or 'NOT AVAILABLE'}")
    sys.exit(0 if found else 1)
