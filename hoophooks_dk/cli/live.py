"""``hookdk watch --ui``: each run of the watch on a live page as well as on the terminal.

The face's glue: it starts ``report.live.LiveServer`` with the report's live page, says
where it is (and opens it with ``--open``), and publishes each ``watch.Run`` as the
report draws a run. The settings card follows the settings: after a settings file's
save the watch reads them again, and the next run carries the new card.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import click

from .report import page_info, result_hints


@contextlib.contextmanager
def live_page(options: dict[str, Any], port: int, open_browser: bool, flow) -> Iterator[Any]:
    """The running live page (a ``Publisher``), stopped when the block ends."""
    from ..report.live import KEEP, LiveServer
    from ..report.render import render_live
    from ..watch import WATCHED_FILES

    publisher = Publisher(options, flow)

    def page(runs: list[str], after: int) -> str:
        return render_live(
            repo_name=options["root"].name or str(options["root"]),
            watched=", ".join(WATCHED_FILES),
            info=publisher.info,
            runs=runs,
            after=after,
            keep=KEEP,
        )

    with LiveServer(page, port) as server:
        publisher.server = server
        click.echo(f"hookdk: live page at {server.url}", err=True)
        click.echo("hookdk: the address holds a token: only who has it can open the page", err=True)
        if open_browser:
            import webbrowser

            webbrowser.open(server.url)
        yield publisher


class Publisher:
    """Turns each watch run into what the live page shows."""

    def __init__(self, options: dict[str, Any], flow) -> None:
        self.options = options
        self.flow = flow
        self.server: Any = None
        self.info = self._info()

    def _info(self):
        command = f"hookdk watch --flow {self.flow.name}" if self.flow else "hookdk watch"
        return page_info(self.options, command, self.flow.name if self.flow else None)

    def publish(self, run, load_hints: list) -> None:
        from ..report.model import not_run, run_view
        from ..report.render import render_run, render_settings

        anchor = f"run-{run.number}"
        if run.error is not None:
            view = not_run(
                anchor,
                run.error,
                started=run.started,
                hints=load_hints,
                number=run.number,
                changed=run.changed,
            )
        else:
            hints = [result_hints(result, self.options) for result in run.results]
            view = run_view(
                run.results,
                anchor=anchor,
                flow=self.flow,
                hints=hints,
                allow_leaks=self.options["allow_leaks"],
                number=run.number,
                changed=run.changed,
            )
        info = self._info()  # the settings as this run read them
        settings = render_settings(info) if info != self.info else ""
        self.info = info
        title = f"{view.status_text} · run {run.number} · hookdk watch"
        self.server.publish(run.number, anchor, render_run(view), title, settings)
