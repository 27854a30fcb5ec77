"""Regenerate docs/cli.md from the commands' own help text (run: python scripts/gen_cli_reference.py).

tests/cli/test_cli_conventions.py compares docs/cli.md byte for byte with `render()`, so the
reference cannot drift from the code. The help width is fixed (78, click's width in an
80-column terminal) so the output does not depend on the terminal it is generated in.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sfops.cli.app import cli  # noqa: E402

WIDTH = 78  # what click uses in an 80-column terminal


def walk(
    command: click.Command, path: list[str], parent: click.Context | None = None
) -> Iterator[tuple[list[str], click.Command, click.Context]]:
    """Every command below `command`, depth first, with its full path and a context chained to its parent's,
    so that settings the CLI gives its root (`-h` for help, the content width) reach every command as at run time."""
    ctx = click.Context(command, parent=parent, info_name=path[-1], terminal_width=WIDTH, **command.context_settings)
    yield path, command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, [*path, name], ctx)


def render() -> str:
    """The Markdown reference."""
    lines = [
        "# CLI reference",
        "",
        "Generated from the commands' help by `python scripts/gen_cli_reference.py`; do not edit by hand.",
        "",
        'Every command accepts `--json` (envelope `{"status", "result", "warnings"}`) and `--debug`.',
        "Exit codes: 0 ok, 1 failed, 2 usage, 68 partial success, 69 still running.",
        "",
    ]
    for path, command, ctx in walk(cli, ["sfops"]):
        lines += [
            f"{'#' * min(len(path) + 1, 4)} `{' '.join(path)}`",
            "",
            "```text",
            command.get_help(ctx).rstrip(),
            "```",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    (REPO / "docs" / "cli.md").write_bytes(render().encode("utf-8"))
    print("wrote docs/cli.md")
