"""Personal data keys (issue 15): versions, algorithms (AES-256-GCM / SM4-GCM, HMAC-SHA256 / HMAC-SM3), rotation."""
