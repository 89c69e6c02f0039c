"""Notifications (issue 13): care messages from staff and system events, delivered to the inbox always and by
WeChat subscribe message where the veteran granted it."""
