"""Stand-in for ISF's ``config`` package in ISF's data_base tests: its one setting they
read, which of ISF's two database systems is in use. ISF's default is its ISFDataBase
(``ISF_USE_MDB`` unset), the one zdb re-implements."""


def isf_is_using_mdb() -> bool:
    """False: ISF's tests run as for ISF's default database, not the old ModelDataBase."""
    return False
