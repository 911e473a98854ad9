"""YAML import --del naming a peer's primary NID removes the whole peer; two peers in one YAML go with one import --del."""
from lutf import Test, lnet

import common

test = Test()

A, B, C = common.PEER_NET_A, common.PEER_NET_B, common.PEER_NET_C


@test.step(timeout=300)
def yaml_del_primary(ctx):
    """Peers A.1 (3 NIDs), B.1 (2) and C.1 (3) imported; --del of [A.1, ni A.1]: A.1 gone; --del of B and C's YAML: none left."""
    common.start(ctx)
    peers = {
        f"{A}.1@tcp": common.host_nids(A, [2, 3]),
        f"{B}.1@tcp": common.host_nids(B, [2]),
        f"{C}.1@tcp": common.host_nids(C, [2, 3]),
    }
    lnet.yaml_config(common.peer_yaml(peers))
    want = {p: sorted([p] + n) for p, n in peers.items()}
    assert common.peer_nids() == want, common.peer_nids()
    lnet.yaml_del(f"""peer:
    - primary nid: {A}.1@tcp
      peer ni:
        - nid: {A}.1@tcp
""")
    del want[f"{A}.1@tcp"]
    assert common.peer_nids() == want, f"after deleting the primary NID: {common.peer_nids()}"
    rest = {p: peers[p] for p in want}
    lnet.yaml_del(common.peer_yaml(rest))
    assert common.peer_nids() == {}, common.peer_nids()
    assert not common.backup().get("peer"), common.backup()
    return sorted(peers)


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
