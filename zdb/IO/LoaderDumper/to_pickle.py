"""``to_pickle``: ISF's pickle dumper, under its own name.

Named explicitly (``dumper=zdb.IO.LoaderDumper.to_pickle`` or ``"to_pickle"``), it
stores the value as :mod:`~zdb.IO.LoaderDumper.to_cloudpickle` does (one pickle file,
read under the same pickle policy) and the key records ``to_pickle``, as ISF's metadata
did. It is never chosen by itself: values no other dumper stores go to
``to_cloudpickle``. The dumper is defined beside ``to_cloudpickle``, whose code it shares.
"""

from ...dumper_registry import get_dumper

dumper = get_dumper("to_pickle")
