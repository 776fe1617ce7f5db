"""Multivalued tables in the online form: their rows drawn where the table stands in the
sheet (declarations/grid.py), and the endpoint changing them (one row action per request,
JSON from the page's script or a form without JavaScript)."""
