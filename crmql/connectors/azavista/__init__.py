"""crmql.connectors.azavista."""
