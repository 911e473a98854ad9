"""A ping to a peer whose LNet is down fails quickly: well within the ping's own timeout (sanity-lnet 252), and the failure is counted as a health event, not waited out.

The server unconfigures LNet; socklnd on the client then cannot connect, the GET completes
with an error at once and the ping returns, instead of waiting its 15 s timeout.
transaction_timeout is 10 s (see common.py), below the ping's timeout, so even a message
that met no error would be given up before the ping's own deadline."""
import time

from lutf import Test, lnet
from lutf.provision import LNet

import common

PING_TIMEOUT = 15

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.SR}, "server": {"nets": common.SR}}, globals=common.GLOBALS))
common.begin(test)


@test.step(role="client", timeout=300)
def answered(ctx):
    """The server answers while its LNet is up."""
    common.fresh(ctx)
    lnet.ping(ctx.nids["server"][0], timeout=PING_TIMEOUT)


@test.step(role="server", after=[answered], timeout=300)
def server_down(ctx):
    """lnetctl lnet unconfigure on the server."""
    lnet.unconfigure()


@test.step(role="client", after=[server_down], timeout=300)
def fails_fast(ctx):
    """The ping fails in less than its 15 s timeout; stats show counted an error."""
    server = ctx.nids["server"][0]
    before = common.counters()
    t = time.monotonic()
    why, seconds = common.ping_fails(server, timeout=PING_TIMEOUT)
    after = common.counters()
    d = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    ctx.log(f"ping failed after {seconds} s: {why}; counters moved: {d}")
    assert time.monotonic() - t < PING_TIMEOUT, f"the ping took {seconds} s, its timeout is {PING_TIMEOUT}"
    statuses = {k: v for k, v in d.items() if k.endswith("_count") and ("local_" in k or "remote_" in k or "network_" in k)}
    assert statuses, f"no health status counted for the failed ping: {d}"
    return {"seconds": seconds, "error": why, "counted": statuses}
