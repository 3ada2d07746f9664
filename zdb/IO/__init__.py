"""Input and output: the dumpers (``zdb.IO.LoaderDumper``) that turn values into
Zarr nodes and back."""

from . import LoaderDumper  # noqa: E402,F401  (registers the built-in dumpers)
