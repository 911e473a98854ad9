"""The steps lutf adds to every test: the master runs them like the test's own steps, on the
nodes the test binds, so that they are sequenced, logged and timed the same way.

- ``lutf.clean@ROLE`` (first, unless ``--no-clean``): `lutf.clean.clean`.
- ``lutf.setup@ROLE`` (when the test declares LNet, a file system or a debug mask): loads
  the modules, sets the debug mask, applies the role's LNet; returns its NIDs.
- ``lutf.fs_servers``, ``lutf.fs_ost``, ``lutf.fs_client`` (a file system): mounts, in
  that order across the nodes.
- every step of the test comes after those.
- ``lutf.logs@ROLE`` (a cleanup, after the test's own): on a failed test, collects the
  node's logs (`lutf.logs.collect`); always removes fault rules and restores the debug mask.
- ``lutf.fs_umount_client``, ``lutf.fs_umount_ost``, ``lutf.fs_umount_servers``, then
  ``lutf.undo@ROLE`` (LNet down) when the test declared them.

Their names hold a dot, which a step of a test cannot have.
"""

import os
import time

from . import clean as _clean, errors, faults, lnet as _lnet, logs, process, provision
from . import fs as _fs

PREFIX = "lutf."


def _since(ctx):
    for name in ("lutf.clean", "lutf.setup"):
        value = ctx.results.get(f"{name}@{ctx.role}")
        if isinstance(value, dict) and value.get("since"):
            return value["since"]
    return time.time() - 600


def clean(ctx):
    """Unmount Lustre, unconfigure LNet and unload its modules on this node."""
    since = time.time()
    return {"since": since, "actions": _clean.clean(ctx.node.name)}


def setup(ctx):
    """Load the modules, set the debug mask and apply this role's LNet."""
    since = time.time()
    test = ctx.lnet_description
    out = {"since": since, "nids": [], "actions": []}
    wants_lnet = test is not None or ctx.declared.get("lnet") or ctx.fs is not None
    if wants_lnet:
        description = test
        if description is None and ctx.fs is not None and ctx.role in ctx.fs.roles():
            description = provision.LNet({r: {"nets": {"tcp": [0]}} for r in ctx.fs.roles()})
        if description is not None:
            out.update(provision.apply(ctx, description))
        elif not os.path.isdir("/sys/module/lnet") or not provision.nids_or_none():
            if provision._which("lnetctl") is None:
                raise errors.Skipped(f"LNet is not installed on {ctx.node.name} (no lnetctl)")
            provision.load_modules({"lnet": {}})
            process.run([provision._which("lnetctl"), "lnet", "configure", "--all"])
            out["nids"] = provision.nids()
        else:
            out["nids"] = provision.nids()
    mask = ctx.declared.get("debug")
    if mask:
        if provision._which("lctl") is None:
            ctx.log(f"no lctl on {ctx.node.name}: debug mask {mask} not set")
        else:
            provision.load_modules({"libcfs": {}})
            out["debug_before"] = logs.set_debug(mask)
    return out


def fs_part(part):
    def run(ctx):
        return _fs.set_up(ctx, ctx.fs, part)
    run.__name__ = f"fs_{part}"
    run.__doc__ = f"Mount this node's file system part ({part})."
    return run


def fs_umount(part):
    def run(ctx):
        return _fs.tear_down(ctx, ctx.fs, part)
    run.__name__ = f"fs_umount_{part}"
    run.__doc__ = f"Unmount this node's file system part ({part})."
    return run


def collect_logs(ctx):
    """On a failed test, this node's logs; always: fault rules removed, a selftest session
    left behind ended, the debug mask restored."""
    out = {}
    problems = []
    if ctx.failed:
        out["logs"] = logs.collect(_since(ctx))
        print(f"logs: collected {', '.join(k for k in ('debug_log', 'dmesg', 'journal') if k in out['logs'])}"
              f" on {ctx.node.name}", flush=True)
    if os.path.isdir("/sys/module/lnet") and provision._which("lnetctl"):
        try:
            out["faults_removed"] = bool(faults.clear() is not None)
        except errors.Failed as e:
            problems.append(e.reason)
    # A selftest session a killed step left behind (the helper keeps its key).
    workdir = os.environ.get("LUTF_WORKDIR")
    if workdir and os.path.exists(os.path.join(workdir, "lst-session")):
        try:
            _lnet._ask("lst", {"action": "end_session"})
            out["selftest_session_ended"] = True
        except _lnet.LnetError as e:
            print(f"ending the selftest session left behind: {e}", flush=True)
    setup_value = ctx.results.get(f"lutf.setup@{ctx.role}")
    if isinstance(setup_value, dict) and setup_value.get("debug_before"):
        try:
            logs.restore_debug(setup_value["debug_before"])
        except errors.CommandFailed as e:
            problems.append(f"restoring the debug mask: {e.reason}")
    if problems:
        if out.get("logs"):
            # The logs are worth more than the verdict of this step: keep them.
            print("; ".join(problems), flush=True)
            return out
        raise errors.Failed("; ".join(problems))
    return out


def undo(ctx):
    """Take LNet down on this node and unload its modules."""
    return {"actions": [{"action": a, "seconds": round(s, 3)} for a, s in provision.undo()]}
