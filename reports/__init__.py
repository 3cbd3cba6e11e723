"""Writers of files people open: the supplier's workbook marked up with our findings.

Reports may import the screening core (``plugins``) and ``storage``, never ``intake``,
``bot`` or ``assay``: transports call reports, not the other way round.
"""
