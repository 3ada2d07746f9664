"""ISF's ``just_create_isf_db`` dumper: zdb's ``sub_database`` takes its place for sub-
databases: ``db.set(key, None, dumper=...)`` is ``db.create_sub_db(key)``.
``dumper=zdb.IO.LoaderDumper.just_create_isf_db`` (or ``"just_create_isf_db"``) writes
with ``sub_database``, and the key records ``sub_database``."""

from ...dumper_registry import alias_dumper

dumper = alias_dumper("just_create_isf_db", "sub_database")
