"""Peers through YAML (lnetctl import): NID ranges and lists are expanded; import --del of one non-primary NI removes only that NI."""
from lutf import Test, lnet

import common

test = Test()

A, B = common.PEER_NET_A, common.PEER_NET_B


@test.step(timeout=300)
def yaml_peers(ctx):
    """import peer A.1@tcp with A.[2-4]@tcp, A.[6,8]@tcp and B.5@tcp: 7 NIDs; import --del of [A.1, ni A.3]: A.3 alone gone."""
    common.start(ctx)
    primary = f"{A}.1@tcp"
    lnet.yaml_config(common.peer_yaml({primary: [f"{A}.[2-4]@tcp", f"{A}.[6,8]@tcp",
                                                 f"{B}.5@tcp"]}))
    want = sorted(common.host_nids(A, [1, 2, 3, 4, 6, 8]) + [f"{B}.5@tcp"])
    assert common.peer_nids() == {primary: want}, f"peer show: {common.peer_nids()}"
    assert common.exported_peers() == {primary: (True, want)}, common.exported_peers()
    lnet.yaml_del(f"""peer:
    - primary nid: {primary}
      peer ni:
        - nid: {A}.3@tcp
""")
    left = [n for n in want if n != f"{A}.3@tcp"]
    assert common.peer_nids() == {primary: left}, common.peer_nids()
    return left


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
