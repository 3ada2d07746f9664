"""Test suites that other packages reuse: the store contract (:class:`StoreTests`) and
the dumper contract (:class:`DumperRoundTripTests`).

Importing this package needs pytest (``pip install 'zdb[test]'``).
"""

from .dumper import DumperRoundTripTests
from .store import StoreTests

__all__ = ["DumperRoundTripTests", "StoreTests"]
