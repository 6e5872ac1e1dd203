"""The Spark session every ``--engine spark`` command uses.

``master``: ``local[*]`` unless given (``--spark-master URL``: ``yarn``, ``spark://host:7077``,
``k8s://...``); with ``SPARK_REMOTE`` set (``sc://host:15002``) and no master given, the session is
a Spark Connect client.  The session time zone is UTC (every time we write and print is UTC).
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from typing import TYPE_CHECKING

from trailforensics.errors import TrailforensicsError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"


class SparkUnavailable(TrailforensicsError, RuntimeError):
    """pyspark or a Java runtime is missing."""


LOCAL_DRIVER_FLOOR = 2 << 30  # bytes: the least heap a local Spark session gets


def java_available() -> bool:
    """A Java runtime Spark can start (``JAVA_HOME`` or ``java`` on the PATH)."""
    home = os.environ.get("JAVA_HOME")
    if home and os.path.isfile(os.path.join(home, "bin", "java")):
        return True
    return shutil.which("java") is not None


def get_session(
    master: str | None = None, app_name: str = "trailforensics", shuffle_partitions: int | None = None
) -> SparkSession:
    """The active session, or a new one on ``master`` (see the module docstring)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailable("the Spark engine needs the spark extra: pip install 'trailforensics[spark]'") from exc
    remote = os.environ.get("SPARK_REMOTE") if master is None else None
    if remote:
        if remote.startswith("local"):  # a Connect server started here: its workers run this interpreter
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = SparkSession.builder.remote(remote)
        if remote.startswith("local"):  # the server's own settings: no progress bars, no log lines
            builder = builder.config("spark.ui.showConsoleProgress", "false").config("spark.log.level", "FATAL")
    else:
        if not java_available():
            raise SparkUnavailable("the Spark engine needs a Java runtime (17 or later): install one or set JAVA_HOME")
        master = master or DEFAULT_MASTER
        # Local executors must run this interpreter (the one with trailforensics and pyarrow).
        if master.startswith("local"):
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        builder = SparkSession.builder.master(master).config("spark.ui.showConsoleProgress", "false")
        if master.startswith("local"):
            builder = builder.config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
            # Local executors live in the driver's JVM: give it the memory setting (Spark's 1 GB
            # default ran out aggregating role chains after a few hunts in one session), never less
            # than 2 GiB (with a 512 MiB heap a local session wedged instead of failing).
            from trailforensics.engine.resources import memory_limit

            builder = builder.config("spark.driver.memory", f"{max(memory_limit(), LOCAL_DRIVER_FLOOR) >> 20}m")
    builder = builder.appName(app_name).config("spark.sql.session.timeZone", "UTC")
    # DuckDB semantics: a list index out of range is NULL, not an error (detections index lists).
    builder = builder.config("spark.sql.ansi.enabled", "false")
    if shuffle_partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    with warnings.catch_warnings():
        # A local Connect server takes the server settings above at start; the client then tries to
        # set them again as session settings, and warns that a server setting cannot change.
        warnings.filterwarnings("ignore", message="Failed to set spark", category=UserWarning)
        session = builder.getOrCreate()
    if not remote:
        session.sparkContext.setLogLevel("FATAL")  # failures arrive as exceptions; no JSON log noise
    return session


def is_classic(spark: SparkSession) -> bool:
    """A classic session (a Spark Connect client has no SparkContext)."""
    try:
        spark.sparkContext  # noqa: B018
    except Exception:
        return False
    return True


def parallelism(spark: SparkSession) -> int | None:
    """The cluster's default parallelism; on Spark Connect only when configured (else None)."""
    if is_classic(spark):
        return int(spark.sparkContext.defaultParallelism)
    configured = spark.conf.get("spark.default.parallelism", None)
    return int(configured) if configured else None
