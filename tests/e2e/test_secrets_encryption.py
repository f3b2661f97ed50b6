"""Secrets encrypted at rest (--secrets-encryption), readable through the API, across key rotation."""
import base64
import glob
import json
import os
import subprocess

from conftest import TUG, Server


def database_bytes(server):
    data = b""
    for path in glob.glob(os.path.join(server.data_dir, "server/db/state.db*")):
        with open(path, "rb") as f:
            data += f.read()
    return data


def secret_value(server):
    encoded = json.loads(server.kubectl("get", "secret", "vault", "-n", "default", "-o", "json").stdout)["data"]["password"]
    return base64.b64decode(encoded).decode()


def test_secret_values_never_reach_the_database_and_survive_rotation():
    server = Server(extra_args=["--secrets-encryption"]).start()
    try:
        plaintext = "correct-horse-battery-staple-4917"
        server.kubectl("create", "secret", "generic", "vault", "-n", "default", f"--from-literal=password={plaintext}")
        assert secret_value(server) == plaintext
        config = os.path.join(server.data_dir, "server/cred/encryption-config.json")
        assert oct(os.stat(config).st_mode & 0o777) == "0o600"
        raw = database_bytes(server)
        assert plaintext.encode() not in raw and base64.b64encode(plaintext.encode()) not in raw
        assert b"k8s:enc:aescbc:v1:aescbckey-" in raw

        def encrypt(*args):
            result = subprocess.run([TUG, "secrets-encrypt", *args, "--data-dir", server.data_dir], capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            return result.stdout
        status = encrypt("status")
        assert "Encryption Status: Enabled" in status and "Secrets stored: 1 aescbc key aescbckey-" in status
        first_key = json.load(open(config))["resources"][0]["providers"][0]["aescbc"]["keys"][0]["name"]
        def reencrypt():
            return subprocess.run([TUG, "secrets-encrypt", "reencrypt", "--data-dir", server.data_dir], capture_output=True, text=True, timeout=60)

        # k3s's online flow: prepare, restart, rotate, restart, reencrypt — with the server running throughout.
        encrypt("prepare")
        refused = reencrypt()
        assert refused.returncode != 0 and "changed after the server started: restart the server" in refused.stderr, refused.stderr
        server.stop()
        server.start()
        encrypt("rotate")
        assert reencrypt().returncode != 0, "the running server still writes under the old key"
        server.stop()
        server.start()  # writes the Secret again under the new key at start
        server.kubectl("create", "secret", "generic", "later", "-n", "default", "--from-literal=k=v")
        out = reencrypt()
        assert out.returncode == 0 and "removed 1 older key" in out.stdout, out.stderr
        keys = json.load(open(config))["resources"][0]["providers"][0]["aescbc"]["keys"]
        assert len(keys) == 1 and keys[0]["name"] != first_key
        assert f"Secrets stored: 2 aescbc key {keys[0]['name']}" in encrypt("status")
        server.stop()
        server.start()
        assert secret_value(server) == plaintext
        assert plaintext.encode() not in database_bytes(server)

        # And with the server stopped: reencrypt writes the Secrets again itself.
        encrypt("prepare")
        encrypt("rotate")
        server.stop()
        assert "removed 1 older key" in encrypt("reencrypt")
        server.start()
        assert secret_value(server) == plaintext
    finally:
        server.cleanup()


def test_kube_apiservers_configuration_file_with_secretbox(tmp_path):
    """--encryption-provider-config with secretbox first, aesgcm to read older values: kube-apiserver's file as is."""
    config = tmp_path / "encryption.yaml"
    key = base64.b64encode(bytes(range(32))).decode()
    config.write_text(f"""
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets, configmaps]
  providers:
  - secretbox:
      keys: [{{name: box1, secret: {key}}}]
  - aesgcm:
      keys: [{{name: gcm1, secret: {base64.b64encode(bytes(range(16))).decode()}}}]
  - identity: {{}}
""")
    server = Server(extra_args=["--encryption-provider-config", str(config)]).start()
    try:
        plaintext = "sealed-with-xsalsa20-poly1305"
        server.kubectl("create", "secret", "generic", "vault", "-n", "default", f"--from-literal=password={plaintext}")
        server.kubectl("create", "configmap", "settings", "-n", "default", f"--from-literal=mode={plaintext}")
        assert secret_value(server) == plaintext
        assert server.kubectl("get", "configmap", "settings", "-n", "default", "-o", "jsonpath={.data.mode}").stdout == plaintext
        raw = database_bytes(server)
        assert plaintext.encode() not in raw and base64.b64encode(plaintext.encode()) not in raw
        assert raw.count(b"k8s:enc:secretbox:v1:box1:") >= 2
    finally:
        server.cleanup()
