"""The one rendering layer: every byte a command prints goes through here (log content is attacker-controlled).

* :mod:`.sink`: :class:`~.sink.Sink`, one output destination (terminal, pipe or ``-o`` file).  On a
  terminal its last guard lets no C0 control (but newline and tab), DEL, C1 control or bidi character
  through, whoever rendered the text; files and pipes get exact values.
* :mod:`.formats`: Arrow tables in the row formats (table, csv, json, jsonl, parquet, timesketch),
  written to a sink.
* :mod:`.choices`: the format names and their check, without Arrow (the CLI declares its options with them).
* :mod:`.sanitize`: the escaping rules themselves (terminal, JSON on a terminal, CSV formulas).

Library code returns tables and documents; the CLI (:mod:`trailforensics.cli.common`) hands them here.
"""
