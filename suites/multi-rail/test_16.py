"""A NID another configured peer owns is refused (EEXIST), through liblnetconfig and through YAML; both peers stay as they were."""
from lutf import Test, lnet

import common

test = Test()

A, B = common.PEER_NET_A, common.PEER_NET_B


@test.step(timeout=300)
def owned_nid(ctx):
    """Peers A.1 (A.2) and B.1 (B.2): add A.2 to B.1; a peer with primary A.2; YAML of B.1 with A.1: each refused."""
    common.start(ctx)
    lnet.add_peer([f"{A}.2@tcp"], primary=f"{A}.1@tcp")
    lnet.add_peer([f"{B}.2@tcp"], primary=f"{B}.1@tcp")
    want = {f"{A}.1@tcp": sorted(common.host_nids(A, [1, 2])),
            f"{B}.1@tcp": sorted(common.host_nids(B, [1, 2]))}
    assert common.peer_nids() == want, common.peer_nids()
    out = {
        "secondary": common.refused(common.EEXIST, f"add {A}.2@tcp (A's) to peer {B}.1@tcp",
                                    lnet.add_peer, [f"{A}.2@tcp"], primary=f"{B}.1@tcp"),
        "as primary": common.refused(common.EEXIST, f"a new peer with primary {A}.2@tcp (A's)",
                                     lnet.add_peer, [f"{B}.9@tcp"], primary=f"{A}.2@tcp"),
        "yaml": common.refused(common.EEXIST, f"import of peer {B}.1@tcp with {A}.1@tcp",
                               lnet.yaml_config,
                               common.peer_yaml({f"{B}.1@tcp": [f"{A}.1@tcp"]})),
    }
    assert common.peer_nids() == want, common.peer_nids()
    return out


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
