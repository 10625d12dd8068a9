"""crmql.connectors.atlas."""
