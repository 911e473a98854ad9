"""Multi-rail, network_timeout: the ping fails with no resend; both the client's local health and the server's health (as the client sees it) drop."""
from lutf import Test
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.MR}, "server": {"nets": common.MR}}, globals=common.GLOBALS))
common.begin(test)


@test.step(role="client", timeout=600)
def network_timeout(ctx):
    """Rules network_timeout from both client NIs to every NID, one ping: fails, no resend, local and remote health lower."""
    common.fresh(ctx)
    server = ctx.nids["server"]
    assert common.discover(server[0]) == sorted(server), "the server is not one peer of 2 NIs"
    d = common.status_round(ctx, "network_timeout", server[0], server)
    got = (d["resends"], d["failed_resends"], d["successful_resends"])
    assert got == (0, 0, 0), f"network_timeout was resent: {got}"
    assert d["network_timeout_count"] >= 1, f"network_timeout not counted: {d}"
    assert d["local"][1] < d["local"][0], f"local health did not drop: {d['local']}"
    assert d["remote"][1] < d["remote"][0], f"remote health did not drop: {d['remote']}"
    return {"local": d["local"], "remote": d["remote"], "ping": d["ping"]}
