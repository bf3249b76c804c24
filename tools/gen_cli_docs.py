"""Write docs/cli.md from the click commands' own help, so the reference can never drift from the code.

Run `python tools/gen_cli_docs.py` after changing a command; tests/test_cli.py fails when the file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.cli import main  # noqa: E402

HEADER = """# nianbao command line

Generated from the commands' own `--help` by `python tools/gen_cli_docs.py`; do not edit by hand.
Exit codes: 0 success, 1 some inputs failed (each named on stderr), 2 usage error.
"""


def _walk(cmd: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    out = [(path, cmd)]
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            out.extend(_walk(cmd.commands[name], [*path, name]))
    return out


def render() -> str:
    parts = [HEADER]
    for path, cmd in _walk(main, ["nianbao"]):
        if len(path) == 1:
            continue
        with click.Context(
            main, info_name="nianbao", terminal_width=100, max_content_width=100, **main.context_settings
        ) as root_ctx:
            ctx = root_ctx
            for name in path[1:]:
                ctx = click.Context(
                    ctx.command.commands[name] if isinstance(ctx.command, click.Group) else cmd,
                    info_name=name,
                    parent=ctx,
                )
            help_text = cmd.get_help(ctx)
        parts.append(f"\n## `{' '.join(path)}`\n\n```\n{help_text}\n```\n")
    return "".join(parts)


if __name__ == "__main__":
    target = ROOT / "docs" / "cli.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")
