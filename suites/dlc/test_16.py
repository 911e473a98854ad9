"""Deleting a peer that does not exist, or a NID its peer does not have, is refused with ENOENT; peers unchanged."""
from lutf import Test, lnet

import common

test = Test()


@test.step(timeout=300)
def del_missing_peer(ctx):
    """peer del of an unknown primary, and of a NID not in the peer, fail with -ENOENT."""
    common.start(ctx)
    lnet.add_peer(["192.0.2.2@tcp"], primary="192.0.2.1@tcp")
    a = common.refused(common.ENOENT, "peer del 192.0.2.9@tcp", lnet.del_peer, "192.0.2.9@tcp")
    b = common.refused(common.ENOENT, "peer del --nid 192.0.2.7@tcp", lnet.del_peer,
                       "192.0.2.1@tcp", ["192.0.2.7@tcp"])
    return {"unknown peer": a, "unknown nid": b}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
