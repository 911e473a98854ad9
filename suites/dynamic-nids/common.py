"""Shared by the dynamic-nids tests: the file system, the OSS's NID change and Lustre's view.

Three nodes: ``mds`` (MGS + MDT), ``oss`` (one OST), ``client``; memory-backed (wbcfs)
targets; every node on LNet net ``tcp``, on its first interface. The guests' interfaces are
on two IP subnets and each guest has an address on both, so a NID on either subnet is
reachable from every node at the IP level. LNet discovery is off everywhere: with discovery
on, the OSS's LNet would push its new NI to the peers it knows and LNet itself could carry
traffic meant for the old NID, whatever ``dynamic_nids`` says; off, only Lustre can tell the
MDS and the client where the OST went.

How the OSS's NID changes (:func:`move_oss`). A wbcfs target lives in RAM, so remounting
the OST would make a new, empty target. The OST stays mounted and LNet changes underneath
it: ``lnetctl net del --net tcp`` then ``lnetctl net add --net tcp --if <second
interface>``: the OST's NID goes from the first subnet's address to the second's. Lustre
2.17's targets register with LNet for NID updates (``tgt_add_notifier`` →
``LNetRegisterNIDUpdates``, lustre/target/tgt_mount.c): deleting the net sends the MGS
``#tcp`` (drop the OST's tcp NIDs), adding it sends the new NID (``tgt_nid_update_cb`` →
``mgc_nid_notify``), and when the OSS's MGC reconnects it sends all its NIDs again
(``tgt_import_update``). The MGS rewrites its NID table (``mgs_nidtbl_write``,
lustre/mgs/mgs_nids.c) and revokes the IR lock; each MGC reads the new table
(``mgc_apply_recover_logs``, lustre/mgc/mgc_request.c). The OST's new NID shares nothing
with the connection an import has, so ``client_import_add_nids_to_conn`` finds none
(-ENOENT), and only with ``mgc.*.dynamic_nids=1`` (on that node's MGC) does the MGC add a
new connection to the import (``mgc_create_new_conn``). The client's OSC import carries the
data; the MDS's OSP import precreates the objects of new files.

Every verdict is read from Lustre: the MGC's ``dynamic_nids`` and ``ir_state``, the MGS's
NID table version (``mgs.MGS.live.<fsname>``), each import's ``failover_nids``, state and
``current_connection``, and I/O on the file system.

What Lustre 2.17.57 gets wrong here (no LU ticket found):

- **A target without NIDs stops imperative recovery for the whole file system.** Between
  the OSS's ``#tcp`` (net deleted) and its new NID, the MGS's table holds OST0000 with no
  NID; ``mgs_nidtbl_read`` (lustre/mgs/mgs_nids.c) then ends the whole read with
  -EOVERFLOW (``if (!entry->mne_nid_count) { rc = -EOVERFLOW; break; }``) instead of
  skipping that target, so every MGC's IR log read fails ("IR log lutf-cliir failed, not
  fatal: rc = -75", "IR log lutf-mdtir failed ...") for every target, until the OST's NIDs
  come back. Seen in a first draft of this suite where the OSS, moved to another LNet net,
  could not reach the MGS: the MGS stayed at the table without NIDs and the client's and
  the MDS's IR logs stayed behind it for minutes. Here the OSS's new NID follows its
  ``#tcp`` within seconds, so the window is short.

Not finished (the suite's own open points, not Lustre's):

- test_04 (dynamic NIDs on the client only) FAILs on the VMs: the write to a new file goes
  through, because the OST never restarts here: the MDS creates the file with an object it
  precreated before the move, and the client, which learnt the new NID, writes to it. The
  MDS's side shows only once its precreated objects are used up (read
  ``osp.*.prealloc_next_id`` and ``prealloc_last_id`` on the MDS, create more files than
  that): that is what test_04 has to check instead of the first write.
- test_03 (off on both sides) and test_05 (on on the MDS only), the two where the client
  cannot reach the OST, FAILed once each with their ``io`` step killed at its timeout
  (270 s) while the write waited; the step's log kept nothing, not even its first line, so
  where it blocked is not known. Reading the client's import while the write waits was
  the guess: the step no longer does it. Not yet run again.
"""
import os
import re
import signal
import subprocess
import time

import lutf
from lutf import fs, lnet, process
from lutf.fs import FileSystem
from lutf.provision import LNet

FSNAME = "lutf"
ROLES = ["mds", "oss", "client"]

#: Everyone on tcp, first interface (the OSS moves to its second one during the test).
DESCRIPTION = {r: {"nets": {"tcp": [0]}} for r in ROLES}


def lnet_description():
    """The test's LNet: DESCRIPTION, discovery off."""
    return LNet(DESCRIPTION, globals={"discovery": 0})


def file_system():
    """MGS and MDT on mds, the OST on oss, the client on client."""
    return FileSystem(mgs="mds", mdt="mds", ost=["oss"], client=["client"], fsname=FSNAME)


# -- dynamic_nids ----------------------------------------------------------------------------


def get_param(name):
    """``lctl get_param -n NAME`` as {device: value}, one line per device (``-N`` names)."""
    names = process.run(["lctl", "list_param", name], quiet=True).split()
    return {n: process.run(["lctl", "get_param", "-n", n], quiet=True).strip() for n in names}


def dynamic_nids():
    """{mgc device: 0/1}, this node's ``mgc.*.dynamic_nids``."""
    got = get_param("mgc.*.dynamic_nids")
    assert got, "no mgc device has dynamic_nids on this node"
    return {k: int(v) for k, v in got.items()}


def set_dynamic_nids(on):
    """``lctl set_param mgc.*.dynamic_nids=0|1``, read back: every MGC says so."""
    process.run(["lctl", "set_param", f"mgc.*.dynamic_nids={int(bool(on))}"])
    got = dynamic_nids()
    assert set(got.values()) == {int(bool(on))}, f"set dynamic_nids={int(on)}, read {got}"
    return got


# -- imports and the NID table -----------------------------------------------------------------


def import_info(pattern):
    """{device: {"state", "failover_nids", "current_connection"}} from ``lctl get_param
    PATTERN.import`` (e.g. ``osc.lutf-OST0000-osc-*``)."""
    out = {}
    text = process.run(["lctl", "get_param", f"{pattern}.import"], quiet=True)
    heads = list(re.finditer(r"^(\S+)\.import=", text, flags=re.M))
    for n, head in enumerate(heads):
        # re.split on an empty match needs Python 3.7: cut the blocks by their heads.
        block = text[head.start():heads[n + 1].start() if n + 1 < len(heads) else len(text)]
        state = re.search(r"^\s+state:\s*(\S+)", block, flags=re.M)
        failover = re.search(r"failover_nids:\s*\[([^\]]*)\]", block)
        current = re.search(r'current_connection:\s*"?([^"\s]+)"?', block)
        out[head.group(1)] = {
            "state": state.group(1) if state else None,
            "failover_nids": re.findall(r'"([^"]+)"', failover.group(1)) if failover else [],
            "current_connection": current.group(1) if current else None,
        }
    assert out, f"no import matches {pattern}: {text!r}"
    return out


def ost_import(side):
    """The import of OST0000 on this node: the client's OSC or the MDT's OSP."""
    pattern = (f"osc.{FSNAME}-OST0000-osc-*" if side == "client"
               else f"osp.{FSNAME}-OST0000-osc-MDT0000")
    info = import_info(pattern)
    assert len(info) == 1, f"expected one OST0000 import, got {sorted(info)}"
    return next(iter(info.values()))


def mgs_nidtbl_version():
    """The MGS's NID table version for the file system (``mgs.MGS.live.<fsname>``)."""
    text = process.run(["lctl", "get_param", "-n", f"mgs.MGS.live.{FSNAME}"], quiet=True)
    m = re.search(r"nidtbl_version:\s*(\d+)", text)
    assert m, f"no nidtbl_version in mgs.MGS.live.{FSNAME}: {text!r}"
    return int(m.group(1))


def mgc_ir_versions():
    """{IR log: NID table version this node's MGC applied} (``mgc.*.ir_state``)."""
    text = process.run(["lctl", "get_param", "-n", "mgc.*.ir_state"], quiet=True)
    return {m.group(1): int(m.group(2)) for m in
            re.finditer(r"client:\s*([^,\s]+),\s*nidtbl_version:\s*(\d+)", text)}


def wait_for(what, get, ok, timeout=120, interval=3):
    """Polls `get()` until `ok(value)` (the toolkit's `lutf.wait_for`); returns the value."""
    return lutf.wait_for(what, get, ok, timeout=timeout, interval=interval)


def wait_ir_applied(version, timeout=120):
    """This node's MGC applied the MGS's NID table up to `version` (its IR log)."""
    return wait_for(f"IR log at nidtbl version {version}", mgc_ir_versions,
                    lambda v: v and max(v.values()) >= version, timeout=timeout)


# -- the OSS's NID change -------------------------------------------------------------------


def oss_nid(ctx, which):
    """The OSS's NID "old" (first interface) or "new" (second interface), on tcp."""
    iface = ctx.nodes["oss"].usable_interfaces[0 if which == "old" else 1]
    return f"{iface['ipv4'][0]['address']}@tcp"


def move_oss(ctx):
    """On the OSS, with the OST mounted: net tcp deleted, then added on the second
    interface. Returns the NIDs LNet shows before and after."""
    second = ctx.node.usable_interfaces[1]["name"]
    before = _local_nids()
    assert before == [oss_nid(ctx, "old")], f"the OSS's NIDs before the move: {before}"
    lnet.lnetctl("net", "del", "--net", "tcp")
    lnet.lnetctl("net", "add", "--net", "tcp", "--if", second)
    after = _local_nids()
    assert after == [oss_nid(ctx, "new")], f"the OSS's NIDs after the move: {after}"
    return {"before": before, "after": after}


def _local_nids():
    shown = lnet.lnetctl("net", "show")["output"] or {}
    return [ni["nid"] for net in (shown.get("net") or [])
            for ni in (net.get("local NI(s)") or []) if ni.get("nid") not in (None, "0@lo")]


# -- I/O --------------------------------------------------------------------------------------


def start_dd(path, mib=4):
    """Starts ``dd if=/dev/urandom of=PATH bs=1M count=MIB oflag=direct`` (a new file: the
    MDS creates it with an object on the OST, then the client writes to the OST); returns
    the Popen. Direct I/O, so that nothing waits in the page cache."""
    argv = ["dd", "if=/dev/urandom", f"of={path}", "bs=1M", f"count={mib}", "oflag=direct"]
    print("started:", " ".join(argv), flush=True)
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_dd(proc, seconds):
    """Waits at most `seconds` for `proc`: {"done", "returncode", "output", "seconds"}. A dd
    still waiting on Lustre (uninterruptible) is SIGKILLed (it ends once its RPC does)."""
    t0 = time.monotonic()
    try:
        out, _ = proc.communicate(timeout=seconds)
        return {"done": True, "returncode": proc.returncode,
                "output": out.decode(errors="replace").strip()[-400:],
                "seconds": round(time.monotonic() - t0, 1), "pid": proc.pid}
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return {"done": False, "returncode": None, "output": "",
                "seconds": round(time.monotonic() - t0, 1), "pid": proc.pid}


def wait_gone(pid, timeout=240):
    """Waits until process `pid` is gone (a killed dd ends once Lustre answers its RPC)."""
    return wait_for(f"process {pid} to end", lambda: os.path.exists(f"/proc/{pid}"),
                    lambda alive: not alive, timeout=timeout, interval=2)


# -- the steps of tests 02-05 -----------------------------------------------------------------

#: How long a write may take after the move when both sides have dynamic NIDs: the import
#: first fails on the old NID, then reconnects to the new one.
WRITE_AFTER_MOVE = 120
#: How long a write is given to show it does not get through.
WRITE_BLOCKED = 30


def step_setting(ctx, on):
    """This node's MGC gets dynamic_nids = on[role], read back."""
    return set_dynamic_nids(on[ctx.role])


def step_before(ctx):
    """A 4 MiB write to a new file goes through on the OST's first NID."""
    r = wait_dd(start_dd(ctx.fs.client_mount + "/before"), 120)
    assert r["done"] and r["returncode"] == 0, f"write before the move failed: {r}"
    imp = ost_import("client")
    old = oss_nid(ctx, "old")
    assert imp["state"] == "FULL" and imp["current_connection"] == old, \
        f"the client's OSC is not connected to {old}: {imp}"
    return {"dd": r, "import": imp}


def step_version_before(ctx):
    """The MGS's NID table version before the move, and the MDT's OSP import."""
    return {"nidtbl_version": mgs_nidtbl_version(), "osp": ost_import("mds")}


def step_table(ctx, before):
    """The MGS's NID table changes (the OSS notified it) and settles: its version."""
    first = wait_for("the MGS's NID table to change", mgs_nidtbl_version,
                     lambda v: v > before, timeout=120)
    # Settle: the OSS sends the net's deletion, the new net and, once its MGC is back,
    # all its NIDs again; take the version once it stays for 15 s.
    last, stable_since = first, time.monotonic()
    deadline = time.monotonic() + 120
    while time.monotonic() - stable_since < 15 and time.monotonic() < deadline:
        time.sleep(3)
        now = mgs_nidtbl_version()
        if now != last:
            last, stable_since = now, time.monotonic()
    return last


def step_view(ctx, side, on, version):
    """After this node's MGC applied the NID table at `version`: with dynamic NIDs the OST's
    import has a connection to the new NID and gets FULL on it; without, it has none."""
    new = oss_nid(ctx, "new")
    applied = wait_ir_applied(version)
    if on:
        imp = wait_for(f"the {side}'s OST import to connect to {new}",
                       lambda: ost_import(side),
                       lambda i: new in i["failover_nids"], timeout=120)
        if side == "mds":
            # The OSP keeps asking the OST (statfs, precreate): it reconnects on its own.
            imp = wait_for(f"the MDT's OSP FULL on {new}", lambda: ost_import(side),
                           lambda i: i["state"] == "FULL" and i["current_connection"] == new,
                           timeout=180)
        return {"ir": applied, "import": imp}
    imp = ost_import(side)
    assert new not in imp["failover_nids"], \
        f"dynamic_nids is 0 on the {side}, yet its OST import has {new}: {imp}"
    if side == "mds":
        # The OSP finds its only connection dead and stays off (its statfs runs every 5 s).
        imp = wait_for("the MDT's OSP to lose the OST", lambda: ost_import(side),
                       lambda i: i["state"] != "FULL", timeout=120)
        assert new not in imp["failover_nids"], f"the MDT's OSP has {new} after all: {imp}"
    return {"ir": applied, "import": imp}


def step_io(ctx, works):
    """A 4 MiB direct write to a new file: it needs the MDS to create the file's object on
    the OST and the client to write to the OST. `works`: it ends well within
    WRITE_AFTER_MOVE s, the data reads back, and the client's OSC is FULL on the new NID.
    Otherwise it does not end well within WRITE_BLOCKED s."""
    new = oss_nid(ctx, "new")
    if works:
        r = wait_dd(start_dd(ctx.fs.client_mount + "/after"), WRITE_AFTER_MOVE)
        assert r["done"] and r["returncode"] == 0, \
            f"the write after the move did not end well within {WRITE_AFTER_MOVE} s: {r}"
        imp = ost_import("client")
        assert imp["state"] == "FULL" and imp["current_connection"] == new, \
            f"the client's OSC is not FULL on {new}: {imp}"
        check = fs.write_read_check(ctx.fs.client_mount + "/check", 4 << 20)
        return {"dd": r, "import": imp, "read_back": check}
    r = wait_dd(start_dd(ctx.fs.client_mount + "/after"), WRITE_BLOCKED)
    ctx.log("write after the move:", r)
    assert not (r["done"] and r["returncode"] == 0), \
        f"the write after the move went through in {r['seconds']} s: {r}"
    # The client's import is not read here: while the write waits on it, reading it can
    # block (the views above read it before the write).
    return {"dd": r}


def step_restore(ctx):
    """Cleanup on the OSS: back on its first interface, so that every import finds the OST
    where it was and the file system unmounts."""
    first = ctx.node.usable_interfaces[0]["name"]
    try:
        _local_nids()
    except lnet.LnetError as e:  # the test stopped before LNet was set up
        return f"nothing to restore: {e.description or e}"
    if _local_nids() != [oss_nid(ctx, "old")]:
        if _local_nids():
            lnet.lnetctl("net", "del", "--net", "tcp")
        lnet.lnetctl("net", "add", "--net", "tcp", "--if", first)
    return _local_nids()


def step_client_settle(ctx, io_result):
    """Cleanup on the client: a write left waiting ends (its RPC is answered once the OST
    is back), so that the file system unmounts."""
    if not io_result:
        return None
    if not io_result["dd"]["done"]:
        wait_gone(io_result["dd"]["pid"])
    return ost_import("client")


# -- the moved-NID tests (test_02 .. test_05): one sequence, dynamic_nids per side -----------


def moved_nid_test(on, io_fails_because=""):
    """The test of moving the OSS's NID with ``dynamic_nids`` = ``on[side]`` on the MDS and
    the client: set, write before, move, wait for the NID table, each side's import, a write
    after (it works only with dynamic NIDs on both sides; `io_fails_because` says why not),
    then the OSS back and a waiting write ended. Returns the `Test`."""
    test = lutf.Test(roles=ROLES, interfaces={"oss": 2}, lnet=lnet_description(),
                     fs=file_system())
    works = on["mds"] and on["client"]

    @test.step(role=["mds", "client"], timeout=60)
    def setting(ctx):
        """mgc.*.dynamic_nids = ON[role], read back."""
        return step_setting(ctx, on)

    @test.step(role="client", after=[setting], timeout=180)
    def before(ctx):
        """A 4 MiB write goes through on the OST's first NID."""
        return step_before(ctx)

    @test.step(role="mds", after=[before])
    def version_before(ctx):
        """The MGS's NID table version and the OSP's import before the move."""
        return step_version_before(ctx)

    @test.step(role="oss", after=[version_before], timeout=120)
    def move(ctx):
        """With the OST mounted, LNet moves: net tcp deleted, added again on the second interface."""
        return move_oss(ctx)

    @test.step(role="mds", after=[version_before, move], timeout=300)
    def table(ctx):
        """The MGS's NID table changes and settles."""
        return step_table(ctx, ctx.result(version_before)["nidtbl_version"])

    def mds_view(ctx):
        return step_view(ctx, "mds", on["mds"], ctx.result(table))

    def client_view(ctx):
        return step_view(ctx, "client", on["client"], ctx.result(table))

    def io(ctx):
        return step_io(ctx, works=works)

    # What each side's import and the write are expected to do, said before the steps are
    # declared (a step's description is its docstring's first line, read then).
    mds_view.__doc__ = (
        "The MDT's OSP import gets a connection to the OST's new NID and is FULL on it."
        if on["mds"] else
        "dynamic_nids 0 on the MDS: its OSP import gets no connection to the new NID and loses "
        "the OST.")
    client_view.__doc__ = (
        "The client's OSC import gets a connection to the OST's new NID." if on["client"] else
        "dynamic_nids 0 on the client: its OSC import gets no connection to the new NID.")
    io.__doc__ = (
        "A 4 MiB write to a new file ends well; the OSC is FULL on the new NID; 4 MiB read back."
        if works else
        "A 4 MiB write to a new file does not end well within 30 s"
        + (f": {io_fails_because}." if io_fails_because else "."))
    test.step(role="mds", after=[table], timeout=360)(mds_view)
    test.step(role="client", after=[table], timeout=180)(client_view)
    test.step(role="client", after=[mds_view, client_view], timeout=240)(io)

    @test.cleanup(role="oss")
    def restore(ctx):
        """The OSS back on its first interface, so that the file system unmounts."""
        return step_restore(ctx)

    @test.cleanup(role="client", after=[restore, io], timeout=300)
    def settle(ctx):
        """A write left waiting ends once the OST is back."""
        return step_client_settle(ctx, ctx.results.get(io))

    return test
