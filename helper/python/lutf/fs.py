"""`lutf.fs`: a small Lustre file system by roles, and a checked write and read-back.

Declared on the test, set up by the master after LNet (MGS and MDT first, then the OSTs,
then the clients) and torn down after the test in the reverse order::

    from lutf import Test
    from lutf.fs import FileSystem

    test = Test(roles=["mds", "oss", "client"],
                fs=FileSystem(mgs="mds", mdt="mds", ost=["oss"], client=["client"]))

    @test.step(role="client")
    def io(ctx):
        r = fs.write_read_check(ctx.fs.client_mount + "/f", 16 << 20)
        return r["sha256"]

Where the cluster file gives the role's node block devices (``targets: {mdt: /dev/sdb,
ost: /dev/sdc, backfs: ldiskfs}``, see src/cluster.rs), a target is formatted with
``mkfs.lustre --reformat`` (ldiskfs, or ZFS: a pool made on the device, or a given
``pool/dataset``) and mounted with ``mount -t lustre DEVICE <dir>``; `mkfs_argv` and
`mount_argv` build those commands. Elsewhere targets are Lustre's memory-backed
``osd-wbcfs`` (no device, no mkfs): a target is ``mount -t lustre lustre-wbcfs <dir>`` with
``OSD_WBC_*`` in the environment saying what it is. They live in RAM: unmounting loses
them. Mount points are under `BASE` (``/mnt``);
where it is read-only (VM guests sharing the host's root) a tmpfs is mounted there first.
The LNet the file system uses is the test's; without an LNet declaration every role of the
file system gets ``tcp`` on its first interface.
"""

import errno
import os
import time

from . import errors, process

__all__ = ["FileSystem", "write_read_check", "mount_target", "mount_client", "umount",
           "target_env", "mkfs_argv", "mount_argv", "target_device", "BASE"]

BASE = "/mnt"
_TMPFS_MARK = ".lutf-tmpfs"


def _roles(value, what):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise errors.DeclarationError(f"FileSystem({what}=...): a role or a list of roles, got {value!r}")


class FileSystem:
    """A Lustre file system by roles: `mgs` (defaults to the `mdt` role), `mdt` (one role),
    `ost` and `client` (roles). `fsname` at most 8 characters; `net` the LNet net its NIDs
    are on (default: the first net of the MGS role)."""

    def __init__(self, *, mgs=None, mdt, ost, client, fsname="lutf", net=None):
        self.mdt = _roles(mdt, "mdt")
        if len(self.mdt) != 1:
            raise errors.DeclarationError("FileSystem(mdt=...): one MDT role")
        self.mgs = _roles(mgs, "mgs") or list(self.mdt)
        if len(self.mgs) != 1:
            raise errors.DeclarationError("FileSystem(mgs=...): one MGS role")
        self.ost = _roles(ost, "ost")
        self.client = _roles(client, "client")
        if not self.ost or not self.client:
            raise errors.DeclarationError("FileSystem: needs at least one ost and one client role")
        if not isinstance(fsname, str) or not fsname.isalnum() or len(fsname) > 8:
            raise errors.DeclarationError(f"FileSystem(fsname=...): up to 8 letters or digits, got {fsname!r}")
        self.fsname = fsname
        self.net = net

    def roles(self):
        """Every role with a part, in set-up order."""
        out = []
        for r in self.mgs + self.mdt + self.ost + self.client:
            if r not in out:
                out.append(r)
        return out

    def server_roles(self):
        """Roles with the MGS or the MDT (set up first)."""
        return [r for r in self.roles() if r in self.mgs or r in self.mdt]

    def to_json(self):
        """The description as plain data."""
        return {"mgs": self.mgs[0], "mdt": self.mdt[0], "ost": self.ost,
                "client": self.client, "fsname": self.fsname, "net": self.net}

    @classmethod
    def from_json(cls, d):
        """The inverse of `to_json`."""
        return cls(mgs=d["mgs"], mdt=d["mdt"], ost=d["ost"], client=d["client"],
                   fsname=d["fsname"], net=d.get("net"))

    def summary(self):
        """One line for `lutf list` and `--dry-run`."""
        mgs = self.mgs[0] if self.mgs != self.mdt else f"{self.mgs[0]} (with the MDT)"
        return [f"lustre {self.fsname}: mgs {mgs}, mdt {self.mdt[0]}, "
                f"ost {', '.join(self.ost)}, client {', '.join(self.client)} "
                "(targets on the nodes' devices, else osd-wbcfs)"]

    @property
    def client_mount(self):
        """Where clients mount it."""
        return f"{BASE}/{self.fsname}"

    def mgs_nid(self, nids):
        """The MGS's NID from role -> NIDs, on `net` when given."""
        candidates = nids.get(self.mgs[0]) or []
        if self.net:
            candidates = [n for n in candidates if n.endswith("@" + self.net)]
        if not candidates:
            raise errors.Failed(f"the MGS role {self.mgs[0]} has no NID"
                                + (f" on {self.net}" if self.net else ""))
        return candidates[0]

    def ost_index(self, role):
        """The OST index of `role`."""
        return self.ost.index(role)


def _writable_base(log=print):
    """Makes `BASE` writable: a tmpfs on it where it is read-only."""
    probe = os.path.join(BASE, f".lutf-probe-{os.getpid()}")
    try:
        os.mkdir(probe)
        os.rmdir(probe)
        return False
    except OSError as e:
        if e.errno != errno.EROFS:
            raise
    log(f"{BASE} is read-only here: mounting a tmpfs on it")
    process.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=755", "lutf", BASE])
    open(os.path.join(BASE, _TMPFS_MARK), "w").close()
    return True


def target_env(kind, fsname, index, mgs_nid, primary_mdt=False):
    """The OSD_WBC_* environment of a wbcfs target (`kind` MGT, MDT or OST)."""
    env = {"OSD_WBC_TGT_TYPE": kind, "OSD_WBC_FSNAME": fsname, "OSD_WBC_INDEX": str(index),
           "OSD_WBC_MGS_NID": mgs_nid}
    if kind == "MDT":
        env["OSD_WBC_PRIMARY_MDT"] = "1" if primary_mdt else "0"
    return env


_TARGET_KEYS = {"MGT": "mgs", "MDT": "mdt", "OST": "ost"}


def target_device(node, kind):
    """The device `node`'s cluster entry gives its target `kind` (MGT, MDT or OST):
    ``(device, backfs)``, or ``(None, None)`` when the node has no ``targets:`` (a wbcfs
    target). SKIPs when the node has devices but none for `kind`: lutf neither mixes in a
    memory target nor guesses a device."""
    targets = getattr(node, "targets", None)
    if not targets:
        return None, None
    key = _TARGET_KEYS[kind]
    device = targets.get(key)
    if not device:
        given = ", ".join(k for k in ("mgs", "mdt", "ost") if targets.get(k)) or "none"
        raise errors.Skipped(
            f"the test puts an {kind} on node {node.name} (role {node.role}), whose "
            f"targets: in the cluster file has no {key}: device (it has {given})")
    return device, targets.get("backfs") or "ldiskfs"


def _zfs_source(fsname, kind, index, device):
    """``(pool/dataset, vdev or None)`` of a ZFS target: a pool named after the target made
    on a block device, or the ``pool/dataset`` given."""
    if device.startswith("/"):
        name = f"{kind.lower()}{index}"
        return f"{fsname}-{name}/{name}", device
    return device, None


def mkfs_argv(kind, fsname, index, mgs_nid, device, backfs="ldiskfs", primary_mdt=False):
    """``mkfs.lustre --reformat ...`` formatting `device` as target `kind` (MGT, MDT or
    OST) of `fsname`: an MDT with ``primary_mdt`` holds the MGS too; every other target
    but the MGS is told where it is (``--mgsnode``)."""
    if kind not in _TARGET_KEYS:
        raise ValueError(f"target kind {kind!r}: MGT, MDT or OST")
    if backfs not in ("ldiskfs", "zfs"):
        raise ValueError(f"backfs {backfs!r}: ldiskfs or zfs")
    argv = ["mkfs.lustre", "--reformat"]
    if kind == "MGT":
        argv.append("--mgs")
    else:
        argv.append(f"--fsname={fsname}")
        if kind == "MDT":
            argv += (["--mgs"] if primary_mdt else []) + ["--mdt"]
        else:
            argv.append("--ost")
        argv.append(f"--index={index}")
        if not (kind == "MDT" and primary_mdt):
            argv.append(f"--mgsnode={mgs_nid}")
    argv.append(f"--backfstype={backfs}")
    if backfs == "zfs":
        dataset, vdev = _zfs_source(fsname, kind, index, device)
        argv += [dataset] + ([vdev] if vdev else [])
    else:
        argv.append(device)
    return argv


def mount_argv(kind, fsname, index, device, backfs, point):
    """``mount -t lustre SOURCE POINT`` of a block-device target (the ``pool/dataset`` for
    ZFS)."""
    source = _zfs_source(fsname, kind, index, device)[0] if backfs == "zfs" else device
    return ["mount", "-t", "lustre", source, point]


def mount_target(kind, fsname, index, mgs_nid, primary_mdt=False, device=None,
                 backfs="ldiskfs"):
    """Mounts a target at ``BASE/<fsname>-<kind><index>``: `device` formatted by
    `mkfs_argv` when given, else a wbcfs one; returns the mount point."""
    _writable_base()
    point = f"{BASE}/{fsname}-{kind.lower()}{index}"
    os.makedirs(point, exist_ok=True)
    if device:
        process.run(mkfs_argv(kind, fsname, index, mgs_nid, device, backfs, primary_mdt))
        process.run(mount_argv(kind, fsname, index, device, backfs, point))
        return point
    process.run(["mount", "-t", "lustre", "-v", "lustre-wbcfs", point],
                env=target_env(kind, fsname, index, mgs_nid, primary_mdt))
    return point


def mount_client(mgs_nid, fsname):
    """Mounts the file system at ``BASE/<fsname>``; returns the mount point."""
    _writable_base()
    point = f"{BASE}/{fsname}"
    os.makedirs(point, exist_ok=True)
    process.run(["mount", "-t", "lustre", f"{mgs_nid}:/{fsname}", point])
    return point


def umount(point):
    """Unmounts `point` when mounted and removes the folder."""
    with open("/proc/mounts") as f:
        mounted = any(line.split()[1] == point for line in f if len(line.split()) > 1)
    if mounted:
        process.run(["umount", point])
    try:
        os.rmdir(point)
    except OSError:
        pass


def set_up(ctx, fs, part):
    """The master's set-up of this node's `part` (``servers``, ``ost`` or ``client``)."""
    process.run(["modprobe", "lustre"])
    mgs_nid = fs.mgs_nid(ctx.nids)
    role = ctx.role
    points = []

    def target(kind, index, primary_mdt=False):
        device, backfs = target_device(ctx.node, kind)
        points.append(mount_target(kind, fs.fsname, index, mgs_nid, primary_mdt,
                                   device=device, backfs=backfs))

    if part == "servers":
        if role in fs.mgs and role not in fs.mdt:
            target("MGT", 0)
        if role in fs.mdt:
            target("MDT", 0, primary_mdt=role in fs.mgs)
    elif part == "ost":
        target("OST", fs.ost_index(role))
    else:
        points.append(mount_client(mgs_nid, fs.fsname))
    return {"mounted": points, "mgs_nid": mgs_nid}


def tear_down(ctx, fs, part):
    """The master's tear-down of this node's `part`, the reverse of `set_up`."""
    role = ctx.role
    if part == "client":
        targets = []
    elif part == "ost":
        targets = [("OST", fs.ost_index(role))]
    else:
        targets = [("MDT", 0), ("MGT", 0)]
    points = [f"{BASE}/{fs.fsname}"] if part == "client" else [
        f"{BASE}/{fs.fsname}-{kind.lower()}{index}" for kind, index in targets]
    for p in points:
        umount(p)
    # A ZFS pool lutf made on a device goes too, so that the next mkfs.lustre can make it.
    node_targets = getattr(ctx.node, "targets", None) or {}
    if node_targets.get("backfs") == "zfs":
        for kind, index in targets:
            device = node_targets.get(_TARGET_KEYS[kind])
            if device and device.startswith("/"):
                pool = _zfs_source(fs.fsname, kind, index, device)[0].split("/")[0]
                if process.run(["zpool", "list", "-H", pool], check=False, quiet=True).ok:
                    process.run(["zpool", "export", pool])
    return points


def write_read_check(path, size, block=1 << 20):
    """Writes `size` bytes of pseudo-random data to `path`, syncs, drops this node's page
    cache (where allowed) and reads it back; FAILs when the checksums differ. Returns
    ``{"bytes", "sha256", "write_mib_s", "read_mib_s"}``."""
    import hashlib  # OpenSSL's start-up, paid by every step that imports lutf.system otherwise

    written = hashlib.sha256()
    t = time.monotonic()
    with open(path, "wb") as f:
        left = size
        while left > 0:
            chunk = os.urandom(min(block, left))
            f.write(chunk)
            written.update(chunk)
            left -= len(chunk)
        f.flush()
        os.fsync(f.fileno())
    write_s = time.monotonic() - t
    try:
        # The page cache only (1): harmless, unlike reclaiming slab memory on a server.
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
    except OSError:
        pass
    read = hashlib.sha256()
    t = time.monotonic()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(block)
            if not chunk:
                break
            read.update(chunk)
    read_s = time.monotonic() - t
    if read.hexdigest() != written.hexdigest():
        raise errors.Failed(f"{path}: read back sha256 {read.hexdigest()}, "
                            f"wrote {written.hexdigest()}")
    mib = size / 1048576.0
    return {"bytes": size, "sha256": written.hexdigest(),
            "write_mib_s": round(mib / write_s, 2) if write_s else None,
            "read_mib_s": round(mib / read_s, 2) if read_s else None}
