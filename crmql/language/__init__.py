"""crmql.language."""
