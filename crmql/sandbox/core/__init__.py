"""crmql.sandbox.core."""
