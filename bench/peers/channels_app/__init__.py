"""A Django Channels version of the hub's callback -> fan-out flow (the benchmark's peer)."""
