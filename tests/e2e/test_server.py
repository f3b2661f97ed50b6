"""Server lifecycle: TLS and authentication, health, metrics, graceful shutdown, kill -9 durability, reset."""
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.request

from conftest import TUG, Server, wait_until


def test_https_only_and_401_without_credentials(server):
    status, body = server.raw("/api/v1/namespaces", auth=False)
    assert status == 401 and json.loads(body)["reason"] == "Unauthorized"
    status, _ = server.raw("/api/v1/namespaces", headers={"Authorization": "Bearer wrong"}, auth=False)
    assert status == 401
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        try:
            reply = s.recv(100)
        except (ConnectionResetError, socket.timeout):
            reply = b""
        assert not reply.startswith(b"HTTP/1.1 200")


def test_health_version_metrics(server):
    for path in ["/livez", "/readyz", "/healthz"]:
        assert server.raw(path, auth=False) == (200, b"ok")
    status, body = server.raw("/version/", auth=False)
    assert status == 200 and json.loads(body)["minor"] == "32"
    server.raw("/api/v1/namespaces")
    status, metrics = server.raw("/metrics")
    assert status == 200
    text = metrics.decode()
    assert "apiserver_request_total" in text and 'resource="namespaces"' in text
    assert "apiserver_request_duration_seconds" in text


def test_metrics_name_only_what_is_served(server):
    # Invented groups, resources, subresources and methods, with and without credentials: each would otherwise be a
    # new metric series for as long as the server runs.
    for n in range(20):
        assert server.raw(f"/apis/invented{n}.example.com/v1/things")[0] == 404
        assert server.raw(f"/api/v1/namespaces/default/invented{n}")[0] == 404
        assert server.raw(f"/api/v1/namespaces/default/pods/p/invented{n}")[0] == 404
        assert server.raw(f"/apis/anonymous{n}.example.com/v1/things", auth=False)[0] == 401
        # llhttp knows no such method: the request is not HTTP/1.1 and is answered 400 at once.
        assert server.raw(f"/api/v1/namespaces", method=f"INVENTED{n}")[0] == 400
    status, metrics = server.raw("/metrics")
    assert status == 200
    text = metrics.decode()
    assert "apiserver_request_total" in text and 'resource="namespaces"' in text
    for word in ("invented", "anonymous", "INVENTED"):
        assert word not in text, [line for line in text.splitlines() if word in line][:5]


def test_graceful_shutdown_on_sigterm():
    s = Server().start()
    idle = []
    try:
        # Connections that never send a request (TLS done, or not even that) are closed with the server, and are
        # no error of its own: the log says nothing at error level about them.
        idle = [socket.create_connection(("127.0.0.1", s.port), timeout=5) for _ in range(3)]
        idle.append(s.ssl_context().wrap_socket(socket.create_connection(("127.0.0.1", s.port), timeout=5), server_hostname="127.0.0.1"))
        code = s.stop(signal.SIGTERM, timeout=20)
        assert code == 0, f"exit status {code} after SIGTERM; server log:\n{s.tail()}"
        errors = [line for line in s.tail().splitlines() if " error " in line]
        assert not errors, errors
    finally:
        for conn in idle:
            conn.close()
        s.cleanup()


def test_acknowledged_writes_survive_kill_9():
    s = Server().start()
    acknowledged = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(worker):
        ctx = s.ssl_context()
        token = s.token()
        i = 0
        while not stop.is_set():
            name = f"w{worker}-{i}"
            body = json.dumps({"metadata": {"name": name}, "data": {"i": str(i)}}).encode()
            req = urllib.request.Request(f"https://127.0.0.1:{s.port}/api/v1/namespaces/default/configmaps", data=body, method="POST",
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
                    if resp.status == 201:
                        with lock:
                            acknowledged.append(name)
            except Exception:
                return
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    def burst_going():
        with lock:
            return len(acknowledged) >= 300

    wait_until(burst_going, 30, "the burst of creates did not get going", interval=0.01)
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()
    stop.set()
    for t in threads:
        t.join(timeout=10)
    restarted = Server(data_dir=s.data_dir, port=s.port).start()
    try:
        status, body = restarted.raw("/api/v1/namespaces/default/configmaps")
        names = {item["metadata"]["name"] for item in json.loads(body)["items"]}
        missing = [n for n in acknowledged if n not in names]
        assert not missing, f"{len(missing)} acknowledged creates were lost, e.g. {missing[:5]}"
    finally:
        restarted.cleanup()
        s.cleanup()  # the killed first process: its kubectl cache dir


def test_reset_removes_the_data_dir():
    s = Server().start()
    s.stop()
    out = subprocess.run([TUG, "reset", "--data-dir", s.data_dir], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and not os.path.exists(s.data_dir)
    refused = subprocess.run([TUG, "reset", "--data-dir", "/usr"], capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and os.path.exists("/usr/bin")
    s.cleanup()


def test_one_server_per_data_dir():
    s = Server().start()
    try:
        second = subprocess.run([TUG, "server", "--data-dir", s.data_dir, "--https-port", str(s.port + 1)],
                                capture_output=True, text=True, timeout=30)
        assert second.returncode != 0 and "another tug server" in second.stderr
        refused = subprocess.run([TUG, "reset", "--data-dir", s.data_dir], capture_output=True, text=True, timeout=30)
        assert refused.returncode != 0 and "stop it before resetting" in refused.stderr
        assert os.path.exists(s.kubeconfig)
    finally:
        s.cleanup()


def test_service_cidr(tmp_path):
    bad = subprocess.run([TUG, "server", "--data-dir", str(tmp_path / "bad"), "--service-cidr", "10.96.0.1/24", "--disable-agent"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "is not the start of a /24 (try 10.96.0.0/24)" in bad.stderr
    s = Server(extra_args=["--service-cidr", "10.96.0.0/24"]).start()
    try:
        kubernetes = json.loads(s.kubectl("get", "service", "kubernetes", "-o", "json").stdout)
        assert kubernetes["spec"]["clusterIP"] == "10.96.0.1"
        s.kubectl("create", "service", "clusterip", "web", "--tcp=80:8080")
        web = json.loads(s.kubectl("get", "service", "web", "-o", "json").stdout)
        assert web["spec"]["clusterIP"].startswith("10.96.0.")
        outside = s.kubectl("create", "service", "clusterip", "out", "--tcp=80:8080", "--clusterip=10.43.0.50", check=False)
        assert outside.returncode != 0 and "The range of valid IPs is 10.96.0.0/24" in outside.stderr
    finally:
        s.cleanup()
