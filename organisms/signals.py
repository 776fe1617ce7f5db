"""What the demo loader (``organisms.demo``) tells the apps above it.

- ``demo_loaded``: sent inside each schema once its demo organisms and accounts exist, with
  ``platform`` (``None`` on the public host) and ``users`` (username → demo account). Each
  app adds its own demo data (workflow the open campaign, operations the correspondent).
"""

from django.dispatch import Signal

demo_loaded = Signal()
