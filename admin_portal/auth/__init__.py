"""Staff login, logout and password change."""
