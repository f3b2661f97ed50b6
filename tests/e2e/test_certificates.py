"""`tug certificate check|rotate`, as k3s's: with the server stopped, leaf certificates are set aside and the next
start issues new ones from the same CA; kubectl keeps working with the kubeconfig written at start."""
import os
import ssl
import subprocess

from conftest import TUG, Server


def certificate(data_dir, name):
    with open(os.path.join(data_dir, "server/tls", name)) as f:
        return f.read()


def served_certificate(server):
    """The PEM the API server presents."""
    return ssl.get_server_certificate(("127.0.0.1", server.port))


def tug(*args):
    return subprocess.run([TUG, *args], capture_output=True, text=True, timeout=60)


def test_rotate_issues_new_leaf_certificates_from_the_same_ca():
    server = Server().start()
    try:
        server.kubectl("create", "configmap", "before", "-n", "default", "--from-literal=k=v")
        ca, admin, serving = certificate(server.data_dir, "ca.crt"), certificate(server.data_dir, "admin.crt"), certificate(server.data_dir, "serving.crt")
        check = tug("certificate", "check", "--data-dir", server.data_dir)
        assert check.returncode == 0, check.stderr
        assert "server/tls/ca.crt" in check.stdout and "server/tls/admin.crt: subject CN=admin" in check.stdout and "days)" in check.stdout

        refused = tug("certificate", "rotate", "--data-dir", server.data_dir)
        assert refused.returncode != 0 and "stop it before rotating certificates" in refused.stderr

        server.stop()
        unknown = tug("certificate", "rotate", "--data-dir", server.data_dir, "--service", "etcd")
        assert unknown.returncode != 0 and 'unknown service "etcd"' in unknown.stderr
        rotated = tug("certificate", "rotate", "--data-dir", server.data_dir)
        assert rotated.returncode == 0, rotated.stderr
        backups = [d for d in os.listdir(os.path.join(server.data_dir, "server")) if d.startswith("tls-")]
        assert len(backups) == 1
        backup = os.path.join(server.data_dir, "server", backups[0])
        assert oct(os.stat(backup).st_mode & 0o777) == "0o700"
        assert open(os.path.join(backup, "server-tls-admin.crt")).read() == admin
        assert not os.path.exists(os.path.join(server.data_dir, "server/tls/admin.crt"))

        server.start()
        assert certificate(server.data_dir, "ca.crt") == ca, "the CA stays: nodes and clients keep trusting the server"
        assert certificate(server.data_dir, "admin.crt") != admin and certificate(server.data_dir, "serving.crt") != serving
        assert oct(os.stat(os.path.join(server.data_dir, "server/tls/admin.key")).st_mode & 0o777) == "0o600"
        assert served_certificate(server).strip() == certificate(server.data_dir, "serving.crt").strip()
        assert server.kubectl("get", "configmap", "before", "-n", "default", "-o", "jsonpath={.data.k}").stdout == "v"
        assert "admin" in server.kubectl("auth", "whoami").stdout
    finally:
        server.cleanup()
