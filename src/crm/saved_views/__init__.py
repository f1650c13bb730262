"""Saved views: each user's named filters, sort, columns and page size of a list screen."""
