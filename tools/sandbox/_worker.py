"""The program that runs inside the sandbox: a reaping launcher and a chain of state holders.

Standard library only (it runs under the sandbox's interpreter, not autan's). Each call forks the
holder: the child runs the code; on success it becomes the new holder (receiving the protocol
pipes over a socket, so user code never holds them), and on a timeout or crash the old holder
simply goes on with the state it had before the call. Speaks one JSON object per line.
"""

from __future__ import annotations

import builtins
import json
import os
import resource
import select
import signal
import socket
import sys
import time

TYPE_CHECKING = False  # typing is not imported at run time: it would slow every cold start
if TYPE_CHECKING:
    from typing import Any

    Req = dict[str, Any]
    Stat = dict[str, tuple[int, int]]
    Bufs = dict[int, bytearray]

ROOT = "/sandbox"
ORIGIN = "/run/autan/workspace.tar"
MARK = "\n[... output truncated: {} more bytes ...]\n"
NULL = os.open(os.devnull, os.O_RDWR)
MAX_LISTED = 5000


def set_limits(limits: dict[str, int], soft_only: bool = False) -> None:
    """Apply ``{"RLIMIT_X": value}``; soft-only limits can be lifted again by the holder."""
    for name, value in limits.items():
        res = getattr(resource, name)
        hard = resource.getrlimit(res)[1] if soft_only else value
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(res, (value, hard))


# Tool caches a command leaves behind are not changes to report (``pytest -q`` makes two).
CACHE_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis"}


def snapshot(root: str) -> dict[str, tuple[int, int]]:
    """Path -> (size, mtime) of every regular file under ``root``, outside tool caches."""
    seen: Stat = {}
    stack = [root]
    while stack and len(seen) < MAX_LISTED:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in CACHE_DIRS:
                    stack.append(entry.path)
            elif entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
                seen[os.path.relpath(entry.path, root)] = (st.st_size, st.st_mtime_ns)
    return seen


def origin_text(path: str) -> str | None:
    """The host workspace's version of ``path`` as text, or None."""
    import tarfile

    try:
        with tarfile.open(ORIGIN) as tar:
            member = tar.extractfile(path)
            return None if member is None else member.read().decode("utf-8")
    except (KeyError, OSError, UnicodeDecodeError, tarfile.TarError):
        return None


def file_diff(path: str, limit: int) -> str | None:
    """A unified diff of ``path`` against the host workspace's version, capped at ``limit``."""
    import difflib

    if not os.path.exists(ORIGIN):
        return None
    old = origin_text(path)
    try:
        with open(os.path.join(ROOT, path), encoding="utf-8") as fh:
            new = fh.read(limit * 4)
    except (OSError, UnicodeDecodeError):
        new = ""
    lines = difflib.unified_diff(
        (old or "").splitlines(True), new.splitlines(True), "a/" + path, "b/" + path
    )
    text = "".join(x if x.endswith("\n") else x + "\n\\ No newline at end of file\n" for x in lines)
    if len(text) <= limit:
        return text
    # Cut at a line end and say so: the marker makes apply_diff refuse the partial diff.
    return text[: text.rfind("\n", 0, limit) + 1] + "\\ autan: diff truncated\n"


def changes(before: Stat, after: Stat, limit: int) -> list[dict[str, Any]]:
    """Files the call added, modified or deleted, with diffs in workspace mode."""
    out = []
    for path in sorted(set(before) | set(after)):
        if before.get(path) == after.get(path):
            continue
        change = "deleted" if path not in after else "added" if path not in before else "modified"
        item = {"path": path, "change": change, "bytes": after.get(path, (0, 0))[0]}
        diff = file_diff(path, limit) if change != "deleted" else None
        if diff:
            item["diff"] = diff
        out.append(item)
    return out


def run_code(code: str, name: str, env: dict[str, Any]) -> dict[str, str] | None:
    """Execute one cell in ``env``; the error as data, with the user's frames only."""
    import linecache

    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    try:
        exec(compile(code, name, "exec"), env)
    except SystemExit as exc:
        if exc.code in (None, 0):
            return None
        return {"type": "SystemExit", "message": f"exit status {exc.code}", "traceback": ""}
    except BaseException as exc:  # noqa: BLE001 - user errors are results
        import traceback

        tb = exc.__traceback__.tb_next if exc.__traceback__ else None
        text = "".join(traceback.format_exception(type(exc), exc, tb))[-20000:]
        return {"type": type(exc).__name__, "message": str(exc)[:2000], "traceback": text}
    return None


def child(req: Req, fds: list[int], env: dict[str, Any], pipes: tuple[Any, ...]) -> list[int]:
    """The forked call: run the code or command with output on the pipes; maybe become holder."""
    out_w, err_w, st_w, sock = pipes
    for fd in fds:
        os.close(fd)
    os.setpgid(0, 0)
    os.dup2(NULL, 0)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    set_limits({"RLIMIT_CPU": req["cpu_s"], "RLIMIT_AS": req["memory"]}, soft_only=True)
    if req["op"] == "command":
        os.execv("/bin/sh", ["sh", "-c", req["command"]])
    error = run_code(req["code"], req["name"], env)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001, S110 - a broken stream must not lose the result
            pass
    os.dup2(NULL, 1)
    os.dup2(NULL, 2)
    os.close(out_w)
    os.close(err_w)
    os.write(st_w, json.dumps({"error": error}).encode())
    os.close(st_w)
    _, new_fds, _, _ = socket.recv_fds(sock, 16, 2)
    sock.close()
    if len(new_fds) != 2:
        os._exit(0)
    return new_fds


def read_output(fd: int, buf: bytearray, cap: int, counts: dict[int, int]) -> bool:
    """Read what is ready on ``fd``; keep up to ``cap`` bytes, count the rest."""
    data = os.read(fd, 65536)
    room = max(0, cap - len(buf))
    buf += data[:room]
    counts[fd] = counts.get(fd, 0) + max(0, len(data) - room)
    return bool(data)


def collect(pid: int, req: Req, reads: tuple[int, ...]) -> tuple[bool, bytes, Bufs, dict[int, int]]:
    """Gather output and status until the call ends or its wall-clock limit passes."""
    out_r, err_r, st_r = reads
    pidfd = os.pidfd_open(pid)
    bufs, status = {out_r: bytearray(), err_r: bytearray()}, bytearray()
    dropped: dict[int, int] = {}
    watch = {out_r, err_r, pidfd} | ({st_r} if req["op"] == "exec" else set())
    ended, deadline = False, time.monotonic() + req["timeout"]
    complete = False
    while not ended:
        wait = deadline - time.monotonic()
        ready = select.select(list(watch), [], [], max(0.0, wait))[0] if wait > 0 else []
        if not ready:
            break
        for fd in ready:
            if fd == pidfd:
                ended = True
            elif fd == st_r:
                data = os.read(st_r, 65536)
                status += data
                if not data:
                    ended, complete = True, True
                    watch.discard(st_r)
            elif not read_output(fd, bufs[fd], req["max_output"], dropped):
                watch.discard(fd)
    drain(watch & {out_r, err_r}, bufs, req["max_output"], dropped)
    os.close(pidfd)
    return ended, bytes(status) if complete else b"", bufs, dropped


def drain(fds: set[int], bufs: Bufs, cap: int, dropped: dict[int, int]) -> None:
    """Take what is left in the output pipes without waiting for stray writers."""
    until = time.monotonic() + 0.05
    while fds and time.monotonic() < until:
        ready = select.select(list(fds), [], [], 0)[0]
        if not ready:
            return
        for fd in ready:
            if not read_output(fd, bufs[fd], cap, dropped):
                fds.discard(fd)


def text(buf: bytearray, dropped: int) -> str:
    """Decoded output with the truncation marker when bytes were dropped."""
    out = bytes(buf).decode("utf-8", errors="replace")
    return out + MARK.format(dropped) if dropped else out


def gone(pgid: int) -> None:
    """Wait (up to a second) until every process of the killed call's group has been reaped."""
    until = time.monotonic() + 1.0
    while time.monotonic() < until:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return
        time.sleep(0.005)


def died(pid: int, req: Req, ended: bool) -> tuple[dict[str, str] | None, int | None]:
    """Reap a child that ended without a result and say why, as error data."""
    if not ended:
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        gone(pid)
        return {
            "type": "Timeout",
            "message": f"the call ran longer than {req['timeout']:g} s and was killed; "
            "the session keeps its state from before the call",
            "traceback": "",
        }, None
    _, status = os.waitpid(pid, 0)
    gone(pid)  # what the call left running in its process group goes with it
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        if req["op"] == "command":
            err = None if code == 0 else {"type": "ExitStatus", "message": f"exit status {code}"}
            return (err and {**err, "traceback": ""}), code
        return {"type": "Exited", "message": f"the code exited with status {code}"}, code
    sig = signal.Signals(os.WTERMSIG(status)).name
    why = {"SIGXCPU": "CPU time limit", "SIGKILL": "killed (CPU or memory limit)"}.get(sig, sig)
    message = f"the call died: {why}; the session keeps its state from before the call"
    return {"type": "Killed", "message": message, "traceback": ""}, None


def call(req: Req, fds: list[int], env: dict[str, Any]) -> list[int] | None:
    """Serve one exec/command request; returns new protocol fds when the child takes over."""
    reads, writes = zip(*(os.pipe() for _ in range(3)), strict=True)
    mine, theirs = socket.socketpair()
    before = snapshot(ROOT)
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        mine.close()
        for fd in reads:
            os.close(fd)
        return child(req, fds, env, (*writes, theirs))
    for fd in writes:
        os.close(fd)
    theirs.close()
    ended, status, bufs, dropped = collect(pid, req, reads)
    committed = req["op"] == "exec" and bool(status)
    error = json.loads(status)["error"] if committed else died(pid, req, ended)[0]
    out_r, err_r, _ = reads
    reply = {
        "ok": error is None,
        "stdout": text(bufs[out_r], dropped.get(out_r, 0)),
        "stderr": text(bufs[err_r], dropped.get(err_r, 0)),
        "error": error,
        "duration_ms": round((time.monotonic() - start) * 1000, 2),
        "truncated": any(dropped.values()),
        "files": changes(before, snapshot(ROOT), req["max_diff"]),
    }
    for fd in reads:
        os.close(fd)
    send(fds[1], reply)
    if committed:
        try:
            socket.send_fds(mine, [b"go"], list(fds))
            os._exit(0)
        except OSError:
            pass  # the child died after reporting: stay the holder
    mine.close()
    return None


def send(fd: int, obj: object) -> None:
    """Write one JSON line to the protocol pipe."""
    data = (json.dumps(obj) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


def receive(fd: int) -> Req | None:
    """Read one JSON line from the protocol pipe; None at end of input."""
    chunks = []
    while True:
        data = os.read(fd, 1 << 20)
        if not data:
            return None
        chunks.append(data)
        if data.endswith(b"\n"):
            req: Req = json.loads(b"".join(chunks))
            return req


def serve(fds: list[int], session_limits: dict[str, int]) -> None:
    """The holder loop: requests in, results out, state in ``env`` across calls."""
    env = {"__name__": "__main__", "__builtins__": builtins}
    count = 0
    while True:
        req = receive(fds[0])
        if req is None:
            os._exit(0)
        if req["op"] == "ping":
            send(fds[1], {"ok": True, "pid": os.getpid()})
            continue
        count += 1
        req["name"] = f"<cell-{count}>"
        new_fds = call(req, fds, env)
        if new_fds is not None:
            fds = new_fds
            set_limits(session_limits, soft_only=True)


def unpack_workspace() -> None:
    """Copy the host workspace (a tar the host made) into the scratch."""
    if os.path.exists(ORIGIN):
        import tarfile

        with tarfile.open(ORIGIN) as tar:
            tar.extractall(ROOT)


def become_subreaper() -> None:
    """Outside a PID namespace (unsafe host), adopt orphaned holders like PID 1 would."""
    import ctypes

    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap_forever() -> None:
    """PID 1 of the sandbox: reap every orphan; leave when nothing is left."""
    while True:
        try:
            os.wait()
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue


def main() -> None:
    """Set limits, unpack the workspace, start the first holder."""
    global ROOT, ORIGIN
    cfg = json.loads(sys.argv[1])
    ROOT, ORIGIN = cfg["root"], cfg.get("origin", ORIGIN)
    fds = [os.dup(0), os.dup(1)]
    for fd in (0, 1, 2):
        os.dup2(NULL, fd)
    os.chdir(ROOT)
    unpack_workspace()
    sys.path.extend(cfg.get("paths", []))
    set_limits(cfg["limits"])
    if os.getpid() != 1:
        become_subreaper()
    if os.fork():
        for fd in fds:
            os.close(fd)
        reap_forever()
    serve(fds, cfg["limits"])


if __name__ == "__main__":
    main()
