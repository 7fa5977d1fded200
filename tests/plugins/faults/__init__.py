"""Helper programs that the fault tests run as subprocesses (and kill)."""
