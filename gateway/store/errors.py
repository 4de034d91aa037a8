"""Errors the store raises; database errors are translated here, never leak upward.

StoreError
├── NotFound        the row asked for does not exist
├── Conflict        a uniqueness or state rule refused the change
└── Unavailable     the database cannot be reached or started
"""


class StoreError(Exception):
    pass


class NotFound(StoreError):
    pass


class Conflict(StoreError):
    pass


class Unavailable(StoreError):
    pass
