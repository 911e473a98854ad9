"""route show filters: nine routes with hops 1-9 and priorities 0-8 over two gateways; each filter lists exactly its matches."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=600)
def filtered(ctx):
    """Routes tcp11..tcp19 (hop i, priority i-1, gateways alternate); show by net, hop, priority, gateway."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    gws = [common.fake_gateway(ctx, 250), common.fake_gateway(ctx, 251)]
    added = []
    for i in range(1, 10):
        route = (f"tcp1{i}", gws[i % 2], i, i - 1)
        lnet.add_route(route[0], route[1], hops=route[2], priority=route[3])
        added.append(route)
    added.sort()
    assert common.routes() == added, common.routes()
    assert common.routes(net="tcp14") == [r for r in added if r[0] == "tcp14"]
    assert common.routes(hops=5) == [r for r in added if r[2] == 5], common.routes(hops=5)
    assert common.routes(priority=7) == [r for r in added if r[3] == 7]
    assert common.routes(gateway=gws[0]) == [r for r in added if r[1] == gws[0]]
    assert common.routes(net="tcp13", gateway=gws[0]) == []
    return len(added)


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
