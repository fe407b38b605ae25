"""A recorder's playback of a time window over RTSP (its URL's `starttime` and `endtime`): how much of the window a
playback that ended early left unplayed, and the URL that goes on from where it stopped."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

# the recorders' ways of writing a time in a playback URL: Hikvision's 20261206T120000Z, Dahua's 2026_12_06_12_00_00,
# ISO's 2026-12-06T12:00:00Z (in the recorder's clock: compared and shifted, never turned into UTC)
TIME_FORMATS = ("%Y%m%dT%H%M%SZ", "%Y%m%dT%H%M%S", "%Y_%m_%d_%H_%M_%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S")
FIELD = re.compile(r"(?i)(?<=[?&])(start|end)(_?time)=([^&#]*)")
SLACK_S = 30.0  # a playback that ends this close to its window's end ended with it (a keyframe, a slow start)


@dataclass(frozen=True)
class Window:
    """A playback URL's window: its start and end in the recorder's clock, and how its start is written."""
    start: datetime
    end: datetime
    time_format: str

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def _parse(value: str) -> tuple[datetime, str] | None:
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(value, fmt), fmt
        except ValueError:
            continue
    return None


def playback_window(url: str) -> Window | None:
    """The window a playback URL asks for; None where its start or end is not written in a way known here, or the
    end is not after the start."""
    times = {m.group(1).lower(): _parse(m.group(3)) for m in FIELD.finditer(url)}
    start, end = times.get("start"), times.get("end")
    if start is None or end is None or end[0] <= start[0]:
        return None
    return Window(start[0], end[0], start[1])


def left_unplayed(window: Window, played_s: float) -> float:
    """Seconds of `window` after `played_s` of it (0 within `SLACK_S` of its end)."""
    left = window.seconds - played_s
    return left if left > SLACK_S else 0.0


def go_on_url(url: str, window: Window, played_s: float) -> str:
    """`url` with its start moved on by `played_s` seconds (whole ones, written as its start was)."""
    at = (window.start + timedelta(seconds=int(played_s))).strftime(window.time_format)
    return FIELD.sub(lambda m: f"{m.group(1)}{m.group(2)}={at}" if m.group(1).lower() == "start" else m.group(0), url)


def ended_early(url: str, played_s: float | None) -> str:
    """What to tell of a playback of `url` that ended after `played_s` seconds of frames (None: none came): how much
    of its window it left unplayed and the URL that goes on from there (its login hidden); "" where it played its
    window, or its window is not known."""
    from pipeline.addresses import redact

    window = playback_window(url)
    played = int(max(0.0, played_s or 0.0))  # whole seconds, as the URL that goes on gives its start
    left = left_unplayed(window, played) if window is not None else 0.0
    if window is None or not left:
        return ""
    return (f"{redact(url)}: the playback ended {timedelta(seconds=round(left))} before its window's end, after "
            f"{timedelta(seconds=played)} of {timedelta(seconds=round(window.seconds))} (the recorder stopped "
            f"sending, or holds nothing after it); to go on from there: {redact(go_on_url(url, window, played))}")
