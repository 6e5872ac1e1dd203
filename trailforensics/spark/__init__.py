"""trailforensics on Apache Spark: the same dataset, ingest, queries and detections (``[spark]`` extra).

* :mod:`.session`: the Spark session (``local[*]`` by default, ``--spark-master``, ``SPARK_REMOTE``);
* :mod:`.ingest`: the distributed ingest, equal row for row to the local one;
* :mod:`.rollups`: its rollup tables, aggregated by Spark from the same SQL;
* :mod:`.tables`: the dataset's tables as Spark temporary views (the snapshot's files only);
* :mod:`.dialect`: DuckDB SQL (detections, named queries, macros) transpiled with sqlglot;
* :mod:`.macros`: the ``tf_*`` / ``tfh_*`` macros as Spark SQL functions;
* :mod:`.hunt`: every detection on Spark, the hits of ``hunt.run_hunt``;
* :mod:`.ddl`: CREATE statements for Athena, Trino and Spark, and exported detections.

Nothing here is imported by the local engine: ``pyspark`` is needed only when ``--engine spark`` is used.
"""
