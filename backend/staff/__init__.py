"""Staff accounts, roles and the portal login policy."""
