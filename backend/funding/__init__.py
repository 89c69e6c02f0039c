"""Funding figures (Art. 22): spending on visits and hardship assistance by source, unit and purpose."""
