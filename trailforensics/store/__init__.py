"""The store: the Parquet dataset on disk, its manifest, snapshots and atomic commits."""
