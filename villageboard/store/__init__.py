"""The only code that touches the data directory's files."""

from villageboard.store.store import SCHEMA_VERSION, Store, Tx

__all__ = ["SCHEMA_VERSION", "Store", "Tx"]
