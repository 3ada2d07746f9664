"""ISF's ``to_msgpack`` dumper: zdb's ``to_cloudpickle`` takes its place for values ISF
wrote as msgpack. ``dumper=zdb.IO.LoaderDumper.to_msgpack`` (or ``"to_msgpack"``) writes
with ``to_cloudpickle``, and the key records ``to_cloudpickle``."""

from ...dumper_registry import alias_dumper

dumper = alias_dumper("to_msgpack", "to_cloudpickle")
