"""Pure decisions of the due-diligence program: no I/O, no clock, no database.

Modules here take plain values (``plugins.models`` declarations and findings, a
``plugins.reference.ReferenceData``) and return plain values; the composition root and the
transports fetch what they need from the store and hand it in. ``program`` imports
``plugins`` only (enforced by ``tests/test_layering.py``).
"""
