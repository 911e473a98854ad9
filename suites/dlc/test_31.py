"""socklnd tunables given at net add (conns_per_peer, tos) show in the NI's lnd tunables."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)

WANT = {"conns_per_peer": 4, "tos": 104}


@test.step(timeout=300)
def lnd_tunables(ctx):
    """net add tcp with conns_per_peer 4 and tos 104; net show -v lists both on the NI."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]], lnd_tunables=WANT)
    ni = common.nis("tcp", detail=1)
    assert len(ni) == 1, ni
    shown = ni[0].get("lnd tunables") or {}
    got = {k: int(shown[k]) for k in WANT if k in shown}
    assert got == WANT, f"lnd tunables shown {shown}, set {WANT}"
    return shown


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
