"""Reading the databases of the In Silico Framework (ISF) without ISF installed.

ISF's ``ISFDataBase`` keeps each key in a folder of its own (``Loader.json`` naming the
dumper, ``metadata.json``, the payload files); a sub-database is a key folder holding
the nested database in ``db/``. This package reads that layout read-only:

- :mod:`.layout`: which kind of folder a path is, ``db_state.json``, the key folders and
  the checked names read from them;
- :mod:`.metadata`: ISF's ``metadata.json`` as zdb's metadata dict;
- :mod:`.pickles`: pickles under zdb's ``allow_pickle`` policy, and the errors that name
  what a pickle needs that is missing;
- :mod:`.msgpack_format`: pandas' removed msgpack format, as ISF's ``isf_pandas_msgpack``
  wrote it;
- :mod:`.arrays`, :mod:`.frames`, :mod:`.objects`: the loaders of ISF's dumpers, by the
  kind of value they read; :mod:`.loaders` finds the loader of a dumper name;
- :mod:`.database`: :class:`~zdb.legacy.database.ISFDataBase`, the read-only face.

``zdb.isf_data_base`` is the public face of all this.
"""
