#!/usr/bin/env python3
"""inject.py FROM_PID TO_PID TYPE|find [WAIT] -- speak as process FROM_PID to
its peer TO_PID on one of their real channels, as a compromised FROM_PID could.

It takes a copy (pidfd_getfd) of FROM_PID's lowest-numbered socket whose
other end TO_PID holds (sock_diag, through ss), sends one frame of message
type TYPE on it (wire.h: u16 type, u16 flags 0, u32 payload length 0), and
waits up to WAIT seconds (default 10) for TO_PID's end to be closed: the
peer dropped.  It prints "fd N: dropped" or "fd N: kept", or "no channel"
when FROM_PID and TO_PID share none; with "find" it only says "fd N" or
"no channel".  It reads nothing from the socket: what comes on it stays
for its owner."""
import ctypes
import os
import select
import socket
import struct
import subprocess
import sys
import time

SYS_PIDFD_OPEN = 434
SYS_PIDFD_GETFD = 438
POLLRDHUP = 0x2000


def socket_table():
    """{inode: (peer inode, [(pid, fd), ...])} of every unix socket."""
    out = subprocess.run(["ss", "-xpn"], capture_output=True, text=True, check=True).stdout
    table = {}
    for line in out.splitlines()[1:]:
        tok = line.split()
        if len(tok) < 8 or not tok[5].isdigit() or not tok[7].isdigit():
            continue
        users = []
        for part in " ".join(tok[8:]).split("pid=")[1:]:
            pid, rest = part.split(",", 1)
            fd = rest.split("fd=", 1)[1].split(")", 1)[0]
            users.append((int(pid), int(fd)))
        table[int(tok[5])] = (int(tok[7]), users)
    return table


def channel_fd(from_pid, to_pid):
    """FROM's lowest fd whose peer socket TO holds, or None."""
    table = socket_table()
    fds = []
    for peer, users in table.values():
        peer_users = table.get(peer, (0, []))[1]
        if any(p == to_pid for p, _ in peer_users):
            fds += [fd for p, fd in users if p == from_pid]
    return min(fds) if fds else None


def take_fd(pid, fd):
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
    if pidfd < 0:
        raise OSError(ctypes.get_errno(), "pidfd_open")
    mine = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
    os.close(pidfd)
    if mine < 0:
        raise OSError(ctypes.get_errno(), "pidfd_getfd")
    return mine


def main():
    from_pid, to_pid = int(sys.argv[1]), int(sys.argv[2])
    wait = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
    fd = channel_fd(from_pid, to_pid)
    if fd is None:
        print("no channel")
        return 1
    if sys.argv[3] == "find":
        print(f"fd {fd}")
        return 0
    mtype = int(sys.argv[3])
    sock = socket.socket(fileno=take_fd(from_pid, fd))
    sock.send(struct.pack("<HHI", mtype, 0, 0))
    poller = select.poll()
    poller.register(sock.fileno(), POLLRDHUP)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        for _, ev in poller.poll(100):
            if ev & (POLLRDHUP | select.POLLHUP):
                print(f"fd {fd}: dropped")
                return 0
    print(f"fd {fd}: kept")
    return 0


sys.exit(main())
