from __future__ import annotations

from creds_lint.cli import main

raise SystemExit(main())
