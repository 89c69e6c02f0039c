"""Workbench cards of retirement pay (issue 18): batches and runs waiting for a checker, failed payments."""
