"""Fixtures that start the real `tug server` binary and drive it with the real kubectl and the Python client."""
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

import pytest

TUG = os.environ.get("TUG_BIN") or os.path.join(os.path.dirname(__file__), "../../.build/debug/tug")


def wait_until(predicate, timeout, message, interval=0.05):
    """Polls `predicate` until it returns a truthy value (returned) or `timeout` seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s: {message}")
        time.sleep(interval)


_handed_out = set()


def free_port():
    """A TCP port nothing listens on, chosen below the kernel's ephemeral range. A port from bind(0) is released
    before the server binds it, and in between any outgoing connection on the machine may take it as its local
    port (CI once lost every pod test to that); ports below the range are never handed out that way."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    first = max(1024, low - 12000)
    for _ in range(200 if low - first >= 1000 else 0):
        port = random.randint(first, low - 1)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `tug server` process with its own data dir and port; with `agent`, also the node agent for this machine
    (real runc, overlayfs and CNI), and cleanup runs `tug reset` so no container, mount or veth outlives the test."""

    def __init__(self, data_dir=None, port=None, agent=False, extra_args=()):
        if not os.access(TUG, os.X_OK):
            raise RuntimeError(f"tug binary not found at {TUG}: run `swift build` (make test does) or set TUG_BIN")
        if shutil.which("kubectl") is None:
            raise RuntimeError("kubectl is not on PATH: it is needed for the end-to-end tests")
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="tug-e2e-")
        self.port = port or free_port()
        self.kubeconfig = os.path.join(self.data_dir, "admin.kubeconfig")
        self.cache_dir = tempfile.mkdtemp(prefix="kubectl-cache-")
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "server.log")
        self.agent = agent
        self.extra_args = list(extra_args)
        self.agent_port = free_port() if agent else None
        # A pod range of its own, so a cluster already running on this machine (`make up`) never shares addresses;
        # and a Service range of its own, so its proxy rules never catch another cluster's cluster IPs.
        self.pod_cidr = f"10.42.{random.randint(100, 199)}.0/24" if agent else None
        self.service_cidr = f"10.96.{random.randint(0, 255)}.0/24"
        self.ingress_http_port, self.ingress_https_port = free_port(), free_port()

    def start(self, timeout=30):
        self.log = open(self.log_path, "ab")
        node_args = ["--agent-port", str(self.agent_port), "--pod-cidr", self.pod_cidr] if self.agent else ["--disable-agent"]
        # Cluster DNS on a free port: several servers run at once during the tests.
        net_args = ["--service-cidr", self.service_cidr, "--cluster-dns-port", "0",
                    "--ingress-http-port", str(self.ingress_http_port), "--ingress-https-port", str(self.ingress_https_port)]
        self.proc = subprocess.Popen([TUG, "server", "--data-dir", self.data_dir, "--https-port", str(self.port), *node_args, *net_args, *self.extra_args],
                                     stdout=self.log, stderr=subprocess.STDOUT)

        last_error = []

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"tug server exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                return os.path.exists(self.kubeconfig) and self.raw("/readyz", auth=False) == (200, b"ok")
            except OSError as error:
                last_error[:] = [error]
                return False

        try:
            wait_until(ready, timeout, "tug server not ready")
        except BaseException as error:
            # A server that never got ready is stopped and its files removed before the error is reported.
            log = self.tail()
            try:
                self.cleanup()
            finally:
                raise AssertionError(f"{error}; last /readyz error: {last_error[:1]}\n{log}") from None
        return self

    def tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-4000:].decode(errors="replace")
        except OSError:
            return ""

    def token(self):
        with open(os.path.join(self.data_dir, "server/tls/admin.token")) as f:
            return f.read().strip()

    def ssl_context(self):
        return ssl.create_default_context(cafile=os.path.join(self.data_dir, "server/tls/ca.crt"))

    def raw(self, path, method="GET", body=None, headers=None, auth=True, timeout=10):
        req = urllib.request.Request(f"https://127.0.0.1:{self.port}{path}", data=body, method=method, headers=headers or {})
        if auth:
            req.add_header("Authorization", f"Bearer {self.token()}")
        try:
            with urllib.request.urlopen(req, context=self.ssl_context(), timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def kubectl(self, *args, input=None, check=True, timeout=60, env=None):
        cmd = ["kubectl", "--kubeconfig", self.kubeconfig, "--cache-dir", self.cache_dir, *args]
        full_env = dict(os.environ, **(env or {}))
        result = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, env=full_env)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\nserver log:\n{self.tail()}")
        return result

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
        return self.proc.returncode if self.proc else None

    def crashes(self):
        """Crash reports in the server's log: a crash anywhere is a bug, whatever the test asserted."""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if "Fatal error" in line or "Program crashed" in line]

    def cleanup(self):
        self.stop()
        crashes, log = self.crashes(), self.tail()
        try:
            self._remove()
        finally:
            if crashes:
                raise AssertionError(f"tug server crashed: {crashes[:3]}\n{log}")

    def _remove(self):
        if self.agent and os.path.isdir(self.data_dir):
            result = subprocess.run([TUG, "reset", "--data-dir", self.data_dir], capture_output=True, text=True, timeout=300)
            if result.returncode != 0:
                raise AssertionError(f"tug reset failed: {result.stdout}\n{result.stderr}")
        shutil.rmtree(self.data_dir, ignore_errors=True)
        shutil.rmtree(self.cache_dir, ignore_errors=True)


def proxy_chain_prefix(data_dir):
    """The prefix of the iptables chains of the service proxy whose agent state is in `<data_dir>/agent`
    (FNV-1a of that path, as TugProxy's ChainNames)."""
    value = 0xcbf29ce484222325
    for byte in f"{data_dir}/agent".encode():
        value = ((value ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "TUG-" + f"{value:X}"[-6:].rjust(6, "0")


def iptables_rules():
    """Every rule and chain of the filter and nat tables (iptables-save lines)."""
    lines = []
    for table in ("filter", "nat"):
        lines += subprocess.run(["iptables-save", "-t", table], capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    return lines


@pytest.fixture(scope="module")
def server():
    s = Server().start()
    yield s
    s.cleanup()


@pytest.fixture
def fresh_server():
    s = Server().start()
    yield s
    s.cleanup()


def namespace_for(server, request, prefix):
    """A namespace named after the test, deleted (without waiting) afterwards."""
    name = prefix + re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower())[:40].strip("-")
    server.kubectl("create", "namespace", name)
    yield name
    server.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def namespace(server, request):
    yield from namespace_for(server, request, "t-")


@pytest.fixture(scope="session")
def node():
    """One `tug server` with its node agent for all pod tests: real runc, overlayfs and CNI on this machine."""
    if os.geteuid() != 0:
        raise RuntimeError("the pod tests need root (runc, mounts, network namespaces)")
    for path in ["/usr/sbin/runc", "/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/portmap", "/usr/bin/busybox"]:
        if not os.path.exists(path):
            raise RuntimeError(f"{path} is missing: run `make deps`")
    from podhelpers import node_ready
    # Small log files, so rotation is exercised (tests/e2e/test_pods.py::test_log_rotation); a pod pids limit
    # (tests/e2e/test_hardening.py::test_pod_pids_limit).
    s = Server(agent=True, extra_args=["--container-log-max-size", "64Ki", "--container-log-max-files", "3", "--pod-max-pids", "256"]).start()
    try:
        wait_until(lambda: node_ready(s), 30, f"node not Ready:\n{s.tail()}")
        yield s
    finally:
        # Keep the server log for a failed run (the data dir goes away with `tug reset`).
        shutil.copyfile(s.log_path, os.path.join(tempfile.gettempdir(), "tug-e2e-pods-server.log"))
        s.cleanup()


@pytest.fixture
def pod_namespace(node, request):
    yield from namespace_for(node, request, "p-")
