"""`make bench`: measured figures next to a baseline computed in the same run.

    python -m trailforensics.bench [--events 2000000] [--small 200000] [--out .bench]
    python -m trailforensics.bench --scale [--events 10000000] [--tree DIR]   (`make bench-scale`)

* ingest: records/s, MB/s and peak RSS (the whole process tree, sampled from /proc) for
  trailforensics and for a DuckDB-native ingest of the same tree (explicit schema, JSON
  columns), at two sizes (memory must stay flat as the input grows); a no-op re-run;
* queries: median latency of a one-principal two-hour timeline, a top-N and a JSON-field
  filter, next to the same answers computed by DuckDB over the raw .json.gz tree;
* verify: throughput next to the plain gunzip+SHA-256 floor of the same files;
* hunt: all built-in detections over the large dataset;
* spark: ``ingest --engine spark`` (``local[cores]``) of the large tree and ``hunt --engine spark``
  on the local dataset, next to the local engine's figures of the same run (skipped, with the
  reason, when pyspark or a Java runtime is missing).

``--scale`` runs the one-machine scale tier instead: on a 10 M-event tree (or ``--tree``), the
time and peak RSS of each command (ingest, compact), with the DuckDB-native ingest of the same
tree as the baseline in the same run.

Trees are generated once and cached under ``--out``.  This is a benchmark, not a test: it
prints figures and never fails on them.
"""
