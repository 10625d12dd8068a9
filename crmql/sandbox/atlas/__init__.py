"""crmql.sandbox.atlas."""
