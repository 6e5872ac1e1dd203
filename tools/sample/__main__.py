"""``python -m tools.sample OUT``: rebuild the sample (``make sample`` writes ``sample_logs/``)."""

from tools.sample.build import main

raise SystemExit(main())
