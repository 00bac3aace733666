"""`python -m async_test_lint`: the same as the `async-test-lint` command."""

import sys

from .cli import main

sys.exit(main())
