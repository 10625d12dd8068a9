"""Voyzu CRM simulator (mounted under ``/voyzu``): see :mod:`.simulator`."""
