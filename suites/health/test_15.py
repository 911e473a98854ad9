"""A router sees a client's NI go down and come back: the client's downed NI (health 0, sending nothing) is `down` in the router's peer show and stays so while its other NI stays `up` and traffic through the router goes on; recovered, it is `up` there again (sanity-lnet 236).

client (tcp on both interfaces: two NIs) -- router (tcp + tcp1) -- server (tcp1). The
client's NI status travels in its ping data: LNet writes a status change into the ping
buffer in place (lnet_ni_set_status) and pushes nothing, so the router learns it when it
next pings the client: it asks with `lnetctl discover --force` of the NI that is up, every
round until it sees the change; a discovery's merge copies each NI's status into the state
`peer show` prints. A `down` lasts there only while no message comes from that NI (the
router marks a peer NI up on any message from it, and pings a downed one for recovery a
second later), and on the client an NI at health 0 goes back up by itself after ten
messages that complete on it (see common.py): sanity-lnet's rule (nid1 -> nid1 GETs) stops
neither, and the router's view was `down` a second at most, or never. So here nid1 sends
nothing, as an NI that is really down: drop rules from nid1 to *@tcp and *@tcp1 report
local_timeout (its recovery pings, its replies to the router, anything it would route).
Router checks run every 5 s (FAST_CHECKS)."""
from lutf import Test, faults, lnet, provision
from lutf.provision import LNet

import common

test = Test(roles=["client", "router", "server"], lnet=LNet({
    "client": {"nets": common.MR, "routes": {"tcp1": "router"}},
    "router": {"nets": {"tcp": [0], "tcp1": [1]}, "routing": True,
               "buffers": {"tiny": 512, "small": 512, "large": 64}},
    "server": {"nets": {"tcp1": [1]}, "routes": {"tcp": "router"}},
}, globals=common.GLOBALS, modules={"lnet": common.FAST_CHECKS}))
common.begin(test)

#: Rounds (each a forced discovery and a peer show) the router's `down` must last.
STAYS = 3


def router_view(nids, ask):
    """One round: ``lnetctl discover --force`` of `ask` (a fresh ping of the client, its
    data merged), then the router's state of each of `nids` (every peer's: lnetctl's
    filtered dump, --nid, leaves the state out)."""
    lnet.lnetctl("discover", "--force", ask, check=False)
    peers = common.peer_nis()
    return {n: peers.get(n, {}).get("state") for n in nids}


def router_sees(nids, want, timeout=90):
    """Waits until the router's peer show gives each of `nids` its state in `want`, asking
    the client again each round through an NI that is up (the downed one answers nothing)."""
    ask = nids[want.index("up")] if "up" in want else nids[0]
    return common.wait_for(f"the router's view of {nids}", lambda: router_view(nids, ask),
                           lambda s: s == dict(zip(nids, want)), timeout=timeout, interval=3)


@test.step(role="client", timeout=600)
def routed(ctx):
    """Routes up; the server answers through the router."""
    common.fresh(ctx)
    provision.wait_routes(timeout=240)
    lnet.ping(ctx.nids["server"][0], timeout=common.TRANSACTION_TIMEOUT)


@test.step(role="router", after=[routed], timeout=600)
def both_up(ctx):
    """The router knows the client as one peer with both NIs up."""
    nids = ctx.nids["client"]
    assert common.discover(nids[0]) == sorted(nids), f"the router's discovery of {nids[0]}"
    return router_sees(nids, ["up", "up"])


@test.step(role="client", after=[both_up], timeout=600)
def first_down(ctx):
    """Rules nid1 -> *@tcp and *@tcp1, local_timeout (nid1 sends nothing, routed messages
    included); net set --health 0 on nid1: down here, nid2 up."""
    nid1, nid2 = ctx.nids["client"]
    for net in ("tcp", "tcp1"):
        faults.drop(src=nid1, dst=f"*@{net}", rate=1, health="local_timeout")
    common.set_health("net", 0, nid1)
    nis = common.local_nis()
    assert (nis[nid1]["status"], nis[nid2]["status"]) == ("down", "up"), nis
    return nis


@test.step(role="router", after=[first_down], timeout=600)
def router_sees_down(ctx):
    """The router's peer show: nid1 down, nid2 up, and still so after STAYS more rounds."""
    nids = ctx.nids["client"]
    seen = [router_sees(nids, ["down", "up"])]
    for _ in range(STAYS):
        seen.append(router_view(nids, nids[1]))
    assert all(s == seen[0] for s in seen), f"the router's view did not stay: {seen}"
    return seen


@test.step(role="client", after=[router_sees_down], timeout=600)
def first_back(ctx):
    """Traffic through the router goes on from nid2; rules removed, health 900: recovery
    brings nid1 up. (The ping names nid2 as its source: left to choose, LNet sent a routed
    ping and both its resends from nid1 at health 0 in run 20261207-181102-1022eb31, where
    the rules fail them; why it chose nid1 is not traced yet.)"""
    nid1, nid2 = ctx.nids["client"]
    for _ in range(3):
        lnet.ping(ctx.nids["server"][0], timeout=common.TRANSACTION_TIMEOUT, source=nid2)
    faults.clear()
    common.set_health("net", 900, nid1)
    return common.wait_for(f"{nid1} up", common.local_nis,
                           lambda nis: nis[nid1]["status"] == "up", timeout=90, interval=2)


@test.step(role="router", after=[first_back], timeout=600)
def router_sees_up(ctx):
    """The router's peer show: both up again."""
    return router_sees(ctx.nids["client"], ["up", "up"])
