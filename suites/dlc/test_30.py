"""An ip2nets rule whose IP pattern matches the node's first address (and one that matches no address) configures only the matching net."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)

YAML = """ip2nets:
    - net-spec: tcp
      interfaces:
          0: {iface}
      ip-range:
          0: {pattern}
    - net-spec: tcp8
      interfaces:
          0: {iface}
      ip-range:
          0: 203.0.113.*
"""


@test.step(timeout=300)
def ip2nets(ctx):
    """yaml_config of ip2nets rules: tcp with a.b.c.* of the first address, tcp8 with 203.0.113.*; only tcp is added, with the address's NID."""
    ifaces = common.start(ctx)
    address = ctx.node.addresses[0]
    pattern = address.rsplit(".", 1)[0] + ".*"
    lnet.yaml_config(YAML.format(iface=ifaces[0], pattern=pattern))
    assert common.nets() == ["lo", "tcp"], common.nets()
    assert common.nids() == [common.nid_of(address)], common.nids()
    return {"pattern": pattern, "nids": common.nids()}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
