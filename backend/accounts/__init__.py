"""Mini program accounts: WeChat login, binding to a veteran record, token revocation."""
