"""Importing YAML LNet cannot use (an unknown interface in a net) fails with LNet's errno and changes nothing."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)

YAML = """net:
    - net type: tcp6
      local NI(s):
        - interfaces:
              0: {missing}
"""


@test.step(timeout=300)
def bad_import(ctx):
    """tcp configured; yaml_config of tcp6 on an interface the node lacks fails (-EINVAL); export unchanged."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    present = [i["name"] for i in ctx.node.facts.get("interfaces", [])]
    missing = next(f"nosuch{n}" for n in range(100) if f"nosuch{n}" not in present)
    descr = common.refused(common.EINVAL, "import of tcp6 on " + missing, lnet.yaml_config,
                           YAML.format(missing=missing))
    assert common.nets() == ["lo", "tcp"], common.nets()
    return descr


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
