"""lnet_selftest brw write of 4 KiB and of 1 MiB from a group of two clients to a group of two servers: lst's rates and bandwidth above 0 on both sides and no error node (needs 4 nodes)."""
from lutf import Test
from lutf.provision import LNet

from common import brw

ROLES = ["client1", "client2", "server1", "server2"]
test = Test(roles=ROLES, lnet=LNet({r: {"nets": {"tcp": [0]}} for r in ROLES},
                                   modules={"lnet_selftest": {}}))


@test.step(role="client1", timeout=300)
def write(ctx):
    """brw write 4k, then 1M, clients -> servers."""
    return {size: brw(ctx, ["client1", "client2"], ["server1", "server2"], "write", size)
            for size in ("4k", "1M")}
