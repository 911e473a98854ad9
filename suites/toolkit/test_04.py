"""A Lustre file system on three nodes (MGS+MDT, OST, client, memory-backed targets): 16 MiB written and read back with the same checksum."""
from lutf import Test, fs
from lutf.fs import FileSystem
from lutf.provision import LNet

test = Test(
    roles=["mds", "oss", "client"],
    lnet=LNet({r: {"nets": {"tcp": [0]}} for r in ("mds", "oss", "client")}),
    fs=FileSystem(mgs="mds", mdt="mds", ost=["oss"], client=["client"], fsname="lutf"),
)


@test.step(role="client", timeout=600)
def write_read(ctx):
    """Write 16 MiB, read it back, compare the sha256."""
    r = fs.write_read_check(ctx.fs.client_mount + "/data", 16 << 20)
    ctx.log("round trip", r)
    ctx.run(["lfs", "df"], check=False)
    return r
