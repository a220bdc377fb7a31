"""The words of a late ETA, written in ONE place: every door (the Web UI details, `starter.py
status` and `follow`, the ingress's JSON and its status page in English) shows `Eta.late` as the
run wrote it, so a customer and an operator read the same sentence.

Pure; English (the status page's Chinese says the same facts from the `Eta` fields).
"""

from datetime import datetime, timedelta

from domain.status import Eta


def fmt(delta: timedelta) -> str:
    """`2.5 h`, `40 min`, `12 s`: a duration in its largest sensible unit."""
    seconds = int(delta.total_seconds())
    if seconds >= 86_400:
        return f"{seconds / 86_400:.3g} d"
    if seconds >= 3_600:
        return f"{seconds / 3_600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{delta.total_seconds():.3g} s"


def late_words(eta: Eta, label: str, now: datetime) -> str:
    """`Late: config propagation is 1.5 h past its typical window. <who looks>. <revised>.`"""
    sentences: list[str] = []
    if eta.overdue_s is not None:
        overdue = fmt(timedelta(seconds=eta.overdue_s))
        sentences.append(f"Late: {label} is {overdue} past its typical window")
    else:
        sentences.append(f"Late: {label} is past what the evidence explains")
    if eta.looking_at:
        sentences.append(eta.looking_at[0].upper() + eta.looking_at[1:])
    if eta.latest is not None:
        by = f"{eta.latest:%H:%M:%S} UTC"
        if eta.latest.date() != now.date():
            by = f"{eta.latest:%Y-%m-%d %H:%M:%S} UTC"
        sentences.append(f"Revised: by {by}" + (f" ({eta.evidence})" if eta.evidence else ""))
    else:
        sentences.append(f"No estimate is possible: {eta.no_estimate or 'no evidence'}")
    return ". ".join(sentences) + "."
