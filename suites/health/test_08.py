"""Multi-rail, one-shot drop: with one message in two dropped (the first), a ping still succeeds by one resend, counted in successful_resends, for each status LNet resends on.

health_sensitivity is 0 here (set in the test's globals) so that no failure lowers a health
value: no NI goes on a recovery queue, and no recovery ping (a GET too) can take the rule's
one drop or its one pass before the ping does. The rule is a single `*@tcp -> *@tcp` one, so
a resend on any other pair of NIs meets the same rule's second message, which passes."""
from lutf import Test, faults, lnet
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.MR}, "server": {"nets": common.MR}},
    globals=dict(common.GLOBALS, health_sensitivity=0)))
common.begin(test)


@test.step(role="client", timeout=600)
def resent_once(ctx):
    """For each resendable status: rule 1 in 2 (first dropped), one ping: answered; resend_count +1, successful_resends +1, failed_resends +0; health unchanged."""
    common.fresh(ctx)
    server = ctx.nids["server"]
    assert common.discover(server[0]) == sorted(server), "the server is not one peer of 2 NIs"
    seen = {}
    for status in common.LOCAL_RESEND + common.REMOTE_RESEND:
        before = common.view(server[0])
        faults.drop(src="*@tcp", dst="*@tcp", rate=2, message="get", health=status)
        try:
            lnet.ping(server[0], timeout=common.TRANSACTION_TIMEOUT)
            rules = faults.list()["drop"]
            after = common.view(server[0])
        finally:
            faults.clear()
        d = common.change(before, after)
        ctx.log(f"{status}: {d}; rule: {rules}")
        got = (d["resends"], d["successful_resends"], d["failed_resends"])
        assert got == (1, 1, 0), f"{status}: (resends, successful, failed) = {got}, expected (1, 1, 0)"
        assert rules and rules[0]["dropped"] == 1, f"{status}: the rule dropped {rules}"
        assert d[f"{status}_count"] == 1, f"{status}: counted {d[f'{status}_count']} times"
        assert d["local"][0] == d["local"][1] and d["remote"][0] == d["remote"][1], \
            f"{status}: health moved with health_sensitivity 0: {d['local']} {d['remote']}"
        seen[status] = got
    return seen
