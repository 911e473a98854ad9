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

What each moved-NID test checks after the move (``moved_nid_test``):

- test_02 (on on both sides): both imports get a connection to the new NID, the OSP gets
  FULL on it, a 4 MiB direct write to a new file ends within 120 s, the client's OSC is
  FULL on the new NID, 4 MiB read back.
- test_03 (off on both) and test_05 (on on the MDS only): the client cannot reach the OST.
  A 4 MiB direct write to a new file (its object precreated by the MDS) has not ended after
  60 s, and meanwhile the client's OSC is not FULL, has no connection to the new NID and
  its current connection is still the old NID. Direct I/O waits for its RPC uninterruptibly
  (the dd sits in ``cl_sync_io_wait`` in state I, TASK_IDLE: signals do not wake it; seen
  on the VMs), and the RPC waits for the import to recover, which it cannot: a kill does
  not end the write. So the step ends it itself, before it returns, by deactivating the OSC
  (``osc.*.active=0``: Lustre invalidates the import and the waiting RPC fails with -EIO).
  A write left behind would hang the helper, which kills and reaps (waits for) whatever a
  step leaves (``end_adopted``, helper/src/reaper.rs): that is why the first drafts' ``io``
  step, which SIGKILLed the dd after 30 s and returned, ran into its 270 s timeout with an
  empty log. The cleanup activates the OSC again once the OSS is back, and waits for it
  FULL (or IDLE).
- test_04 (on on the client only): the client moved, the MDS did not. The OST never
  restarts, so the MDS keeps handing out the objects it precreated before the move: a 4 MiB
  write to a new file ends well and the client's OSC is FULL on the new NID. Its view step
  reads the OSP's pool on the MDS once the OSP lost the OST (``prealloc_last_id -
  prealloc_next_id + 1`` objects left); the write took one, and the client then creates
  files (open O_CREAT, one object each): exactly as many as are left return, the next one
  has not after 60 s (the MDT waits in ``osp_precreate_reserve`` for objects it cannot get)
  and is killed (an open waits abortably). The MDS then shows the pool used up,
  ``prealloc_last_id`` unchanged since the move and its OSP still not FULL, without the new
  NID.
"""
import os
import re
import sys
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
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_dd(proc, seconds):
    """Waits at most `seconds` for `proc`: {"done", "returncode", "output", "seconds"}. A
    write still waiting is left running: Lustre holds it uninterruptibly (direct I/O waits
    for its RPC, which waits for the import), so a kill would not end it either."""
    t0 = time.monotonic()
    try:
        out, _ = proc.communicate(timeout=seconds)
        return {"done": True, "returncode": proc.returncode,
                "output": out.decode(errors="replace").strip()[-400:],
                "seconds": round(time.monotonic() - t0, 1)}
    except subprocess.TimeoutExpired:
        return {"done": False, "returncode": None, "output": "",
                "seconds": round(time.monotonic() - t0, 1)}


def client_osc_active(on):
    """``lctl set_param osc.<OST0000>.active=0|1`` on the client. Off, Lustre invalidates the
    import: the RPCs waiting on it fail (-EIO) and a write they hold ends."""
    process.run(["lctl", "set_param", f"osc.{FSNAME}-OST0000-osc-*.active={int(bool(on))}"],
                timeout=OSC_SET_ACTIVE)


def end_blocked_write(proc):
    """Ends a write that Lustre holds: the client's OSC import deactivated, then the write
    waited for (bounded). Before the step ends, so that no process is left in the kernel's
    wait (the helper reaps what a step leaves behind, and would wait for it)."""
    t0 = time.monotonic()
    client_osc_active(False)
    r = wait_dd(proc, WRITE_ENDS)
    r["seconds"] = round(time.monotonic() - t0, 1)
    assert r["done"], f"the write still waits {WRITE_ENDS} s after the OSC was deactivated: {r}"
    return r


#: A Python child that creates files DIR/f0 .. f<N-1> (open O_CREAT: the MDS gives each an
#: object on the OST) and appends to PROGRESS how many it made after each one, so that a
#: create that waits shows how far it got.
CREATE_FILES = """import os, sys
d, n, progress = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n):
    os.close(os.open(os.path.join(d, "f%d" % i), os.O_CREAT | os.O_WRONLY, 0o644))
    with open(progress, "a") as f:
        f.write("%d\\n" % (i + 1))
"""


def create_files(directory, count, stall):
    """Creates `count` files in `directory` in a child process, until it ends or one create
    has not returned for `stall` s (then the child is killed: an open waiting on the MDS
    waits abortably). Returns {"made", "done", "returncode", "stalled_s", "seconds"}."""
    os.makedirs(directory, exist_ok=True)
    progress = f"/tmp/dynamic-nids-creates.{os.getpid()}"
    if os.path.exists(progress):
        os.unlink(progress)
    proc = subprocess.Popen([sys.executable, "-c", CREATE_FILES, directory, str(count), progress],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def made():
        if not os.path.exists(progress):
            return 0
        with open(progress) as f:
            lines = f.read().split()
        return int(lines[-1]) if lines else 0

    t0 = last_change = time.monotonic()
    last = 0
    # Each create takes well under a second on the VMs; a bound in case they crawl.
    deadline = t0 + stall + 10 * count
    while proc.poll() is None and time.monotonic() - last_change < stall \
            and time.monotonic() < deadline:
        time.sleep(1)
        now = made()
        if now != last:
            last, last_change = now, time.monotonic()
    done = proc.poll() is not None
    out = {"done": done, "returncode": proc.returncode, "made": made(),
           "stalled_s": round(time.monotonic() - last_change, 1),
           "seconds": round(time.monotonic() - t0, 1)}
    if not done:
        proc.kill()
        out["killed"] = wait_dd(proc, WRITE_ENDS)
        assert out["killed"]["done"], f"the create still waits {WRITE_ENDS} s after a kill: {out}"
    else:
        out["output"] = proc.stdout.read().decode(errors="replace").strip()[-400:]
    return out


def prealloc():
    """The MDT's OSP precreated objects (on the MDS): next id to give, last id the OST
    created, how many are left, the OSP's status."""
    base = f"osp.{FSNAME}-OST0000-osc-MDT0000"
    got = {k: process.run(["lctl", "get_param", "-n", f"{base}.{k}"], quiet=True).strip()
           for k in ("prealloc_next_id", "prealloc_last_id", "prealloc_status")}
    out = {k: int(v) for k, v in got.items()}
    out["left"] = out["prealloc_last_id"] - out["prealloc_next_id"] + 1
    return out


# -- the steps of tests 02-05 -----------------------------------------------------------------

#: How long a write may take after the move when both sides have dynamic NIDs: the import
#: first fails on the old NID, then reconnects to the new one.
WRITE_AFTER_MOVE = 120
#: How long a write (or a create) is given to show it does not get through.
WRITE_BLOCKED = 60
#: How long a held write has to end once its import is deactivated (or a create once killed).
WRITE_ENDS = 120
#: How long ``lctl set_param osc.*.active`` may take (deactivating waits for the RPCs).
OSC_SET_ACTIVE = 150


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
    import has a connection to the new NID and gets FULL on it; without, it has none. On the
    MDS, the OSP's precreated objects too."""
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
        return {"ir": applied, "import": imp, "prealloc": prealloc()}
    return {"ir": applied, "import": imp}


def write_reaches_new_nid(ctx):
    """A 4 MiB direct write to a new file ends well within WRITE_AFTER_MOVE s and the
    client's OSC is FULL on the OST's new NID. Returns (the write, the OSC's import)."""
    new = oss_nid(ctx, "new")
    r = wait_dd(start_dd(ctx.fs.client_mount + "/after"), WRITE_AFTER_MOVE)
    assert r["done"] and r["returncode"] == 0, \
        f"the write after the move did not end well within {WRITE_AFTER_MOVE} s: {r}"
    imp = ost_import("client")
    assert imp["state"] == "FULL" and imp["current_connection"] == new, \
        f"the client's OSC is not FULL on {new}: {imp}"
    return r, imp


def step_io_works(ctx):
    """Both sides moved: a 4 MiB direct write to a new file ends well within
    WRITE_AFTER_MOVE s, the client's OSC is FULL on the new NID, 4 MiB read back."""
    r, imp = write_reaches_new_nid(ctx)
    check = fs.write_read_check(ctx.fs.client_mount + "/check", 4 << 20)
    return {"dd": r, "import": imp, "read_back": check}


def step_io_client_blocked(ctx):
    """The client cannot reach the OST: a 4 MiB direct write to a new file has not ended
    after WRITE_BLOCKED s, and meanwhile the client's OSC is not FULL and has no connection
    to the new NID. The write is then ended by deactivating the OSC (see
    `end_blocked_write`)."""
    new = oss_nid(ctx, "new")
    proc = start_dd(ctx.fs.client_mount + "/after")
    r = wait_dd(proc, WRITE_BLOCKED)
    imp = ost_import("client")
    ctx.log("write after the move:", r, "the client's OSC:", imp)
    if r["done"]:
        assert r["returncode"] != 0, \
            f"the write after the move went through in {r['seconds']} s: {r}, OSC {imp}"
    assert imp["state"] != "FULL" and new not in imp["failover_nids"], \
        f"the client's OSC is FULL or has the new NID {new}: {imp}"
    assert imp["current_connection"] == oss_nid(ctx, "old"), \
        f"the client's OSC is not left on the OST's old NID: {imp}"
    ended = None if r["done"] else end_blocked_write(proc)
    return {"dd": r, "import": imp, "ended": ended, "deactivated": ended is not None}


def step_io_mds_blocked(ctx, pool):
    """The client moved, the MDS did not: a 4 MiB direct write to a new file ends well and
    the client's OSC is FULL on the new NID (the file's object is one the MDS precreated
    before the move). Then the rest of the MDS's precreated objects (`pool`, read on the MDS
    once its OSP lost the OST) are used up by creating files, and the create after the last
    of them has not returned after WRITE_BLOCKED s: the MDS cannot get new objects."""
    r, imp = write_reaches_new_nid(ctx)
    left = pool["left"] - 1  # the write above took one
    ctx.log(f"the MDS had {pool['left']} precreated objects; creating {left} + 1 files")
    c = create_files(ctx.fs.client_mount + "/pool", left + 1, WRITE_BLOCKED)
    ctx.log("creates:", c)
    assert c["made"] == left, \
        f"{c['made']} files made, the MDS had {left} precreated objects left: {c}"
    assert not c["done"] or c["returncode"] != 0, \
        f"{left + 1} creates went through; the MDS had {left} objects: {c}"
    return {"dd": r, "import": imp, "creates": c, "precreated_left": left}


def step_mds_after(ctx, pool):
    """The MDS after the creates: its OSP's precreated objects are used up, it got none
    since (prealloc_last_id unchanged), and the OSP is still not FULL, without the new NID."""
    new = oss_nid(ctx, "new")
    now = prealloc()
    imp = ost_import("mds")
    assert now["prealloc_last_id"] == pool["prealloc_last_id"], \
        f"the MDS got new objects from the OST: {pool} then {now}"
    assert now["left"] <= 0, f"precreated objects left on the MDS: {now}"
    assert imp["state"] != "FULL" and new not in imp["failover_nids"], \
        f"the MDT's OSP reached the OST after all: {imp}"
    return {"prealloc": now, "import": imp}


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


def step_client_settle(ctx):
    """Cleanup on the client, once the OSS is back: an OSC deactivated to end a held write is
    activated again, and the OSC gets FULL (or IDLE), so that the file system
    unmounts cleanly."""
    active = get_param(f"osc.{FSNAME}-OST0000-osc-*.active")
    if not active:
        return "no OSC (the file system is not mounted)"
    if set(active.values()) != {"1"}:
        client_osc_active(True)
    # IDLE: connected, then disconnected for want of use (osc.*.idle_timeout).
    return wait_for("the client's OSC FULL (or IDLE) again", lambda: ost_import("client"),
                    lambda i: i["state"] in ("FULL", "IDLE"), timeout=180, interval=5)


# -- the moved-NID tests (test_02 .. test_05): one sequence, dynamic_nids per side -----------


def moved_nid_test(on, io_fails_because=""):
    """The test of moving the OSS's NID with ``dynamic_nids`` = ``on[side]`` on the MDS and
    the client: set, write before, move, wait for the NID table, each side's import, a write
    after (it works only with dynamic NIDs on both sides; `io_fails_because` says why not),
    then the OSS back and the client's OSC FULL again. Returns the `Test`."""
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
        if works:
            return step_io_works(ctx)
        if on["client"]:
            return step_io_mds_blocked(ctx, ctx.result(mds_view)["prealloc"])
        return step_io_client_blocked(ctx)

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
    if works:
        io.__doc__ = ("A 4 MiB write to a new file ends well; the OSC is FULL on the new NID; "
                      "4 MiB read back.")
    elif on["client"]:
        io.__doc__ = (
            "A 4 MiB write ends well, the OSC FULL on the new NID; then the MDS's precreated "
            f"objects used up and the next create not done within {WRITE_BLOCKED} s"
            + (f": {io_fails_because}." if io_fails_because else "."))
    else:
        io.__doc__ = (
            f"A 4 MiB write to a new file does not end well within {WRITE_BLOCKED} s, the OSC "
            "not FULL and without the new NID" + (f": {io_fails_because}." if io_fails_because
                                                  else "."))
    test.step(role="mds", after=[table], timeout=360)(mds_view)
    test.step(role="client", after=[table], timeout=180)(client_view)
    test.step(role="client", after=[mds_view, client_view], timeout=420)(io)

    if not works and on["client"]:
        @test.step(role="mds", after=[mds_view, io], timeout=60)
        def mds_after(ctx):
            """The MDS's precreated objects are used up, none came since, its OSP is not FULL."""
            return step_mds_after(ctx, ctx.result(mds_view)["prealloc"])

    @test.cleanup(role="oss")
    def restore(ctx):
        """The OSS back on its first interface, so that the file system unmounts."""
        return step_restore(ctx)

    @test.cleanup(role="client", after=[restore], timeout=400)
    def settle(ctx):
        """The client's OSC active again and FULL once the OST is back."""
        return step_client_settle(ctx)

    return test
