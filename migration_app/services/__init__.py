"""Writes of the staging area; one module per job (DESIGN.md, Layout)."""
