"""lnetctl peer set --health, multi-rail: the server has two NIs: --nid sets the health of that peer NI only, --all of every peer NI; 0 and 500 read back as set, then --all 1000 restores every peer NI.

Like sanity-lnet 502. health_sensitivity is 0, so that recovery pings (the peer NIs set
below 1000 go on the recovery queue) neither raise nor lower a value before it is read."""
from lutf import Test
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.MR}, "server": {"nets": common.MR}},
    globals=dict(common.GLOBALS, health_sensitivity=0)))
common.begin(test)


def healths():
    return {nid: e["health"] for nid, e in common.peer_nis().items()}


@test.step(role="client", timeout=600)
def peer_set(ctx):
    """For 0 and 500: --nid the server's first NID, then --all; each read back on every peer NI; --all 1000 after each."""
    common.fresh(ctx)
    server = ctx.nids["server"]
    assert common.discover(server[0]) == sorted(server), f"discovery of {server[0]}"
    start = healths()
    assert set(server) <= set(start) and all(h == common.MAX_HEALTH for h in start.values()), start
    seen = {}
    for value in (0, 500):
        for nid in (server[0], None):
            common.set_health("peer", value, nid)
            got = healths()
            want = {n: (value if nid is None or n == nid else common.MAX_HEALTH) for n in got}
            assert got == want, f"peer set --health {value} {nid or '--all'}: {got}, expected {want}"
            if nid:
                assert nid in common.in_recovery("peer"), f"{nid} at {value} is not in recovery"
            common.set_health("peer", common.MAX_HEALTH)
            back = healths()
            assert all(h == common.MAX_HEALTH for h in back.values()), f"--all 1000 left {back}"
            seen[f"{value} {nid or '--all'}"] = got
    return seen
