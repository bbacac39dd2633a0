"""The session's timeline as geometry: lanes, bars, marks and the gateway's timeout lines.

One lane per hook run, in the flow's order. A bar runs from the hook's start to its end;
the part after the gateway's timeout is drawn apart ("ran on"); each HTTP request and
syslog message is a mark at its time, late ones (after the gateway stopped waiting)
marked as such; each lane has its timeout line. The numbers here are SVG user units
(the picture is ``WIDTH`` wide); the page's template draws them.

Why a broken axis: hooks usually take tens of milliseconds and the gateway waits 15 s.
On a plain linear axis the bars would be slivers beside one far line. So a stretch of
time in which nothing starts, ends or is sent, when it is at least ``BREAK_MIN`` seconds
long and at least ``BREAK_SHARE`` of the whole, is drawn as a narrow break (a zigzag)
instead of to scale. Order is kept: a late request is always drawn after its timeout
line, whatever was compressed between them; the labels give the real times.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: The picture's width in SVG user units; it scales to the page's width.
WIDTH = 1000.0
#: Where the plot starts (the lanes' labels sit left of it) and ends.
PLOT_LEFT = 232.0
PLOT_RIGHT = 975.0
#: Height of one lane, of the axis band below the lanes, of the labels band above them.
LANE_HEIGHT = 46.0
AXIS_HEIGHT = 34.0
TOP = 30.0
#: A quiet stretch at least this long (s) and this share of the whole is drawn as a break.
BREAK_MIN = 4.0
BREAK_SHARE = 0.25
BREAK_WIDTH = 26.0
#: Ticks closer than this (user units) to a kept one are dropped; timeout labels too.
TICK_GAP = 46.0
LABEL_GAP = 70.0
#: The precision of a timeout's label on the axis, in seconds.
MARK_STEP = 0.1


@dataclass(frozen=True)
class Span:
    """A stretch of time drawn to scale: seconds ``t0..t1`` at ``x0..x1``."""

    t0: float
    t1: float
    x0: float
    x1: float

    def x(self, t: float) -> float:
        if self.t1 <= self.t0:
            return self.x0
        return self.x0 + (t - self.t0) / (self.t1 - self.t0) * (self.x1 - self.x0)


@dataclass(frozen=True)
class Axis:
    """Seconds since the session's start -> x, to scale within each span, broken between."""

    spans: tuple[Span, ...]

    def x(self, t: float) -> float:
        for before, span in zip((None, *self.spans), self.spans, strict=False):
            if t < span.t0 and before is not None:  # inside a break: its middle third
                return (before.x1 + span.x0) / 2
            if t <= span.t1:
                return span.x(max(t, span.t0))
        return self.spans[-1].x1

    @property
    def breaks(self) -> list[tuple[float, float]]:
        """(x where the break starts, x where it ends) for each compressed stretch."""
        return [(a.x1, b.x0) for a, b in zip(self.spans, self.spans[1:], strict=False)]


def make_axis(times: Iterable[float], left: float = PLOT_LEFT, right: float = PLOT_RIGHT) -> Axis:
    """An axis through every time that matters (starts, ends, sends, timeouts), from 0."""
    points = sorted({0.0, *(max(t, 0.0) for t in times)})
    end = points[-1]
    quiet = {
        index
        for index, (a, b) in enumerate(zip(points, points[1:], strict=False))
        if b - a >= BREAK_MIN and b - a >= BREAK_SHARE * end
    }
    runs: list[tuple[float, float]] = []  # stretches drawn to scale
    start = points[0]
    for index, (a, b) in enumerate(zip(points, points[1:], strict=False)):
        if index in quiet:
            runs.append((start, a))
            start = b
    runs.append((start, end))
    scaled = sum(t1 - t0 for t0, t1 in runs)
    tail = max(scaled * 0.04, 0.002)  # room after the last point, for its label and mark
    runs[-1] = (runs[-1][0], runs[-1][1] + tail)
    scaled += tail
    room = right - left - BREAK_WIDTH * (len(runs) - 1)
    # a run of one instant still gets a sliver of width, so its marks do not collapse
    floor = min(6.0, room / (len(runs) * 4))
    widths = [max((t1 - t0) / scaled * room, floor) for t0, t1 in runs]
    scale = room / sum(widths)
    spans, x = [], left
    for (t0, t1), width in zip(runs, widths, strict=True):
        spans.append(Span(t0, t1, x, x + width * scale))
        x += width * scale + BREAK_WIDTH
    return Axis(tuple(spans))


def ticks(axis: Axis, marked: Sequence[float] = ()) -> list[tuple[float, str]]:
    """(x, label) along the axis: ``marked`` times first (the timeouts), then round times
    within each span, each span's start, none crowding a kept one. Labels are as precise
    as the steps, and a timeout to a tenth of a second."""
    scaled = sum(span.t1 - span.t0 for span in axis.spans)
    step = nice_step(scaled / 7)
    wanted = [*marked]
    for span in axis.spans:
        wanted.append(span.t0)
        if span.x1 - span.x0 < 3 * TICK_GAP:  # a sliver after a break: its start is enough
            continue
        first = math.ceil(span.t0 / step - 1e-9)
        count = int((span.t1 - first * step) / step + 1e-9) + 1
        wanted += [(first + n) * step for n in range(max(count, 0))]
    kept: list[tuple[float, str]] = []
    for number, t in enumerate(wanted):
        x = axis.x(t)
        if all(abs(x - other) >= TICK_GAP for other, _ in kept):
            # a timeout to a tenth of a second: the hooks of one session start a few
            # milliseconds apart, and their timeouts all read "15 s"
            precision = max(step, MARK_STEP) if number < len(marked) else step
            kept.append((x, seconds_label(t, precision)))
    return sorted(kept)


def nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    if raw <= 0:
        return 0.001
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw - 1e-12)


def seconds_label(t: float, step: float = 1.0) -> str:
    """``15 s``, ``1.5 s``, ``120 ms``: as precise as the ticks around it."""
    if t == 0:
        return "0"
    if step < 1 and t < 1:
        return _trimmed(t * 1000, step * 1000) + " ms"
    return _trimmed(t, step) + " s"


def _trimmed(value: float, step: float) -> str:
    digits = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- the picture ------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """One request or syslog message at its time."""

    x: float
    kind: str  # "http" or "syslog"
    late: bool
    anchor: str  # the id of its details on the page
    title: str  # what a tooltip says
    t: float  # seconds since the session's start


@dataclass(frozen=True)
class Lane:
    """One hook run: its bar (to its timeout, then ran on), its timeout line, its marks."""

    y: float
    label: str
    sublabel: str
    status: str  # "ok", "failed", "timed-out", "leaked"
    anchor: str
    start: float  # seconds since the session's start
    end: float
    deadline: float
    bar: tuple[float, float]  # x from, x to (to the end, or to the timeout)
    ran_on: tuple[float, float] | None  # x from the timeout to the end, when it ran on
    deadline_x: float
    marks: tuple[Mark, ...] = ()

    @property
    def middle(self) -> float:
        return self.y + LANE_HEIGHT / 2


@dataclass(frozen=True)
class HookSpan:
    """What the timeline needs of one hook run (see ``model``)."""

    label: str
    sublabel: str
    status: str
    anchor: str
    start: float
    end: float
    timeout: float
    sends: tuple[tuple[float, str, bool, str, str], ...] = ()  # (t, kind, late, anchor, title)


@dataclass(frozen=True)
class Timeline:
    width: float
    height: float
    lanes: tuple[Lane, ...]
    ticks: tuple[tuple[float, str], ...]
    breaks: tuple[tuple[float, float], ...]
    deadlines: tuple[tuple[float, str], ...]  # (x, label) once per distinct line
    axis_y: float
    plot: tuple[float, float] = field(default=(PLOT_LEFT, PLOT_RIGHT))


def layout(hooks: Sequence[HookSpan]) -> Timeline:
    """The picture of these hook runs, times in seconds since the session's start."""
    times = [t for hook in hooks for t in (hook.start, hook.end, hook.start + hook.timeout)]
    times += [send[0] for hook in hooks for send in hook.sends]
    axis = make_axis(times)
    lanes = tuple(_lane(axis, index, hook) for index, hook in enumerate(hooks))
    deadline_times = [hook.start + hook.timeout for hook in hooks]
    axis_y = TOP + LANE_HEIGHT * len(hooks)
    deadlines: list[tuple[float, str]] = []
    for lane, hook in zip(lanes, hooks, strict=True):
        label = f"timeout {hook.timeout:g} s"
        if all(abs(lane.deadline_x - x) > LABEL_GAP for x, _ in deadlines):
            deadlines.append((lane.deadline_x, label))
    return Timeline(
        width=WIDTH,
        height=axis_y + AXIS_HEIGHT,
        lanes=lanes,
        ticks=tuple(ticks(axis, deadline_times)),
        breaks=tuple(axis.breaks),
        deadlines=tuple(deadlines),
        axis_y=axis_y,
    )


def _lane(axis: Axis, index: int, hook: HookSpan) -> Lane:
    deadline = hook.start + hook.timeout
    x_start, x_end, x_deadline = axis.x(hook.start), axis.x(hook.end), axis.x(deadline)
    x_end = max(x_end, x_start + 2)  # an instant still shows
    ran_on = (x_deadline, x_end) if hook.end > deadline else None
    bar = (x_start, x_deadline if ran_on else x_end)
    marks = tuple(
        Mark(axis.x(t), kind, late, anchor, title, t) for t, kind, late, anchor, title in hook.sends
    )
    return Lane(
        y=TOP + index * LANE_HEIGHT,
        label=hook.label,
        sublabel=hook.sublabel,
        status=hook.status,
        anchor=hook.anchor,
        start=hook.start,
        end=hook.end,
        deadline=deadline,
        bar=bar,
        ran_on=ran_on,
        deadline_x=x_deadline,
        marks=marks,
    )
