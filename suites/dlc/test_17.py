"""A NID that belongs to one peer cannot be added to another (EEXIST); both peers stay as they were."""
from lutf import Test, lnet

import common

test = Test()


@test.step(timeout=300)
def nid_taken(ctx):
    """Peer A has 192.0.2.2@tcp; peer B with that NID is refused with -EEXIST; peer show unchanged."""
    common.start(ctx)
    lnet.add_peer(["192.0.2.2@tcp"], primary="192.0.2.1@tcp")
    lnet.add_peer([], primary="192.0.2.5@tcp")
    return common.refused(common.EEXIST, "peer add 192.0.2.2@tcp to 192.0.2.5@tcp",
                          lnet.add_peer, ["192.0.2.2@tcp"], primary="192.0.2.5@tcp")


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
