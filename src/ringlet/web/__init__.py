"""The web inbox at /_ringlet/: one HTML page and its static assets, served as they are (no
build step). The page reads GET /_ringlet/inbox and waits on GET /_ringlet/inbox/changes."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

# The only files served, with their media types: nothing else under the package is reachable.
ASSETS = {
    "inbox.js": "text/javascript; charset=utf-8",
    "inbox.css": "text/css; charset=utf-8",
}


@cache
def read(name: str) -> bytes:
    return files(__package__).joinpath("static", name).read_bytes()


def page() -> bytes:
    return read("index.html")
