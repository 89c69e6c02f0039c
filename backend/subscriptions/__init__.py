"""The subscribe-message credit ledger (one-time credits, long-term grants) and WeChat push events."""
