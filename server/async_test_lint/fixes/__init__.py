"""Fix construction (text edits, libcst transforms) and application."""
