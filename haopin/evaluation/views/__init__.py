"""Workspace and public pages of the evaluation domain, one module per audience."""
