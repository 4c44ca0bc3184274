"""`python -m intake` runs the command line."""

from intake.cli import main

raise SystemExit(main())
