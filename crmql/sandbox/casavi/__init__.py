"""casavi Manager API v2 simulator (``crmql.sandbox.casavi.spec:SIMULATOR``); see :mod:`.simulator`."""
