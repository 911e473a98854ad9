"""Single rail, remote statuses: each makes a ping fail with no resend and changes no health value, local or remote (a single-NI peer has nowhere else to go)."""
from lutf import Test
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.SR}, "server": {"nets": common.SR}}, globals=common.GLOBALS))
common.begin(test)


@test.step(role="client", timeout=600)
def remote_statuses(ctx):
    """For each remote status: rules client -> server and client -> client, one ping; it fails, <status>_count grows, no resend, both health sums unchanged."""
    common.fresh(ctx)
    server = ctx.nids["server"][0]
    common.discover(server)
    seen = {}
    for status in common.REMOTE_RESEND + common.REMOTE_NO_RESEND:
        d = common.status_round(ctx, status, server, [server])
        assert d[f"{status}_count"] >= 1, f"{status}: not counted in stats show: {d}"
        got = (d["resends"], d["failed_resends"], d["successful_resends"])
        assert got == (0, 0, 0), f"{status}: resent to a single-rail peer: {got}"
        assert d["local"][1] == d["local"][0], f"{status}: local health moved: {d['local']}"
        assert d["remote"][1] == d["remote"][0], f"{status}: remote health moved: {d['remote']}"
        seen[status] = {"remote": d["remote"], "ping": d["ping"]}
    return seen
