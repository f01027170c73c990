"""`python -m tg_sandbox`: the same as the `tg-sandbox` command."""

from tg_sandbox.cli import main

raise SystemExit(main())
