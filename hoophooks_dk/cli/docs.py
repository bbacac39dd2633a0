"""``hookdk docs``: the kit's documentation pages, shipped in the wheel.

The kit's messages cite its pages (``docs/hoop-runtime.md section 3``, the rules of
``docs/check.md``); installed from a wheel there is no checkout to open them in, so the
pages travel in the package (``hoophooks_dk/_data/docs``) and this command finds them.
"""

from __future__ import annotations

import click

from ..errors import HookdkError, did_you_mean


def _pages() -> dict[str, object]:
    from ..resources import data_dir

    folder = data_dir("docs")
    found = {entry.name.removesuffix(".md"): entry for entry in folder.iterdir()}
    return {name: found[name] for name in sorted(found) if found[name].name.endswith(".md")}


def complete_pages(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    return [name for name in _pages() if name.startswith(incomplete)]


@click.command("docs")
@click.argument("page", required=False, shell_complete=complete_pages)
@click.option("--path", "show_path", is_flag=True, help="Print the page's file path, not its text.")
def docs_command(page: str | None, show_path: bool) -> None:
    """List the documentation pages, or print PAGE (e.g. hoop-runtime, check)."""
    pages = _pages()
    if page is None:
        width = max(len(name) for name in pages)
        for name, entry in pages.items():
            title = entry.read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
            click.echo(f"{name:<{width}}  {title}")
        return
    name = page.removesuffix(".md").removeprefix("docs/")
    if name not in pages:
        raise HookdkError(f"no page {page!r}{did_you_mean(name, pages)}; pages: {', '.join(pages)}")
    if show_path:
        click.echo(str(pages[name]))
    else:
        click.echo(pages[name].read_text(encoding="utf-8"), nl=False)
