"""async-test-lint: finds event-loop misuse in Python async tests."""

__version__ = "0.1.0"
