"""Single rail, network_timeout: the ping fails with no resend; the client's local health drops, the server's does not (a single-NI peer gets no health penalty)."""
from lutf import Test
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.SR}, "server": {"nets": common.SR}}, globals=common.GLOBALS))
common.begin(test)


@test.step(role="client", timeout=600)
def network_timeout(ctx):
    """Rules network_timeout client -> server and client -> client, one ping: fails, no resend, local health lower, remote unchanged."""
    common.fresh(ctx)
    server = ctx.nids["server"][0]
    common.discover(server)
    d = common.status_round(ctx, "network_timeout", server, [server])
    got = (d["resends"], d["failed_resends"], d["successful_resends"])
    assert got == (0, 0, 0), f"network_timeout was resent: {got}"
    assert d["network_timeout_count"] >= 1, f"network_timeout not counted: {d}"
    assert d["local"][1] < d["local"][0], f"local health did not drop: {d['local']}"
    assert d["remote"][1] == d["remote"][0], f"the single-rail server's health moved: {d['remote']}"
    return {"local": d["local"], "remote": d["remote"], "ping": d["ping"]}
