"""avoid_asym_router_failure=0: a route is up although the router cannot reach the remote net, and stays up when the router loses the near net."""
from asym import make

test = make(0)
