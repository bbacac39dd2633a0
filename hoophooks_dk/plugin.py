"""pytest plugin for hook tests (fixtures arrive with the capture)."""
