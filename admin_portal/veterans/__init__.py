"""Veteran registry pages: list, detail, create, edit, move, reveal, import, coverage."""
