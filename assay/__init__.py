"""Assay: conflict-minerals due diligence for RMI reporting templates.

Importing the package first puts :mod:`assay.dccache` in place: the dataclasses of every
module imported after it (the config, the models, the reference data) are made from
compiled code kept beside the byte code, which is most of start-up's import time saved.
"""

from .dccache import install as _install_dataclass_cache

_install_dataclass_cache()
