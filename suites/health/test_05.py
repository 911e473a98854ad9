"""Multi-rail, remote statuses: remote_dropped is resent retry_count times, remote_error and remote_timeout never; each lowers the server's health as the client sees it and leaves the client's own."""
from lutf import Test
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.MR}, "server": {"nets": common.MR}}, globals=common.GLOBALS))
common.begin(test)


@test.step(role="client", timeout=600)
def remote_statuses(ctx):
    """For each remote status: rules from both client NIs to every NID, one ping; resends as LNet's table says, remote health lower, local unchanged."""
    common.fresh(ctx)
    server = ctx.nids["server"]
    assert common.discover(server[0]) == sorted(server), "the server is not one peer of 2 NIs"
    retries = common.global_value("retry_count")
    seen = {}
    for status in common.REMOTE_RESEND + common.REMOTE_NO_RESEND:
        d = common.status_round(ctx, status, server[0], server)
        want = (retries, 1, 0) if status in common.REMOTE_RESEND else (0, 0, 0)
        got = (d["resends"], d["failed_resends"], d["successful_resends"])
        assert got == want, f"{status}: (resends, failed, successful) = {got}, expected {want}"
        assert d[f"{status}_count"] >= 1, f"{status}: not counted in stats show: {d}"
        assert d["remote"][1] < d["remote"][0], f"{status}: remote health did not drop: {d}"
        assert d["local"][1] == d["local"][0], f"{status}: local health moved: {d['local']}"
        seen[status] = {"remote": d["remote"], "resends": d["resends"]}
    return seen
