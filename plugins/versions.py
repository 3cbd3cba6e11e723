"""Template revisions: RMI's version numbers in order, and the cell map that reads each.

Kept apart from :mod:`plugins.layouts`, which is the cell maps as data only.
"""

from __future__ import annotations

from .layouts import LAYOUTS, Layout


def version_key(version: str) -> tuple[int, ...]:
    """'6.22' -> (6, 22); compares versions as RMI numbers them (6.1 < 6.22 < 6.31)."""
    major, _, minor = version.partition(".")
    minor = (minor + "00")[:2] if minor else "00"
    try:
        return (int(major), int(minor))
    except ValueError:
        return (0, 0)


def select_layout(family: str, version: str) -> tuple[Layout | None, bool]:
    """The cell map for a (family, version) and whether that version is known.

    An unknown version gets the map of the newest known version of the same major
    revision (or of the family's newest), to be read best-effort.
    """
    candidates = [lay for lay in LAYOUTS if lay.family == family]
    for lay in candidates:
        if version in lay.versions:
            return lay, True
    if not candidates:
        return None, False
    key = version_key(version)
    newest_known = max(version_key(v) for lay in candidates for v in lay.versions)
    if key < newest_known:
        # An older revision we never saw: read with the closest older map, flagged as unknown.
        older = [
            (version_key(v), lay)
            for lay in candidates
            for v in lay.versions
            if version_key(v) <= key
        ]
        if older:
            return max(older, key=lambda kv: kv[0])[1], False
        return None, False
    best = max(candidates, key=lambda lay: max(version_key(v) for v in lay.versions))
    return best, False
