# lutf's bundle installer, run on a node over SSH (see deploy.rs). Python 3.6+, stdlib only.
#
# Started as  python3 -I -S -c 'import sys;exec(sys.stdin.buffer.read(SIZE))' WORKDIR ID HASH KEEP
# so this program arrives on stdin; the bundle stream follows it only if the node asks.
# WORKDIR '' means /tmp/lutf-<user>. Talks JSON lines on stdout:
#   {"workdir": DIR, "state": "have"|"need", "why": ...}   after checking the workdir
#   {"installed": BYTES}                                     after unpacking a stream
#   {"done": true, "pruned": N}                              at the end
#   {"error": "workdir"|"deploy", "dir": DIR, "message": ...} instead, and exit 3.
# Stream: per file b"F" + <u32 mode, u32 path length, u64 size> (little endian) + path + data,
# then b"E". The sha256 of (path, NUL, u32 mode, u64 size, sha256(data)) over the files in
# path order is the bundle's hash: checked after the transfer, then written to MARKER.
#
# Before each use the files are checked against FINGERPRINT, their stat data at install
# (size, mode, mtime, ctime, inode: any write or chmod changes the ctime, which cannot be
# set back). Only when that differs is the content hashed again, and reinstalled if the hash
# differs. The common path imports nothing heavy: Python's start-up is most of its cost.
# lutf runs this only when the helper at its content-addressed path did not answer for its
# bundle: `lutf-helper --bundle HASH` checks MARKER and FINGERPRINT itself (the same line
# format: hex path, size, octal mode, mtime and ctime in ns, inode), so an unchanged re-run
# starts no Python at all.
import os
import stat
import sys

MARKER = ".lutf-bundle"
FINGERPRINT = ".lutf-stat"
STALE_SECONDS = 3600


class Refused(Exception):
    def __init__(self, kind, message):
        Exception.__init__(self, message)
        self.kind = kind
        self.message = message


def js(value):
    """JSON for a str, int or bool (the json module costs start-up time)."""
    if value is True:
        return "true"
    if isinstance(value, int):
        return str(value)
    out = []
    for c in value:
        if c in '"\\':
            out.append("\\" + c)
        elif c < " " or c > "~":
            n = ord(c)
            if n >= 0x10000:
                n -= 0x10000
                out.append("\\u%04x\\u%04x" % (0xD800 + (n >> 10), 0xDC00 + (n & 0x3FF)))
            else:
                out.append("\\u%04x" % n)
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def say(**fields):
    body = ", ".join("%s: %s" % (js(k), js(v)) for k, v in sorted(fields.items()))
    sys.stdout.write("{" + body + "}\n")
    sys.stdout.flush()


def check_workdir(workdir):
    """Creates WORKDIR (0700) or refuses one that another user could tamper with."""
    try:
        st = os.lstat(workdir)
    except FileNotFoundError:
        try:
            os.makedirs(workdir, 0o700)
            os.chmod(workdir, 0o700)
        except FileExistsError:
            pass
        except OSError as e:
            raise Refused("workdir", "cannot create it: %s" % e.strerror)
        st = os.lstat(workdir)
    if stat.S_ISLNK(st.st_mode):
        raise Refused("workdir", "is a symbolic link; remove it or choose another --workdir")
    if not stat.S_ISDIR(st.st_mode):
        raise Refused("workdir", "exists and is not a directory")
    me = os.geteuid()
    if st.st_uid != me:
        raise Refused(
            "workdir",
            "owned by uid %d, not by us (uid %d); remove it or choose another --workdir"
            % (st.st_uid, me),
        )
    if st.st_mode & 0o022:
        raise Refused(
            "workdir",
            "is writable by others (mode %o); run `chmod 700 %s`"
            % (st.st_mode & 0o777, workdir),
        )
    if os.statvfs(workdir).f_flag & getattr(os, "ST_NOEXEC", 8):
        raise Refused(
            "workdir",
            "is on a filesystem mounted noexec, so the helper cannot run from it; "
            "choose another --workdir",
        )


def bundle_files(root):
    """(relative path as bytes, path, lstat) of the bundle's files, in path order; None if
    ROOT holds anything else (links, devices)."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            if os.path.islink(os.path.join(dirpath, d)):
                return None
        # Python writes its byte-code caches beside the modules: not part of the bundle.
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for n in filenames:
            path = os.path.join(dirpath, n)
            rel = os.path.relpath(path, root)
            if rel not in (MARKER, FINGERPRINT):
                st = os.lstat(path)
                if not stat.S_ISREG(st.st_mode):
                    return None
                files.append((os.fsencode(rel), path, st))
    files.sort()
    return files


def fingerprint(files):
    return "".join(
        "%s %d %o %d %d %d\n"
        % (rel.hex(), st.st_size, st.st_mode, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        for rel, _, st in files
    )


def tree_hash(files):
    """The bundle hash of FILES (from bundle_files)."""
    import hashlib
    import struct

    h = hashlib.sha256()
    for rel, path, st in files:
        d = hashlib.sha256()
        with open(path, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                d.update(chunk)
        h.update(rel + b"\0" + struct.pack("<IQ", st.st_mode & 0o7777, st.st_size) + d.digest())
    return h.hexdigest()


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def have_bundle(dest, full):
    """Whether DEST holds exactly the bundle FULL; else why not."""
    marker = read(os.path.join(dest, MARKER))
    if marker is None:
        return False, "absent"
    if marker.strip() != full:
        return False, "incomplete or another bundle under its name"
    files = bundle_files(dest)
    if files is None:
        return False, "it holds links or special files"
    if read(os.path.join(dest, FINGERPRINT)) == fingerprint(files):
        return True, "unchanged since it was installed and verified"
    # Touched since: only the content can tell.
    if tree_hash(files) != full:
        return False, "its files changed since it was installed"
    write_fingerprint(dest, files)
    return True, "verified"


def write_fingerprint(dest, files):
    tmp = os.path.join(dest, FINGERPRINT + ".tmp")
    with open(tmp, "w") as f:
        f.write(fingerprint(files))
    os.rename(tmp, os.path.join(dest, FINGERPRINT))


def read_exact(src, n):
    data = src.read(n)
    if len(data) != n:
        raise Refused("deploy", "the bundle stream was cut short")
    return data


def unpack(src, tmp, full):
    """Unpacks the stream from SRC into TMP, checking its hash; returns bytes read."""
    import hashlib
    import struct

    h = hashlib.sha256()
    total = 0
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    while True:
        tag = read_exact(src, 1)
        total += 1
        if tag == b"E":
            break
        if tag != b"F":
            raise Refused("deploy", "the bundle stream is corrupt (record tag %r)" % tag)
        mode, plen, size = struct.unpack("<IIQ", read_exact(src, 16))
        rel = read_exact(src, plen) if plen <= 4096 else b""
        parts = rel.split(b"/")
        if (
            not rel
            or b"\0" in rel
            or rel in (MARKER.encode(), FINGERPRINT.encode())
            or mode & ~0o777
            or any(p in (b"", b".", b"..") for p in parts)
        ):
            raise Refused("deploy", "the bundle stream holds a bad entry %r" % rel[:200])
        d = hashlib.sha256()
        path = os.path.join(tmp, os.fsdecode(rel))
        os.makedirs(os.path.dirname(path), 0o700, exist_ok=True)
        fd = os.open(path, flags, 0o600)
        with os.fdopen(fd, "wb") as f:
            left = size
            while left:
                chunk = src.read(min(left, 1 << 20))
                if not chunk:
                    raise Refused("deploy", "the bundle stream was cut short")
                f.write(chunk)
                d.update(chunk)
                left -= len(chunk)
            os.fchmod(f.fileno(), mode)
        h.update(rel + b"\0" + struct.pack("<IQ", mode, size) + d.digest())
        total += 16 + plen + size
    got = h.hexdigest()
    if got != full:
        raise Refused(
            "deploy", "bundle hash mismatch after the transfer: expected %s, got %s" % (full, got)
        )
    return total


def install(workdir, bid, full):
    """Receives the bundle into a temporary folder and renames it into place."""
    import shutil

    pid = os.getpid()
    tmp = os.path.join(workdir, ".tmp-%s-%d" % (bid, pid))
    dest = os.path.join(workdir, bid)
    shutil.rmtree(tmp, ignore_errors=True)
    os.mkdir(tmp, 0o700)
    try:
        received = unpack(sys.stdin.buffer, tmp, full)
        write_fingerprint(tmp, bundle_files(tmp))
        with open(os.path.join(tmp, MARKER), "w") as f:
            f.write(full + "\n")
        try:
            os.rename(tmp, dest)
        except OSError:
            # DEST exists: another run's copy (keep it if good) or a bad one (replace it).
            if have_bundle(dest, full)[0]:
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                old = os.path.join(workdir, ".old-%s-%d" % (bid, pid))
                os.rename(dest, old)
                os.rename(tmp, dest)
                shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return received


def is_bundle_name(name):
    return len(name) == 16 and all(c in "0123456789abcdefABCDEF" for c in name)


def prune(workdir, bid, keep):
    """Removes all but the KEEP most recently used bundles (never BID) and stale leftovers."""
    import time

    bundles = []
    stale = []
    now = time.time()
    for name in os.listdir(workdir):
        path = os.path.join(workdir, name)
        if is_bundle_name(name) and name != bid:
            try:
                bundles.append((os.stat(os.path.join(path, MARKER)).st_mtime, path))
            except OSError:
                pass
        elif name.startswith((".tmp-", ".old-")):
            try:
                if now - os.lstat(path).st_mtime > STALE_SECONDS:
                    stale.append(path)
            except OSError:
                pass
    bundles.sort()
    old = [path for _, path in bundles[: max(0, len(bundles) + 1 - keep)]]
    if not old and not stale:
        return 0
    import shutil

    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    removed = 0
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.exists(path):
            removed += 1
    return removed


def main(argv):
    workdir, bid, full, keep = argv[0], argv[1], argv[2], int(argv[3])
    if not workdir:
        import pwd

        workdir = "/tmp/lutf-" + pwd.getpwuid(os.geteuid()).pw_name
    workdir = os.path.abspath(workdir)
    try:
        check_workdir(workdir)
        dest = os.path.join(workdir, bid)
        ok, why = have_bundle(dest, full)
        say(workdir=workdir, state="have" if ok else "need", why=why)
        if not ok:
            say(installed=install(workdir, bid, full))
        # Touch the marker: pruning keeps the bundles used last.
        os.utime(os.path.join(dest, MARKER), None)
        say(done=True, pruned=prune(workdir, bid, keep))
        return 0
    except Refused as e:
        say(error=e.kind, dir=workdir, message=e.message)
    except OSError as e:
        say(error="deploy", dir=workdir, message="%s: %s" % (e.filename or workdir, e.strerror))
    return 3


sys.exit(main(sys.argv[1:]))
