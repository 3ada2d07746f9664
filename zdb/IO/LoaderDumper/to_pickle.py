"""ISF's ``to_pickle`` dumper: zdb's ``to_cloudpickle`` takes its place for any picklable
value, which ISF pickled. ``dumper=zdb.IO.LoaderDumper.to_pickle`` (or ``"to_pickle"``)
writes with ``to_cloudpickle``, and the key records ``to_cloudpickle``."""

from ...dumper_registry import alias_dumper

dumper = alias_dumper("to_pickle", "to_cloudpickle")
