"""Mini program API: wechat."""
