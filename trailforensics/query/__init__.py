"""Capabilities over the dataset: timelines, summaries, identity rollups, named queries."""
