"""Annual registration pages: review queue, review, talks, on-site entry, windows, figures."""
