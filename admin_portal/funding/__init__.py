"""经费统计 pages (issue 16, C4)."""
