"""Readers: turn the bytes of an input file into raw CloudTrail records."""
