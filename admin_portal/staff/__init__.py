"""Staff account administration pages."""
