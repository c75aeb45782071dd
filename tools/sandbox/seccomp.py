"""A seccomp denylist for sandboxed code, compiled once to BPF with libseccomp (pyseccomp).

bubblewrap loads the program (``--seccomp FD``) just before it runs the sandbox's PID 1, so every
process inside inherits it and none can remove it. Denied calls fail with EPERM (ENOSYS for
clone3, so libc falls back to clone, whose namespace flags are checked here).
"""

from __future__ import annotations

import errno
import functools
import os
import tempfile

from autan.errors import ConfigError, missing_extra

# Kernel surface user code never needs: debugging other processes, mounts and namespaces, kernel
# keyrings, eBPF, perf, module and kexec loading, clock and swap changes, io_uring, handle opens.
DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsmount",
    "fsconfig", "fspick", "mount_setattr", "unshare", "setns",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "vhangup",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "open_by_handle_at", "name_to_handle_at", "lookup_dcookie", "iopl", "ioperm",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "fanotify_init", "personality",
)  # fmt: skip
# clone(2) flags that would create namespaces (a nested user namespace is the classic ladder).
NAMESPACE_FLAGS = (
    0x00020000,
    0x02000000,
    0x04000000,
    0x08000000,
    0x10000000,
    0x20000000,
    0x40000000,
)


@functools.cache
def denylist_bpf() -> bytes:
    """The compiled filter: allow by default, deny ``DENIED`` and namespace-creating clones."""
    try:
        import pyseccomp as sc
    except ImportError:
        raise missing_extra("sandbox", "pyseccomp") from None
    try:
        flt = sc.SyscallFilter(sc.ALLOW)
        for name in DENIED:
            try:
                flt.add_rule(sc.ERRNO(errno.EPERM), name)
            except (OSError, ValueError):
                continue  # a call this kernel or architecture does not have
        flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
        for bit in NAMESPACE_FLAGS:
            flt.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, bit, bit))
        with tempfile.TemporaryFile() as fh:
            flt.export_bpf(fh)
            fh.seek(0)
            return fh.read()
    except (OSError, RuntimeError) as exc:
        raise ConfigError(
            f"cannot build the sandbox's seccomp filter: {exc}",
            hint="install libseccomp2 (apt-get install libseccomp2) or set sandbox.seccomp = false",
        ) from None


def bpf_fd() -> int:
    """A fresh readable file descriptor holding the filter, for ``bwrap --seccomp FD``."""
    fd = os.memfd_create("autan-seccomp", 0)
    os.write(fd, denylist_bpf())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
