"""Shared by the routing tests: the routed topology, route states, NI states and counters.

client (tcp, first interface) -- router (tcp + tcp1) -- server (tcp1, second interface).
The router checker runs every 5 s with a 5 s ping timeout (sanity-lnet's router settings),
so that routes follow the router's state in seconds rather than minutes.
"""

from lutf import lnet, selftest, stats, stays, wait_for  # noqa: F401 (the suite's tests use them)

#: lnet module options for every node of a routed test.
FAST_CHECKS = {"alive_router_check_interval": 5, "router_ping_timeout": 5}

#: The router's part: both nets, routing on, buffers a 1 GiB guest can hold.
ROUTER = {"nets": {"tcp": [0], "tcp1": [1]}, "routing": True,
          "buffers": {"tiny": 512, "small": 512, "large": 64}}
CLIENT = {"nets": {"tcp": [0]}, "routes": {"tcp1": "router"}}
SERVER = {"nets": {"tcp1": [1]}, "routes": {"tcp": "router"}}
#: The server without its route back: an asymmetric setup.
SERVER_NO_ROUTE = {"nets": {"tcp1": [1]}}


def modules(*more, **options):
    """lnet's options for a routed test (FAST_CHECKS plus `options`), then `more` modules."""
    lnet_options = dict(FAST_CHECKS, **options)
    out = {"lnet": lnet_options}
    for m in more:
        out[m] = {}
    return out


def route_states():
    """net -> state ("up"/"down") of this node's routes (``lnetctl route show -v``)."""
    shown = lnet.lnetctl("route", "show", "-v")["output"] or {}
    return {r.get("net"): str(r.get("state")).lower() for r in shown.get("route") or []}


def ni_status(net):
    """The status of this node's NI on `net` (``lnetctl net show --net NET``)."""
    shown = lnet.lnetctl("net", "show", "--net", net)["output"] or {}
    for n in shown.get("net") or []:
        for ni in n.get("local NI(s)") or []:
            return str(ni.get("status")).lower()
    raise AssertionError(f"no NI on {net}: {shown}")


#: Messages this node has forwarded (the toolkit's `lutf.stats.route_count`).
route_count = stats.route_count


def pings(nid, count, timeout=5):
    """How many of `count` LNet pings of `nid` were answered."""
    answered = 0
    for _ in range(count):
        try:
            lnet.ping(nid, timeout=timeout)
            answered += 1
        except lnet.LnetError as e:
            print(f"ping {nid}: {e.description} (errno {e.errno})")
    return answered


def write_traffic(ctx, seconds=20):
    """`seconds` of 1 MiB selftest writes from the client to the server: no error on either
    side, and the server received data. Returns the client's bandwidth."""
    r = selftest.run(ctx, src=["client"], dst=["server"], test="brw", mode="write", size="1M",
                     concurrency=2, duration=seconds, interval=4)
    assert r["errors"] == {"src": 0, "dst": 0}, f"selftest errors: {r['errors']}"
    assert r["dst"]["bandwidth"].get("read", 0) > 0, f"the server received nothing: {r}"
    return r["src"]["bandwidth"]


def gateway_nid(ctx, net):
    """The router's NID on `net`."""
    return [n for n in ctx.nids["router"] if n.endswith("@" + net)][0]


def routing_show():
    """``lnetctl routing show`` as a tree."""
    return lnet.lnetctl("routing", "show")["output"] or {}


#: ``routing show``'s ``enable`` is LNet's routing state: routing starts and stops over one
#: router-check round (alive_router_check_interval + router_ping_timeout).
DISABLED, ENABLED, STOPPING, STARTING = 0, 1, 2, 3


def routing_state():
    """LNet's routing state as ``lnetctl routing show`` gives it (DISABLED ... STARTING)."""
    shown = routing_show()
    if not shown:  # no router pools at all: routing was never turned on
        return DISABLED
    enable = lnet.find(shown, "enable")
    assert enable is not None, f"routing show has no enable: {routing_show()}"
    return int(enable)


def set_routing(on, timeout=90):
    """``lnetctl set routing 1|0``: LNet says it is starting/stopping (or done), then it
    gets there within `timeout` seconds. Returns the states seen."""
    lnet.lnetctl("set", "routing", 1 if on else 0)
    first = routing_state()
    passing, final = (STARTING, ENABLED) if on else (STOPPING, DISABLED)
    assert first in (passing, final), f"set routing {int(on)}: routing show says {first}"
    return [first, wait_for("routing state", routing_state, final, timeout=timeout)]


def buffers():
    """The router buffer counts ``lnetctl routing show`` gives: {"tiny", "small", "large"}."""
    shown = lnet.find(routing_show(), "buffers") or {}
    return {k: int(v) for k, v in shown.items() if k in ("tiny", "small", "large")}
