"""The built-in demo account (demo.yaml, shipped as package data) and how to introduce it."""

from __future__ import annotations

from importlib.resources import files

from ringlet.fixtures import Fixture, from_document, parse_yaml


def demo_fixture() -> Fixture:
    return from_document(parse_yaml(files(__name__).joinpath("demo.yaml").read_bytes()))
