"""crmql.plan."""
