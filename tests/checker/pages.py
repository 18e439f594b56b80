"""Pages and a check call shared by the engine tests."""

from __future__ import annotations

from curation.checker.engine import check_url
from tests.checker.conftest import config_for

HTML_OK = b"<html><head><title>Linear algebra notes</title></head><body><h1>Vectors</h1></body>"


def html(title: str = "Linear algebra notes", h1: str = "Vectors", text: str = "") -> bytes:
    return (
        f"<html><head><title>{title}</title></head><body><h1>{h1}</h1><p>{text}</p></body></html>"
    ).encode()


def check(server, path="/", **overrides):
    return check_url(server.url(path), config=config_for(server, **overrides))
