"""`lutf.clean`: bring a node back to "no Lustre, no LNet" before a test.

In order: unmount Lustre clients, then targets (OST, then MDT, then MGS), unload
lnet_selftest, ``lnetctl lnet unconfigure``, then unload Lustre's and LNet's modules
(``lustre_rmmod`` where present, else ``rmmod`` in dependency order). Each action and its
duration goes into the step's log. A node with nothing of that is left as it is.

The master runs this before every test on the nodes the test binds (``lutf run --no-clean``
turns it off); a step may call `clean()` itself.
"""

import time

from . import errors, process, provision

__all__ = ["mounts", "clean", "target_order"]


def mounts(path="/proc/mounts"):
    """Lustre mounts as ``[{"source", "point", "client", "svname"}]``, clients first, then
    targets in unmount order (OST, MDT, MGS)."""
    out = []
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        fields = line.split()
        if len(fields) < 4 or fields[2] not in ("lustre", "lustre_tgt"):
            continue
        options = dict(o.split("=", 1) if "=" in o else (o, "") for o in fields[3].split(","))
        point = fields[1].replace("\\040", " ")
        out.append({
            "source": fields[0],
            "point": point,
            # A client mounts `<mgs nid>:/<fsname>`; targets mount a device or `lustre-wbcfs`.
            "client": ":/" in fields[0],
            "svname": options.get("svname", ""),
        })
    return sorted(out, key=target_order)


def target_order(m):
    """Sort key: clients, then OSTs, MDTs, MGS, anything else."""
    if m["client"]:
        return (0, m["point"])
    name = m["svname"].upper()
    for rank, kind in enumerate(("OST", "MDT", "MGS"), start=1):
        if kind in name:
            return (rank, m["point"])
    return (4, m["point"])


def _timed(actions, what, node, fn):
    t = time.monotonic()
    try:
        fn()
    except errors.CommandFailed as e:
        raise errors.Failed(f"setup cleanup failed: {what} on {node}: {e.reason}") from None
    seconds = time.monotonic() - t
    actions.append({"action": what, "seconds": round(seconds, 3)})
    print(f"clean: {what} on {node}: {seconds:.2f} s", flush=True)


def _best_effort(argv):
    """Runs `argv`; a failure is only noted (what follows shows whether it mattered)."""
    out = process.run(argv, check=False)
    if not out.ok:
        print(f"clean: `{' '.join(argv)}` exited {out.returncode}; going on", flush=True)


def clean(node="this node"):
    """Cleans this node (see the module); returns the actions done with their durations.
    A failure raises `Failed` "setup cleanup failed: <what> on <node>: <why>"."""
    actions = []
    for m in mounts():
        kind = "client" if m["client"] else (m["svname"] or "target")
        _timed(actions, f"umount {m['point']} ({kind})", node,
               lambda m=m: process.run(["umount", m["point"]]))
    loaded = provision.loaded_modules()
    rmmod = provision._which("lustre_rmmod")
    if "lnet_selftest" in loaded and not rmmod:
        _timed(actions, "rmmod lnet_selftest", node,
               lambda: process.run(["rmmod", "lnet_selftest"]))
    lnetctl = provision._which("lnetctl")
    # With Lustre's modules loaded LNet is busy until they go: lustre_rmmod unconfigures
    # it itself between the two.
    if "lnet" in loaded and lnetctl and "ptlrpc" not in loaded and "lnet_selftest" not in loaded:
        _timed(actions, "lnetctl lnet unconfigure", node,
               lambda: _best_effort([lnetctl, "lnet", "unconfigure"]))
    if provision.lustre_modules():
        if rmmod:
            _timed(actions, "lustre_rmmod", node, lambda: process.run([rmmod]))
        for module in provision.unload_order(provision.loaded_modules()):
            _timed(actions, f"rmmod {module}", node,
                   lambda module=module: process.run(["rmmod", module]))
    if not actions:
        print(f"clean: nothing to clean on {node}", flush=True)
    return actions
