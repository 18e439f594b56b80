"""Where each address of the file being imported was first seen, kept in the database.

A file that lists an address twice is refused naming where it was first listed (a line, or
a JSON path), so an import remembers that for every row. Held in a Python dict it grew
about 150 bytes a row (24 MiB above start at 100,000 rows, 37 MiB at 200,000); here it is
a temporary table, looked up and filled with one statement or two per batch of rows, and
the import's memory stays flat however long the file is.

The table belongs to the import's transaction: created at its start, dropped before it ends.
When the import ends with an exception instead, the rollback of its transaction (or
savepoint) undoes the creation: DDL is transactional on SQLite and PostgreSQL alike, and a
DROP sent into a failed PostgreSQL transaction would itself fail and hide the first error.
Nothing outlives the transaction, so a pooler in transaction mode is no trouble either.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection

TABLE_PREFIX = "transfer_seen_"
# Addresses a statement carries (two parameters each for an insert): some SQLite builds
# allow no more than 999 parameters.
CHUNK = 400


def digest(address: str) -> str:
    """A fixed-size key for an address, whatever its length: PostgreSQL refuses an index
    entry over about 2.7 kB. Two addresses of one file share one with a chance of about
    n²/2¹²⁹."""
    return hashlib.blake2b(address.encode(), digest_size=16).hexdigest()


class SeenAddresses:
    """The normalized addresses of one import and where each was first seen."""

    def __init__(self) -> None:
        # Unique per import: two imports on one connection never share a table.
        self.table = connection.ops.quote_name(TABLE_PREFIX + uuid.uuid4().hex)

    def create(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.table} "
                "(address varchar(32) PRIMARY KEY, place text NOT NULL)"
            )

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")

    def places(self, addresses: Iterable[str]) -> dict[str, str]:
        """Where each of `addresses` was first seen ("line 12", a JSON path), for those
        seen already; the others are missing from the answer."""
        by_digest = {digest(address): address for address in addresses}
        keys = list(by_digest)
        found: dict[str, str] = {}
        with connection.cursor() as cursor:
            for start in range(0, len(keys), CHUNK):
                chunk = keys[start : start + CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                # The table's name is ours and quoted; the values are parameters.
                sql = f"SELECT address, place FROM {self.table} WHERE address IN ({marks})"  # noqa: S608
                cursor.execute(sql, chunk)
                for key, place in cursor.fetchall():
                    found[by_digest[key]] = place
        return found

    def add(self, places: dict[str, str]) -> None:
        """Remember where these addresses, none of them seen before, were first seen."""
        rows = [(digest(address), place) for address, place in places.items()]
        with connection.cursor() as cursor:
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                marks = ", ".join(["(%s, %s)"] * len(chunk))
                sql = f"INSERT INTO {self.table} (address, place) VALUES {marks}"  # noqa: S608
                cursor.execute(sql, [value for row in chunk for value in row])


@contextmanager
def seen_addresses() -> Iterator[SeenAddresses]:
    """A SeenAddresses for the block, which must run inside the import's atomic block.

    Dropped when the block ends normally; on an exception the enclosing rollback removes
    it (see the module's docstring), so there is deliberately no `finally` here.
    """
    seen = SeenAddresses()
    seen.create()
    yield seen
    seen.drop()
