"""Multi-rail, local statuses LNet resends on: each makes a ping fail after exactly retry_count resends (one failed resend, none successful) and lowers the client's local health, not the server's."""
from lutf import Test
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.MR}, "server": {"nets": common.MR}}, globals=common.GLOBALS))
common.begin(test)


@test.step(role="client", timeout=600)
def local_resends(ctx):
    """For each resendable local status: rules from both client NIs to every NID, one ping; resend_count grows by retry_count, failed_resends by 1."""
    common.fresh(ctx)
    server = ctx.nids["server"]
    assert common.discover(server[0]) == sorted(server), "the server is not one peer of 2 NIs"
    retries = common.global_value("retry_count")
    assert retries == common.RETRY_COUNT, f"retry_count is {retries}"
    seen = {}
    for status in common.LOCAL_RESEND:
        d = common.status_round(ctx, status, server[0], server)
        got = (d["resends"], d["failed_resends"], d["successful_resends"])
        assert got == (retries, 1, 0), \
            f"{status}: (resends, failed, successful) = {got}, expected ({retries}, 1, 0): {d}"
        assert d[f"{status}_count"] >= retries + 1, f"{status}: counted {d[f'{status}_count']}"
        assert d["local"][1] < d["local"][0], f"{status}: local health did not drop: {d['local']}"
        assert d["remote"][1] == d["remote"][0], f"{status}: the server's health moved: {d}"
        seen[status] = {"local": d["local"], "resends": d["resends"]}
    return seen
