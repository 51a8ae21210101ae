#!/usr/bin/env python3
"""A throwaway PostgreSQL server for tests: loopback only, a free port.

    pg_cluster.py start DIR   initdb into DIR/data, start the server, print its URL
                              (also written to DIR/url); a server left running in
                              DIR by an earlier run is stopped and wiped first
    pg_cluster.py stop DIR    stop it and remove DIR/data

PostgreSQL refuses to run as root, so as root the cluster belongs to the
unprivileged user `nobody` (DIR is made traversable for it). Trust
authentication is enough: the server listens on 127.0.0.1 alone and has no
Unix socket. Durability settings are off (fsync, synchronous_commit): a test
cluster dies with its test; never use these settings for real data.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time

USER = "smk"  # the cluster's superuser, as the URL names it


def pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        sys.exit(f"pg_cluster: {name} not found (apt-get install postgresql)")
    return found[-1]


def as_owner():
    """The argv prefix and uid that run PostgreSQL's programs."""
    if os.geteuid() != 0:
        return [], os.geteuid(), os.getegid()
    pw = pwd.getpwnam("nobody")
    return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"], pw.pw_uid, pw.pw_gid


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(argv, **kw):
    return subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, **kw)


def stop(root):
    data = os.path.join(root, "data")
    prefix, _, _ = as_owner()
    if os.path.exists(os.path.join(data, "postmaster.pid")):
        subprocess.run(prefix + [pg_bin("pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(data, ignore_errors=True)


def start(root):
    root = os.path.abspath(root)
    os.makedirs(root, exist_ok=True)
    stop(root)
    prefix, uid, gid = as_owner()
    # Every directory above DIR must be traversable by the cluster's owner.
    d = root
    while d != "/":
        mode = os.stat(d).st_mode
        if os.stat(d).st_uid != uid and not mode & 0o001:
            os.chmod(d, mode | 0o001)
        d = os.path.dirname(d)
    data = os.path.join(root, "data")
    os.makedirs(data, mode=0o700)
    os.chown(data, uid, gid)
    log = os.path.join(root, "server.log")
    with open(log, "w"):
        pass
    os.chown(log, uid, gid)
    run(prefix + [pg_bin("initdb"), "-D", data, "-U", USER, "-A", "trust", "-E", "UTF8", "--locale=C",
                  "--no-sync"], stdout=subprocess.DEVNULL)
    for attempt in range(5):
        port = free_port()
        options = (f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=300 -c shared_buffers=64MB")
        r = subprocess.run(prefix + [pg_bin("pg_ctl"), "-D", data, "-l", log, "-o", options, "-w", "-t", "60",
                                     "start"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        if r.returncode == 0:
            break
        time.sleep(0.5)  # the port was taken between the probe and the start
    else:
        sys.stderr.write(open(log).read()[-4000:])
        sys.exit("pg_cluster: the server did not start")
    url = f"postgresql://{USER}@127.0.0.1:{port}/postgres"
    with open(os.path.join(root, "url"), "w") as f:
        f.write(url + "\n")
    print(url)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        sys.exit(__doc__)
    (start if sys.argv[1] == "start" else stop)(sys.argv[2])


if __name__ == "__main__":
    main()
