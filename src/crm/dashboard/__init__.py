"""The managers' dashboard: customers by level, by region and new customers per business month."""
