"""`python -m memlib …` is the same as the `memlib` console script."""

from memlib.cli import main

raise SystemExit(main())
