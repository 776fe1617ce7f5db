"""Pasting a block copied from Excel on a sheet of the online form (single-cell fields): where
it lands (block.py), the endpoint (views.py); the write is ``declarations.services.paste``."""
