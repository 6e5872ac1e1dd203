"""Normalisation: CloudTrail record <-> dataset row, in one place.

* :mod:`.fast` decodes well-typed records with msgspec;
* :mod:`.tolerant` handles everything else without losing a byte;
* :mod:`.columns` turns decoded records into an Arrow record batch;
* :mod:`.rebuild` turns a row back into the original record.
"""
