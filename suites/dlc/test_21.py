"""Routes described in YAML are added by import and removed by import --del of the same YAML."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)

YAML = """route:
    - net: tcp21
      gateway: {gw}
      hop: 2
      priority: 1
    - net: tcp22
      gateway: {gw}
    - net: tcp23
      gateway: {gw}
      hop: 5
"""


@test.step(timeout=300)
def yaml_routes(ctx):
    """yaml_config of three routes; show has them with their hops and priorities; yaml_del leaves none."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    gw = common.fake_gateway(ctx)
    text = YAML.format(gw=gw)
    lnet.yaml_config(text)
    got = common.routes()
    assert [(r[0], r[1]) for r in got] == [(n, gw) for n in ("tcp21", "tcp22", "tcp23")], got
    assert (got[0][2], got[0][3]) == (2, 1) and got[2][2] == 5, got
    lnet.yaml_del(text)
    assert common.routes() == [], common.routes()
    return got


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
