"""Per-tenant settings (§10.1): brand name, masking rules, export limits and approval threshold."""
