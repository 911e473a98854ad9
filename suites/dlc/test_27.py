"""Peers described in YAML are created by import with their NIDs and removed by import --del."""
from lutf import Test, lnet

import common

test = Test()

YAML = """peer:
    - primary nid: 192.0.2.11@tcp
      Multi-Rail: True
      peer ni:
        - nid: 192.0.2.11@tcp
        - nid: 192.0.2.12@tcp
    - primary nid: 192.0.2.21@tcp
      Multi-Rail: True
      peer ni:
        - nid: 192.0.2.21@tcp
"""


def shown():
    return sorted(
        (p["primary nid"], tuple(sorted(ni["nid"] for ni in p.get("peer ni") or [])))
        for p in (lnet.show_peer() or {}).get("peer") or []
    )


@test.step(timeout=300)
def yaml_peers(ctx):
    """yaml_config of two peers (2 and 1 NIDs); peer show has exactly them; yaml_del leaves none."""
    common.start(ctx)
    lnet.yaml_config(YAML)
    want = [("192.0.2.11@tcp", ("192.0.2.11@tcp", "192.0.2.12@tcp")),
            ("192.0.2.21@tcp", ("192.0.2.21@tcp",))]
    got = shown()
    assert got == want, got
    lnet.yaml_del(YAML)
    assert shown() == [], shown()
    return [p[0] for p in got]


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
