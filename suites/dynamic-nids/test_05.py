"""dynamic_nids=1 on the MDS only: after the OST server's NID changes (moved to its second interface) the MDS's OSP connects to the new NID but the client's OSC does not learn it, and a write does not get through (bounded to 30 s).

The OST stays mounted (wbcfs targets live in RAM) and LNet moves underneath it: the OSS deletes net tcp and adds it again on its second interface; the target tells the MGS its new NIDs and the MGS's imperative recovery passes them on (see common.py). LNet discovery is off, so only Lustre can redirect the imports. Needs 3 nodes, 2 interfaces on the OSS."""
from lutf import Test

import common
from common import ROLES, file_system, lnet_description

#: dynamic_nids on each side for this test.
ON = {"mds": True, "client": False}

test = Test(roles=ROLES, interfaces={"oss": 2}, lnet=lnet_description(), fs=file_system())


@test.step(role=["mds", "client"], timeout=60)
def setting(ctx):
    """mgc.*.dynamic_nids = ON[role], read back."""
    return common.step_setting(ctx, ON)


@test.step(role="client", after=[setting], timeout=180)
def before(ctx):
    """A 4 MiB write goes through on the OST's first NID."""
    return common.step_before(ctx)


@test.step(role="mds", after=[before])
def version_before(ctx):
    """The MGS's NID table version and the OSP's import before the move."""
    return common.step_version_before(ctx)


@test.step(role="oss", after=[version_before], timeout=120)
def move(ctx):
    """With the OST mounted, LNet moves: net tcp deleted, added again on the second interface."""
    return common.move_oss(ctx)


@test.step(role="mds", after=[version_before, move], timeout=300)
def table(ctx):
    """The MGS's NID table changes and settles."""
    return common.step_table(ctx, ctx.result(version_before)["nidtbl_version"])


@test.step(role="mds", after=[table], timeout=360)
def mds_view(ctx):
    """The MDT's OSP import gets a connection to the OST's new NID and is FULL on it."""
    return common.step_view(ctx, "mds", ON["mds"], ctx.result(table))


@test.step(role="client", after=[table], timeout=180)
def client_view(ctx):
    """dynamic_nids 0 on the client: its OSC import gets no connection to the new NID."""
    return common.step_view(ctx, "client", ON["client"], ctx.result(table))


@test.step(role="client", after=[mds_view, client_view], timeout=240)
def io(ctx):
    """A 4 MiB write to a new file does not end well within 30 s: the client cannot reach the OST."""
    return common.step_io(ctx, works=False)


@test.cleanup(role="oss")
def restore(ctx):
    """The OSS back on its first interface, so that the file system unmounts."""
    return common.step_restore(ctx)


@test.cleanup(role="client", after=[restore, io], timeout=300)
def settle(ctx):
    """A write left waiting ends once the OST is back."""
    return common.step_client_settle(ctx, ctx.results.get(io))
