"""Single rail, local statuses: every local health status makes a ping fail, lowers the client NI's health and is counted, with no resend (the client has no other NI)."""
from lutf import Test
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.SR}, "server": {"nets": common.SR}}, globals=common.GLOBALS))
common.begin(test)


@test.step(role="client", timeout=600)
def local_statuses(ctx):
    """For each local status: rules client -> server and client -> client, one ping; it fails at once, the NI's health drops, <status>_count grows, resend counters stay."""
    common.fresh(ctx)
    server = ctx.nids["server"][0]
    common.discover(server)
    seen = {}
    for status in common.LOCAL_RESEND + common.LOCAL_NO_RESEND:
        d = common.status_round(ctx, status, server, [server])
        assert d[f"{status}_count"] >= 1, f"{status}: not counted in stats show: {d}"
        assert d["local"][1] < d["local"][0], f"{status}: local health did not drop: {d['local']}"
        assert (d["resends"], d["failed_resends"], d["successful_resends"]) == (0, 0, 0), \
            f"{status}: resends on a single-rail node: {d}"
        assert d["remote"][1] == d["remote"][0], f"{status}: the server's health moved: {d}"
        seen[status] = {"local": d["local"], "ping": d["ping"]}
    return seen
