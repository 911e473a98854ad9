"""Multi-rail, one-shot drop: with the first GET to each server NID dropped, a ping still succeeds by resend, counted once in successful_resends and never in failed_resends, for each status LNet resends on.

A rule at rate 2 drops the first message it matches and passes the second (lnet_drop_rule_add
special-cases rate 2 for this). There is one such rule per server NID, from `*@tcp`, so that
the client's recovery pings to its own NIs (which a local status triggers) never meet a
rule; a resend to the other server NID meets that NID's fresh rule and may be dropped once
more, so the ping takes 1 or 2 resends, within retry_count (2).

health_sensitivity stays at 100 here: LNet turns resends off with health (sensitivity_set
in api-ni.c sets retry_count to 0 when health_sensitivity becomes 0)."""
from lutf import Test, faults, lnet
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.MR}, "server": {"nets": common.MR}}, globals=common.GLOBALS))
common.begin(test)


@test.step(role="client", timeout=900)
def resent_once(ctx):
    """For each resendable status: rules *@tcp -> each server NID, 1 in 2, first dropped; one ping: answered, successful_resends +1, failed_resends +0, resends 1..retry_count."""
    common.fresh(ctx)
    server = ctx.nids["server"]
    assert common.discover(server[0]) == sorted(server), "the server is not one peer of 2 NIs"
    retries = common.global_value("retry_count")
    assert retries == common.RETRY_COUNT, f"retry_count is {retries}"
    seen = {}
    for status in common.LOCAL_RESEND + common.REMOTE_RESEND:
        before = common.view(server[0])
        common.health_rules(status, ["*@tcp"], server, rate=2)
        try:
            lnet.ping(server[0], timeout=common.TRANSACTION_TIMEOUT)
            after = common.view(server[0])
            dropped = sum(r["dropped"] for r in faults.list()["drop"])
        finally:
            faults.clear()
        d = common.change(before, after)
        ctx.log(f"{status}: dropped {dropped}; {d}")
        common.reset_health()
        assert (d["successful_resends"], d["failed_resends"]) == (1, 0), \
            f"{status}: successful_resends +{d['successful_resends']}, failed_resends +{d['failed_resends']}"
        assert 1 <= d["resends"] <= retries, f"{status}: {d['resends']} resends"
        assert d[f"{status}_count"] >= d["resends"], f"{status}: counted {d[f'{status}_count']}"
        assert dropped >= 1, f"{status}: the rules dropped nothing"
        seen[status] = {"resends": d["resends"], "dropped": dropped}
    return seen
