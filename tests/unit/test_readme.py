"""The README's options table is `ringlet serve --help`: the same options, environment
variables and defaults, no more and no fewer."""

from __future__ import annotations

import re

import click

from ringlet.cli import serve
from tests.support.openapi import REPO_ROOT

_ROW = re.compile(r"^\|\s*(`--[^|]*?)\s*\|\s*([^|]*?)\s*\|\s*([^|]*?)\s*\|")
_CODE = re.compile(r"`([^`]*)`")


def _readme_rows() -> dict[str, tuple[str, str]]:
    """option -> (environment variable or "", default as written)."""
    rows: dict[str, tuple[str, str]] = {}
    for line in (REPO_ROOT / "README.md").read_text().splitlines():
        match = _ROW.match(line)
        if match is None:
            continue
        env = "".join(_CODE.findall(match[2]))
        default = match[3].strip()
        for option in _CODE.findall(match[1]):
            assert option not in rows, f"{option} twice in the README's table"
            rows[option] = (env, default)
    return rows


def _shown_default(option: click.Option) -> str:
    """The default as the README writes it: `value`, `off` for a flag, `unset`, or empty."""
    default = option.default
    if option.is_flag:
        return "`on`" if default is True else "off"
    if option.multiple:
        return ""
    if default is None:
        return "unset"
    return f"`{default}`"


def test_the_options_table_is_serve_help() -> None:
    rows = _readme_rows()
    options = [p for p in serve.params if isinstance(p, click.Option) and p.name != "help"]
    documented = {o.opts[0] for o in options}
    assert set(rows) == documented, (
        f"missing from the README: {sorted(documented - set(rows))}; "
        f"not options of serve: {sorted(set(rows) - documented)}"
    )
    for option in options:
        name = option.opts[0]
        env, default = rows[name]
        assert env == (option.envvar or ""), (
            f"{name}: README says {env!r}, --help {option.envvar!r}"
        )
        if option.opts[0] == "--rate-limits":  # its default is RateLimiter's, written out
            assert default == "`Light=50,Medium=40,Heavy=10,Auth=5`"
            continue
        assert default == _shown_default(option), f"{name}: README default {default!r}"


def test_help_names_every_option_of_the_table() -> None:
    with click.Context(serve) as ctx:
        text = serve.get_help(ctx)
    for option in _readme_rows():
        assert option in text, option
