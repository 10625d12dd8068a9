"""crmql.surfaces."""
