"""Travel report pages."""
