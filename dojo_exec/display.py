"""How dates and durations are shown to a reader (the site and ``dojo-exec report``)."""

from __future__ import annotations

from datetime import datetime


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_date(iso: str) -> str:
    """ISO 8601 → ``2026-11-25 23:48 UTC`` (unparseable values are shown as they are)."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return moment.strftime("%Y-%m-%d %H:%M UTC")
