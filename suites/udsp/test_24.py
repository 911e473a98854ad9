"""Two nets, opposite rules on the two nodes (`--src tcp` on one, `--src tcp1` on the other): each node's pings go on its own preferred net."""
from lutf import Test, lnet
from lutf.provision import LNet

import common

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": common.TWO_NETS}, "server": {"nets": common.TWO_NETS}}))


def other(ctx):
    return "server" if ctx.role == "client" else "client"


@test.step(role=["client", "server"], timeout=300)
def rules(ctx):
    """The client prefers tcp, the server tcp1; each discovers the other."""
    net = "tcp" if ctx.role == "client" else "tcp1"
    lnet.add_udsp(src=net, priority=0)
    common.discover(ctx.nids[other(ctx)][0])
    return net


@test.step(role="client", after=[rules], timeout=600)
def client_pings(ctx):
    """The client's pings of the server all leave by its tcp NI."""
    d = common.counted_pings(ctx.nids["server"][0])
    return common.only(d["nis"], common.nid_on(ctx, "client", "tcp"), common.PINGS,
                       what="client, --src tcp")


@test.step(role="server", after=[client_pings], timeout=600)
def server_pings(ctx):
    """The server's pings of the client all leave by its tcp1 NI."""
    d = common.counted_pings(ctx.nids["client"][0])
    return common.only(d["nis"], common.nid_on(ctx, "server", "tcp1"), common.PINGS,
                       what="server, --src tcp1")
