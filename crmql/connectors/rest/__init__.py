"""crmql.connectors.rest."""
