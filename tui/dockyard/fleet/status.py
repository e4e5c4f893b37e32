"""A container's STATUS ("Up 5 minutes", "Exited (0) 2 hours ago") computed here, as time passes.

The daemon writes STATUS when it lists, from the moment the state began (docker's own
formatter, go-units `HumanDuration`), so every listing of a long-running fleet differs from
the one before only because time passed — and a 30 s reconcile used to rewrite every row.
Here the moment is estimated from the phrase when a container is listed (`since`); a
later listing whose STATUS is what `since` gives now is no change at all, and the UI
renders STATUS from `since` itself.
"""

from __future__ import annotations

import re

_PHRASE = re.compile(r"Less than a second|About a minute|About an hour|1 second|"
                     r"\d+ (?:seconds|minutes|hours|days|weeks|months|years)")
_HOUR = 3600.0
# For each phrase: a duration in the middle of what HumanDuration prints that phrase for.
_FIXED = {"Less than a second": 0.5, "1 second": 1.5, "About a minute": 90.0, "About an hour": 1.25 * _HOUR}
_PER_UNIT = {"seconds": (1.0, 0.5), "minutes": (60.0, 30.0), "hours": (_HOUR, 0.0), "days": (24 * _HOUR, 12 * _HOUR),
             "weeks": (168 * _HOUR, 84 * _HOUR), "months": (720 * _HOUR, 360 * _HOUR),
             "years": (8760 * _HOUR, 4380 * _HOUR)}


def human_duration(seconds: float) -> str:
    """go-units HumanDuration, as `docker ps` prints it."""
    whole = int(seconds)
    if whole < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / _HOUR + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / _HOUR) // 24 // 365} years"


def phrase_seconds(phrase: str) -> float:
    if phrase in _FIXED:
        return _FIXED[phrase]
    count, unit = phrase.split(" ")
    size, middle = _PER_UNIT[unit]
    return int(count) * size + middle


def since_from(status: str, listed_at: float) -> float | None:
    """When the state in `status` began (estimated), or None for a status without a duration."""
    found = _PHRASE.search(status)
    return None if found is None else listed_at - phrase_seconds(found.group())


def status_at(status: str, since: float | None, now: float) -> str:
    """`status` with its duration as it reads at `now`."""
    if since is None:
        return status
    return _PHRASE.sub(lambda _: human_duration(max(0.0, now - since)), status, count=1)


def _unit(phrase: str) -> float:
    """How coarse a phrase is: a listing later can move the estimate by up to this much."""
    if phrase in ("Less than a second", "1 second"):
        return 1.0
    if phrase in _FIXED:  # About a minute / an hour
        return 60.0 if "minute" in phrase else 0.5 * _HOUR
    return _PER_UNIT[phrase.split(" ")[1]][0]


def same_since(old: str, old_since: float | None, new: str, new_since: float | None) -> bool:
    """Whether two listings' STATUS say the same state began at the same moment, as far as their
    wording can tell ("Up 1 second" at t and "Up 7 seconds" at t+5.2 may both be right)."""
    if old_since is None or new_since is None:
        return old == new
    if _PHRASE.sub("", old, count=1) != _PHRASE.sub("", new, count=1):
        return False  # another state, exit code, health
    found = _PHRASE.search(new)
    # + 1 s: the moment a listing is stamped here trails the daemon's by its round trip
    return found is not None and abs(new_since - old_since) <= _unit(found.group()) + 1.0
