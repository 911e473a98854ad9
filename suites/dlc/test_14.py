"""YAML import adds the nets it describes with their tunables; import --del of the same YAML removes them."""
from lutf import Test, lnet

import common

test = Test(interfaces=2)

YAML = """net:
    - net type: tcp3
      local NI(s):
        - interfaces:
              0: {if0}
          tunables:
              peer_timeout: 60
              peer_credits: 12
              credits: 96
    - net type: tcp4
      local NI(s):
        - interfaces:
              0: {if1}
"""


@test.step(timeout=300)
def yaml_nets(ctx):
    """yaml_config adds tcp3 (tunables as given) and tcp4 on the node's interfaces; yaml_del removes both."""
    ifaces = common.start(ctx)
    text = YAML.format(if0=ifaces[0], if1=ifaces[1])
    lnet.yaml_config(text)
    assert common.nets() == ["lo", "tcp3", "tcp4"], common.nets()
    assert common.nids("tcp3") == [common.nid_of(ctx.node.addresses[0], "tcp3")]
    assert common.nids("tcp4") == [common.nid_of(ctx.node.addresses[1], "tcp4")]
    tun = common.nis("tcp3", detail=1)[0]["tunables"]
    got = {k: int(tun[k]) for k in ("peer_timeout", "peer_credits", "credits")}
    assert got == {"peer_timeout": 60, "peer_credits": 12, "credits": 96}, tun
    lnet.yaml_del(text)
    assert common.nets() == ["lo"], common.nets()
    return got


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
