"""crmql.sandbox.azavista."""
