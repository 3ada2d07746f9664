"""Input and output: the dumpers (``zdb.IO.LoaderDumper``) that turn values into
Zarr nodes and back, and ISF's functions on a key's folder."""

from . import LoaderDumper  # noqa: E402,F401  (registers the built-in dumpers)
from .key_folders import get_dumper_string_by_dumper_module, get_dumper_string_by_savedir, load

# ISF had these in data_base.IO.LoaderDumper; they open databases, which no dumper may,
# so they are defined above the dumpers and only named in their package
LoaderDumper.load = load  # type: ignore[attr-defined]
LoaderDumper.get_dumper_string_by_dumper_module = get_dumper_string_by_dumper_module  # type: ignore[attr-defined]
LoaderDumper.get_dumper_string_by_savedir = get_dumper_string_by_savedir  # type: ignore[attr-defined]
