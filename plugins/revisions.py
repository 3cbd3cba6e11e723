"""The current template revisions, apart from the checks and the cell maps: the config's defaults import this
without the models and reference data (start-up is most of one ``assay screen``)."""

from __future__ import annotations

#: Current template revisions: what "outdated" is measured against. Data, not code:
#: overridable under ``[screening.current_versions]`` in the config.
DEFAULT_CURRENT_VERSIONS: dict[str, str] = {
    "CMRT": "6.5",
    "EMRT": "2.1",
    "CRT": "2.2",
    "AMRT": "1.3",
}
