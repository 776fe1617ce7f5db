"""French formats: Django's own, with one thousands separator throughout the platform.

Django groups French integers with a non-breaking space (U+00A0) while the grid, the PDFs and
the exports use the narrow one that the French typographic rules call for (U+202F,
``harmonia.french.NNBSP``): every page would show both. Here Django uses the narrow one
too."""

from django.conf.locale.fr.formats import *  # noqa: F403
from harmonia.french import NNBSP

THOUSAND_SEPARATOR = NNBSP
