"""Test suites that other packages reuse: the store contract (:class:`StoreTests`).

Importing this package needs pytest (``pip install 'zdb[test]'``).
"""

from .store import StoreTests

__all__ = ["StoreTests"]
