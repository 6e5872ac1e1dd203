"""The store: the Parquet dataset on disk, its manifest, snapshots and transactions.

Readers go through ``layout.load_snapshot``; every change goes through :class:`Transaction`.
"""

from trailforensics.store.transaction import Transaction

__all__ = ["Transaction"]
