"""The veteran registry that every capability reads."""
