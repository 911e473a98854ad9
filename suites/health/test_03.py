"""Multi-rail, local_error: the ping fails with no resend at all although the client has another NI, and the client's local health drops."""
from lutf import Test
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.MR}, "server": {"nets": common.MR}}, globals=common.GLOBALS))
common.begin(test)


@test.step(role="client", timeout=600)
def local_error(ctx):
    """Rules local_error from both client NIs to every NID, one ping: fails, no resend, local health lower, server's health unchanged."""
    common.fresh(ctx)
    server = ctx.nids["server"]
    assert common.discover(server[0]) == sorted(server), "the server is not one peer of 2 NIs"
    d = common.status_round(ctx, "local_error", server[0], server)
    got = (d["resends"], d["failed_resends"], d["successful_resends"])
    assert got == (0, 0, 0), f"local_error was resent: (resends, failed, successful) = {got}"
    assert d["local_error_count"] >= 1, f"local_error not counted: {d}"
    assert d["local"][1] < d["local"][0], f"local health did not drop: {d['local']}"
    assert d["remote"][1] == d["remote"][0], f"the server's health moved: {d['remote']}"
    return {"local": d["local"], "ping": d["ping"]}
