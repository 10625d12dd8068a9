"""crmql.exec."""
