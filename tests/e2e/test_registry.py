"""Pulling from a real OCI distribution registry (Debian's docker-registry) on loopback, per imagePullPolicy."""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import urllib.request

import pytest

from conftest import free_port, wait_until
from imagebuild import busybox_layer, image_config
from podhelpers import container, wait_pod


@pytest.fixture(scope="module")
def registry():
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is missing: run `make deps`")
    root = tempfile.mkdtemp(prefix="tug-registry-")
    port = free_port()
    config = os.path.join(root, "config.yml")
    with open(config, "w") as f:
        f.write(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root}/data\nhttp:\n  addr: 127.0.0.1:{port}\n"
                "log:\n  level: warn\n")
    proc = subprocess.Popen([binary, "serve", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def up():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        wait_until(up, 30, "docker-registry did not answer on /v2/")
        yield f"127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(root, ignore_errors=True)


def push(registry, repository, tag, message):
    """Uploads a busybox-based image whose command prints `message`, through the registry's HTTP API."""
    layers = [busybox_layer(message.encode() + b"\n")]
    config = image_config(layers, ["/bin/sh", "-c", "cat /message"])

    def upload(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        start = urllib.request.Request(f"http://{registry}/v2/{repository}/blobs/uploads/", method="POST", data=b"")
        with urllib.request.urlopen(start) as r:
            location = r.headers["Location"]
        if location.startswith("/"):
            location = f"http://{registry}{location}"
        put = urllib.request.Request(location + ("&" if "?" in location else "?") + f"digest={digest}", method="PUT", data=data,
                                     headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(put) as r:
            assert r.status == 201
        return digest

    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": upload(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": upload(l), "size": len(l)} for l in layers],
    }
    body = json.dumps(manifest).encode()
    put = urllib.request.Request(f"http://{registry}/v2/{repository}/manifests/{tag}", method="PUT", data=body,
                                 headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    with urllib.request.urlopen(put) as r:
        assert r.status == 201
    return "sha256:" + hashlib.sha256(body).hexdigest()


def run_to_completion(node, ns, name, image, policy=None):
    args = ["run", name, "-n", ns, f"--image={image}", "--restart=Never"]
    if policy:
        args.append(f"--image-pull-policy={policy}")
    node.kubectl(*args)
    return wait_pod(node, ns, name, lambda p: p["status"].get("phase") in ("Succeeded", "Failed"), 60, "finished")


def test_pull_and_pull_policies(node, pod_namespace, registry):
    digest = push(registry, "test/hello", "latest", "version one")
    p = run_to_completion(node, pod_namespace, "first", f"{registry}/test/hello")
    assert node.kubectl("logs", "first", "-n", pod_namespace).stdout == "version one\n"
    assert container(p)["imageID"] == f"{registry}/test/hello@{digest}"

    push(registry, "test/hello", "latest", "version two")
    run_to_completion(node, pod_namespace, "kept", f"{registry}/test/hello", policy="IfNotPresent")
    assert node.kubectl("logs", "kept", "-n", pod_namespace).stdout == "version one\n", "IfNotPresent uses the local copy"
    run_to_completion(node, pod_namespace, "again", f"{registry}/test/hello")
    assert node.kubectl("logs", "again", "-n", pod_namespace).stdout == "version two\n", ":latest defaults to Always: pulled again"

    pinned = push(registry, "test/pinned", "v1", "by digest")
    run_to_completion(node, pod_namespace, "pinned", f"{registry}/test/pinned@{pinned}")
    assert node.kubectl("logs", "pinned", "-n", pod_namespace).stdout == "by digest\n"


def test_missing_images_back_off(node, pod_namespace, registry):
    node.kubectl("run", "nope", "-n", pod_namespace, f"--image={registry}/test/absent:1")
    p = wait_pod(node, pod_namespace, "nope", lambda p: container(p)["state"].get("waiting", {}).get("reason") == "ImagePullBackOff",
                 30, "ImagePullBackOff")
    assert "MANIFEST_UNKNOWN" in container(p)["state"]["waiting"]["message"]
    node.kubectl("run", "never", "-n", pod_namespace, f"--image={registry}/test/absent:2", "--image-pull-policy=Never")
    p = wait_pod(node, pod_namespace, "never", lambda p: container(p)["state"].get("waiting", {}).get("reason") == "ErrImageNeverPull",
                 30, "ErrImageNeverPull")
