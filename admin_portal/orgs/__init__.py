"""The org unit tree pages."""
