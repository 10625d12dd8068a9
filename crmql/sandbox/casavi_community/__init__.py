"""The casavi Community API simulator (see :mod:`.simulator`)."""
