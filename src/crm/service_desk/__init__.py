"""The service desk: tickets (service records), their status machine, assignment and SLAs."""
