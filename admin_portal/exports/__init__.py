"""我的导出: the staff member's export jobs (views.py) and the helper export buttons post through (launch.py)."""
