"""A throwaway PostgreSQL cluster for tests and benchmarks (standard library only).

    with temporary_cluster({"fsync": "off"}) as cluster:
        os.environ["DATABASE_URL"] = cluster.url

The cluster lives in a fresh /tmp/kopilka-pg-* directory: initdb there, the unix socket there,
no TCP (listen_addresses=''), trust authentication for the superuser `kopilka`. It is stopped
and the directory removed when the block ends, whatever the reason (error, Ctrl-C, SIGTERM once
`handle_termination_signals()` is installed). When run as root the server runs as `nobody`
(PostgreSQL refuses to run as root). If this process is killed outright (SIGKILL), the server
gets SIGQUIT through PR_SET_PDEATHSIG and the directory is reaped by the next run.

As a command:  python tools/pgcluster.py [--fast] [--set name=value ...] -- CMD ARGS...
runs CMD with DATABASE_URL (and PG* variables) pointing at a temporary cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

USER = "kopilka"
DIR_PREFIX = "kopilka-pg-"
OWNER_FILE = "owner.pid"
UNPRIVILEGED_USER = "nobody"
UNPRIVILEGED_GROUP = "nogroup"

# Settings that trade durability for speed: fine for a cluster that is thrown away anyway.
FAST_TUNING = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@dataclass(frozen=True)
class ClusterInfo:
    url: str  # postgres://kopilka@%2Ftmp%2Fkopilka-pg-xxx:PORT/postgres
    host: str  # the socket directory
    port: int
    user: str
    bindir: str

    def env(self, dbname: str = "postgres") -> dict[str, str]:
        """Variables for clients: DATABASE_URL for Django, PG* for psql/pgbench/createdb."""
        return {
            "DATABASE_URL": self.url_for(dbname),
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGDATABASE": dbname,
        }

    def url_for(self, dbname: str) -> str:
        host = urllib.parse.quote(self.host, safe="")
        return f"postgres://{self.user}@{host}:{self.port}/{urllib.parse.quote(dbname)}"

    def tool(self, name: str) -> str:
        return os.path.join(self.bindir, name)


class ClusterError(RuntimeError):
    pass


def find_bindir() -> str:
    """`pg_config --bindir` if pg_config exists, else the highest /usr/lib/postgresql/*/bin."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            ).stdout.strip()
            if out and os.path.exists(os.path.join(out, "initdb")):
                return out
        except (OSError, subprocess.CalledProcessError):
            pass

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    candidates = [
        p
        for p in glob.glob("/usr/lib/postgresql/*/bin")
        if os.path.exists(os.path.join(p, "initdb")) and version(p)
    ]
    if candidates:
        return max(candidates, key=version)
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise ClusterError("PostgreSQL binaries not found (no pg_config, no /usr/lib/postgresql/*/bin)")


def free_port() -> int:
    # The server listens on a socket file only, so the port merely names that file; still pick
    # one nothing else uses, so that a PGPORT-style mix-up cannot reach another server.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _base_dir() -> str:
    """Where the cluster directory goes: short, lowercase (URL hostnames are lowercased)."""
    base = tempfile.gettempdir()
    # 107 bytes is the sun_path limit; leave room for /kopilka-pg-xxxxxxxx/.s.PGSQL.NNNNN.
    if len(base) > 60 or base != base.lower() or not base.isascii():
        base = "/tmp"
    return base


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_stale(base: str | None = None) -> list[str]:
    """Remove cluster directories whose owning process is gone (left by a SIGKILLed run)."""
    removed = []
    for path in glob.glob(os.path.join(base or _base_dir(), DIR_PREFIX + "*")):
        try:
            owner = int(Path(path, OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue  # being created right now by someone else, or not ours: leave it
        if pid_alive(owner):
            continue
        postmaster = Path(path, "data", "postmaster.pid")
        with contextlib.suppress(OSError, ValueError, IndexError):
            pm_pid = int(postmaster.read_text().split()[0])
            if pid_alive(pm_pid):
                os.kill(pm_pid, signal.SIGQUIT)
                _wait_gone(pm_pid, 10)
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)


def _set_pdeathsig(sig: int) -> None:
    """In a child (preexec_fn): get `sig` if the process that started us dies (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _pdeathsig_quit() -> None:
    _set_pdeathsig(signal.SIGQUIT)  # the server: immediate shutdown


def _pdeathsig_term() -> None:
    _set_pdeathsig(signal.SIGTERM)  # a client command: terminate with us


def _locale_args(bindir: str) -> list[str]:
    # C.UTF-8 keeps byte-order collation but lets upper()/lower() know Cyrillic (icontains).
    try:
        names = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split()
    except OSError:
        names = []
    for name in ("C.UTF-8", "C.utf8"):
        if name in names:
            return ["--encoding=UTF8", f"--locale={name}"]
    return ["--encoding=UTF8", "--locale=C"]


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    sigs = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def temporary_cluster(
    tuning: dict | None = None, *, log=None, startup_timeout: float = 60
) -> Iterator[ClusterInfo]:
    """Start a throwaway cluster with `tuning` as extra server settings; yield its ClusterInfo."""
    bindir = find_bindir()
    base = _base_dir()
    reap_stale(base)
    as_root = os.geteuid() == 0
    run_as: dict = {}
    if as_root:
        run_as = {"user": UNPRIVILEGED_USER, "group": UNPRIVILEGED_GROUP, "extra_groups": []}
    say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))

    workdir = tempfile.mkdtemp(prefix=DIR_PREFIX, dir=base)
    server: subprocess.Popen | None = None
    try:
        Path(workdir, OWNER_FILE).write_text(f"{os.getpid()}\n")
        if as_root:
            import grp
            import pwd

            uid = pwd.getpwnam(UNPRIVILEGED_USER).pw_uid
            # Group of this process, so that we (root) can reach the socket even without
            # CAP_DAC_OVERRIDE; nobody else can.
            os.chown(workdir, uid, os.getegid())
            os.chmod(workdir, 0o750)
            grp.getgrnam(UNPRIVILEGED_GROUP)  # fail early with a clear KeyError if missing
        else:
            os.chmod(workdir, 0o700)
        datadir = os.path.join(workdir, "data")
        logfile = os.path.join(workdir, "postgres.log")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C",
            "TZ": "UTC",
            "HOME": workdir,
        }
        initdb = subprocess.run(
            [
                os.path.join(bindir, "initdb"),
                "-D",
                datadir,
                "-U",
                USER,
                "--auth=trust",
                "--no-sync",
                "--no-instructions",
                *_locale_args(bindir),
            ],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            **run_as,
        )
        if initdb.returncode != 0:
            raise ClusterError(f"initdb failed:\n{initdb.stdout}\n{initdb.stderr}")

        port = free_port()
        settings = {
            "listen_addresses": "",
            "unix_socket_directories": workdir,
            "port": str(port),
            "logging_collector": "off",
            **{k: str(v) for k, v in (tuning or {}).items()},
        }
        args = [os.path.join(bindir, "postgres"), "-D", datadir]
        for name, value in settings.items():
            args += ["-c", f"{name}={value}"]
        with open(logfile, "ab") as log_fh:
            server = subprocess.Popen(
                args,
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_fh,
                stderr=subprocess.STDOUT,
                # Own session: a Ctrl-C at the terminal reaches us, and we stop the server in
                # order, after the clients are gone.
                start_new_session=True,
                preexec_fn=_pdeathsig_quit,
                **run_as,
            )
        _wait_ready(bindir, workdir, port, server, logfile, startup_timeout)

        host = urllib.parse.quote(workdir, safe="")
        info = ClusterInfo(
            url=f"postgres://{USER}@{host}:{port}/postgres",
            host=workdir,
            port=port,
            user=USER,
            bindir=bindir,
        )
        parsed = urllib.parse.urlsplit(info.url)
        if urllib.parse.unquote(parsed.hostname or "") != workdir or parsed.port != port:
            raise ClusterError(f"{info.url} does not round-trip to {workdir}:{port}")
        owner = f" as {UNPRIVILEGED_USER}" if as_root else ""
        say(f"pgcluster: PostgreSQL started{owner} in {workdir} (port {port}, pid {server.pid})")
        yield info
    finally:
        with _signals_blocked():
            if server is not None:
                _stop(server)
            shutil.rmtree(workdir, ignore_errors=True)
        say(f"pgcluster: stopped and removed {workdir}")


def _wait_ready(bindir, workdir, port, server, logfile, timeout) -> None:
    pg_isready = os.path.join(bindir, "pg_isready")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ClusterError(f"postgres exited with {server.returncode}:\n{_tail(logfile)}")
        ready = subprocess.run(
            [pg_isready, "-q", "-h", workdir, "-p", str(port), "-U", USER, "-d", "postgres"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if ready.returncode == 0:
            return
        time.sleep(0.1)
    raise ClusterError(f"postgres not ready after {timeout}s:\n{_tail(logfile)}")


def _tail(path: str, lines: int = 40) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(server: subprocess.Popen) -> None:
    # SIGINT = fast shutdown (disconnects clients, clean checkpoint), then immediate, then kill.
    for sig, wait in ((signal.SIGINT, 30), (signal.SIGQUIT, 10), (signal.SIGKILL, 10)):
        if server.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            server.send_signal(sig)
        try:
            server.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


class Terminated(BaseException):
    """Raised in the main thread when SIGTERM/SIGHUP arrives, so `finally` blocks run."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def handle_termination_signals() -> None:
    """Turn SIGTERM/SIGHUP into a `Terminated` exception (once; later ones are ignored)."""
    state = {"fired": False}

    def handler(signum, frame):
        if state["fired"]:
            return
        state["fired"] = True
        raise Terminated(signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def run_child(cmd: list[str], env: dict, timeout: float | None = None, **kwargs) -> int:
    """Run cmd; if we are interrupted or it overruns, terminate it before unwinding."""
    proc = subprocess.Popen(cmd, env=env, preexec_fn=_pdeathsig_term, **kwargs)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        print(f"\n!! {cmd[0]} ran longer than {timeout:.0f}s: terminating it", file=sys.stderr)
        _terminate(proc)
        return 124
    except BaseException:
        _terminate(proc)
        raise


def _terminate(proc: subprocess.Popen) -> None:
    with _signals_blocked():
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            if proc.poll() is not None:
                return
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(wait)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run a command against a throwaway PostgreSQL cluster.",
        usage="%(prog)s [--fast] [--set NAME=VALUE ...] -- CMD [ARGS...]",
    )
    parser.add_argument("--fast", action="store_true", help="fsync/synchronous_commit off")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("no command given (put it after --)")
    tuning = dict(FAST_TUNING) if args.fast else {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set wants NAME=VALUE, got {item!r}")
        tuning[name] = value
    handle_termination_signals()
    try:
        with temporary_cluster(tuning) as cluster:
            return run_child(cmd, env={**os.environ, **cluster.env()})
    except KeyboardInterrupt:
        return 130
    except Terminated as exc:
        return 128 + exc.signum


if __name__ == "__main__":
    sys.exit(main())
