"""avoid_asym_router_failure=1: a route is down while the router cannot reach the remote net, up once it can, and goes down again when the router loses the near net."""
from asym import make

test = make(1)
