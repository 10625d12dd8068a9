"""Partitioned reads (crmql.api.partitions) against the sandbox: a package, so its conftest has a name of its own."""
