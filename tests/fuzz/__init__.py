"""Fuzzing: a stateful client session against the language server, and generated programs."""
