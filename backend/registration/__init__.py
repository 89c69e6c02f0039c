"""Annual registration (Art. 9): the yearly window, drafts, submission, review, talks, overdue follow-up."""
