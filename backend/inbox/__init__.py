"""The veteran's in-app message inbox, where every capability writes its messages."""
