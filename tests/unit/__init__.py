"""Unit tier: schema, expansion, CLI, errors (no external tools)."""
