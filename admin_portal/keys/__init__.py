"""个人信息密钥 (issue 15): the system administrator's page for key versions and rotation."""
