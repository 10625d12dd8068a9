"""crmql.api."""
