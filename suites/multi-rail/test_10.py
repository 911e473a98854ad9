"""ip2nets in YAML (lnetctl import): a rule with net-spec, interfaces and ip-range gives its NI; a rule without net-spec is refused and changes nothing."""
from lutf import Test, lnet

import common

test = Test(interfaces=2)


@test.step(timeout=300)
def yaml_ip2nets(ctx):
    """import ip2nets [net-spec tcp7, interfaces {0: if2}, ip-range {0: A2}]: A2@tcp7 on if2; without net-spec: refused."""
    i0, i1 = common.start(ctx, 2)[:2]
    a1 = common.address(ctx, i1)
    lnet.yaml_config(f"""ip2nets:
  - net-spec: tcp7
    interfaces:
        0: {i1}
    ip-range:
        0: {a1}
""")
    want = {"tcp7": [(f"{a1}@tcp7", i1, "up")]}
    assert common.layout() == want, f"import: {common.layout()}, expected {want}"
    bad = f"""ip2nets:
  - interfaces:
        0: {i0}
    ip-range:
        0: {common.address(ctx, i0)}
"""
    descr = common.refused(common.EINVAL, "import of an ip2nets rule without net-spec",
                           lnet.yaml_config, bad)
    assert common.layout() == want, common.layout()
    return {"nis": want, "refused": descr}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
