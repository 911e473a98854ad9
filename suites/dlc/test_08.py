"""NI tunables given at net add (peer_credits, peer_timeout, peer_buffer_credits, credits) show as given."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)

TUNABLES = {"peer_credits": 16, "peer_timeout": 50, "peer_buffer_credits": 4, "credits": 128}


@test.step(timeout=300)
def tunables(ctx):
    """net add with tunables; net show -v shows each of them on the NI."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]], tunables=TUNABLES)
    ni = common.nis("tcp", detail=1)
    assert len(ni) == 1, ni
    shown = ni[0]["tunables"]
    for key, value in TUNABLES.items():
        assert int(shown[key]) == value, f"{key}: shown {shown[key]}, set {value}"
    return shown


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
