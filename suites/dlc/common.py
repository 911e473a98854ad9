"""Shared helpers of the dlc suite (discovery only takes `test_*.py`, so this is no test).

Every dlc test starts LNet itself (`start`) and takes it down again in a cleanup step
(`stop`), so that the next test starts clean whatever this one did.
"""
from lutf import fail, lnet, provision, skip

#: Tests LNet is known to get wrong, as sanity-lnet.sh's ALWAYS_EXCEPT: "test_NN" -> the
#: LU ticket; `start` SKIPs them naming it. Empty: sanity-lnet's entries (LU-14288,
#: LU-17457, LU-9680, ...) are for IPv6-only (large NID) nodes or for fault injection,
#: which no dlc test uses, and no dlc test has met a known LNet bug on IPv4 nodes.
ALWAYS_EXCEPT = {}

#: Errnos as LNet reports them (negative).
ENOENT = -2
ENODEV = -19
EEXIST = -17
EINVAL = -22
ENETDOWN = -100


def always_except(ctx):
    """SKIP the test when LNet is known to get it wrong, naming the ticket."""
    ticket = ALWAYS_EXCEPT.get(ctx.test.rsplit("/", 1)[-1])
    if ticket:
        skip(f"always_except: LNet bug {ticket}")


def start(ctx):
    """LNet up with no network but lo (`lutf.provision.start_bare`); SKIP where Lustre is
    absent or the node has no usable interface. Returns the usable interface names."""
    always_except(ctx)
    return provision.start_bare(ctx, 1)


def stop(ctx):
    """Takes LNet down (`lutf.provision.stop`), after setting back the router check
    parameters a test changed (`fast_router_checks`)."""
    restore_router_checks()
    provision.stop(ctx)


interfaces = provision.interfaces


def nets(shown=None):
    """The net types configured (sorted), from `net show`."""
    shown = lnet.show_net() if shown is None else shown
    return sorted(n["net type"] for n in shown.get("net") or [])


def nis(net=None, detail=0):
    """The local NIs (dicts from `net show`) of `net`, or of every net but lo."""
    out = []
    for n in lnet.show_net(net=net, detail=detail).get("net") or []:
        if n["net type"] == "lo":
            continue
        out.extend(n.get("local NI(s)") or [])
    return out


def nids(net=None):
    """The local NIDs (sorted), lo left out."""
    return sorted(ni["nid"] for ni in nis(net))


#: The whole configuration, peers and routes sorted (`lnetctl export --backup`).
backup = lnet.backup


def routes(**filters):
    """The routes `route show` lists with these filters, as (net, gateway, hop, priority)."""
    shown = lnet.show_route(detail=True, **filters) or {}
    return sorted(
        (r["net"], r["gateway"], r.get("hop"), r.get("priority"))
        for r in shown.get("route") or []
    )


#: LNet refuses a call with an errno and the configuration stays as it was.
refused = lnet.refused


def nid_of(address, net="tcp"):
    """The NID of an IPv4 address on `net`."""
    return f"{address}@{net}"


def globals_now():
    """The global settings `global show` lists, as a dict."""
    return dict(lnet.show_global()["global"])


def restore_globals(saved, keys):
    """Sets each of `keys` back to its `saved` value (cleanup of tests that change globals)."""
    for key in keys:
        if key in saved:
            lnet.set_global(key, saved[key])


def fake_gateway(ctx, host=250, net="tcp"):
    """A gateway NID on the subnet of the node's first address (no node answers there)."""
    return nid_of(ctx.node.addresses[0].rsplit(".", 1)[0] + f".{host}", net)


def stats():
    """LNet's counters (`stats show`), as a dict of ints."""
    return {k: int(v) for k, v in (lnet.show_stats().get("statistics") or {}).items()}


def end_node(ctx, net, index, route=None):
    """LNet up with one NI on `net` over the node's interface number `index`, router checks
    fast (routed tests), and a route (remote net, gateway NID) when given; its NID."""
    ifaces = start(ctx)
    if len(ifaces) <= index:
        skip(f"needs {index + 1} usable interfaces, {ctx.node.name} has {len(ifaces)}")
    fast_router_checks()
    lnet.add_ni(net, [ifaces[index]])
    if route:
        lnet.add_route(*route)
    return nid_of(ctx.node.addresses[index], net)


def router_node(ctx, nets=("tcp", "tcp1")):
    """LNet up as a router between `nets` (interfaces 1 and 2), routing on; net -> its NID.

    Its buffer counts come from the testbed's module options (small guests)."""
    ifaces = interfaces(ctx, 2)
    start(ctx)
    fast_router_checks()
    out = {}
    for index, net in enumerate(nets):
        lnet.add_ni(net, [ifaces[index]])
        out[net] = nid_of(ctx.node.addresses[index], net)
    lnet.set_routing(True)
    return out


#: lnet module parameters that pace router checks, and where their saved values are kept.
ROUTER_CHECKS = {"alive_router_check_interval": 10, "router_ping_timeout": 5}
PARAMS = "/sys/module/lnet/parameters/"
SAVED_CHECKS = "/tmp/lutf-dlc-router-checks.json"


def fast_router_checks():
    """Router checks every 10 s (5 s ping timeout) instead of LNet's 60 s and 50 s.

    A router enables forwarding that long after `set routing 1`, and its peers see it up at
    their next check: with the defaults a routed test waits minutes. The old values are
    saved on the node and `stop` restores them."""
    import json
    import os

    if not os.path.exists(SAVED_CHECKS):
        saved = {k: open(PARAMS + k).read().strip() for k in ROUTER_CHECKS}
        with open(SAVED_CHECKS, "w") as f:
            json.dump(saved, f)
    for key, value in ROUTER_CHECKS.items():
        with open(PARAMS + key, "w") as f:
            f.write(str(value))


def restore_router_checks():
    """Sets the router check parameters back to what `fast_router_checks` saved."""
    import json
    import os

    if not os.path.exists(SAVED_CHECKS):
        return
    with open(SAVED_CHECKS) as f:
        saved = json.load(f)
    for key, value in saved.items():
        with open(PARAMS + key, "w") as f:
            f.write(value)
    os.remove(SAVED_CHECKS)


def wait_gateway_down(ctx, net, gateway, seconds=300):
    """Waits until the route to `net` through `gateway` shows down; the routes' states."""
    import time

    deadline = time.time() + seconds
    while True:
        states = {r["gateway"]: r.get("state")
                  for r in (lnet.show_route(net=net, detail=True) or {}).get("route") or []}
        if states.get(gateway) == "down":
            return states
        if time.time() > deadline:
            fail(f"route to {net} via {gateway} still {states.get(gateway)} after {seconds} s")
        time.sleep(5)


def restore_routing(buffers):
    """Routing off and the router buffer counts set back to `buffers` (when known)."""
    lnet.set_routing(False)
    if buffers:
        lnet.set_buffers(**buffers)


def wait_route_up(ctx, net, seconds=180):
    """Waits until every route to `net` shows state up (routers are checked by pings); the routes."""
    import time

    deadline = time.time() + seconds
    while True:
        shown = (lnet.show_route(net=net, detail=True) or {}).get("route") or []
        if shown and all(r.get("state") == "up" for r in shown):
            return shown
        if time.time() > deadline:
            fail(f"route to {net} not up after {seconds} s on {ctx.node.name}: {shown}")
        time.sleep(2)


def ping_ok(nid, timeout=20):
    """Pings `nid` and returns the NIDs it answered with (the ping must succeed)."""
    reply = lnet.ping(nid, timeout=timeout)
    out = []
    for p in reply.get("ping") or []:
        for net in p.get("peer ni") or p.get("net") or []:
            out.extend(ni["nid"] for ni in (net.get("local NI(s)") or [net]) if "nid" in ni)
        if p.get("primary nid"):
            out.append(p["primary nid"])
    return sorted(set(out))
