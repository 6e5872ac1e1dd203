"""Named queries shipped with trailforensics (SQL files with a metadata header).

This folder sits at the repository's top level and is installed as the package
``trailforensics.queries``.
"""
