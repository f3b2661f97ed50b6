"""`tug images`: the node's image store with the built-in busybox image."""
import os
import shutil
import subprocess
import tempfile

from conftest import TUG
from imagebuild import docker_save_archive


def test_images_list_and_remove():
    data_dir = tempfile.mkdtemp(prefix="tug-images-")
    try:
        listed = subprocess.run([TUG, "images", "--data-dir", data_dir], capture_output=True, text=True, timeout=60)
        assert listed.returncode == 0, listed.stderr
        lines = listed.stdout.splitlines()
        assert lines[0].split() == ["REFERENCE", "DIGEST", "SIZE"]
        assert lines[1].startswith("docker.io/library/busybox:latest")
        removed = subprocess.run([TUG, "images", "rm", "--data-dir", data_dir, "busybox"], capture_output=True, text=True, timeout=60)
        assert removed.returncode == 0 and "untagged: docker.io/library/busybox:latest" in removed.stdout
        missing = subprocess.run([TUG, "images", "rm", "--data-dir", data_dir, "nope"], capture_output=True, text=True, timeout=60)
        assert missing.returncode != 0 and "no such image: nope" in missing.stderr
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def test_import_run_and_collect(node, pod_namespace):
    from podhelpers import container, wait_pod

    archive = tempfile.NamedTemporaryFile(suffix=".tar", delete=False).name
    docker_save_archive(archive, "example.com/tug/hello:1.0")
    imported = subprocess.run([TUG, "images", "import", "--data-dir", node.data_dir, archive], capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    assert "imported: example.com/tug/hello:1.0 sha256:" in imported.stdout
    listed = subprocess.run([TUG, "images", "--data-dir", node.data_dir], capture_output=True, text=True, timeout=60).stdout
    assert "example.com/tug/hello:1.0" in listed

    node.kubectl("run", "imported", "-n", pod_namespace, "--image=example.com/tug/hello:1.0", "--restart=Never")
    p = wait_pod(node, pod_namespace, "imported", lambda p: p["status"].get("phase") in ("Succeeded", "Failed"), 60, "finished")
    assert node.kubectl("logs", "imported", "-n", pod_namespace).stdout == \
        "second\nls: /gone.txt: No such file or directory\n", "upper layer wins, whiteouts hide lower files"
    assert container(p)["imageID"].startswith("example.com/tug/hello@sha256:")

    # Untagging keeps what the pod's container still uses; once the pod is gone, its blobs go too.
    manifest = imported.stdout.split()[-1].split(":")[1]
    blob = os.path.join(node.data_dir, "images", "blobs", "sha256", manifest)
    removed = subprocess.run([TUG, "images", "rm", "--data-dir", node.data_dir, "example.com/tug/hello:1.0"],
                             capture_output=True, text=True, timeout=60)
    assert removed.returncode == 0 and os.path.exists(blob), removed.stdout
    node.kubectl("delete", "pod", "imported", "-n", pod_namespace, "--wait=true", timeout=60)
    subprocess.run([TUG, "images", "import", "--data-dir", node.data_dir, archive], capture_output=True, text=True, timeout=120)
    removed = subprocess.run([TUG, "images", "rm", "--data-dir", node.data_dir, "example.com/tug/hello:1.0"],
                             capture_output=True, text=True, timeout=60)
    assert "removed" in removed.stdout and not os.path.exists(blob), removed.stdout

    missing = node.kubectl("run", "absent", "-n", pod_namespace, "--image=example.com/tug/hello:1.0", "--restart=Never")
    p = wait_pod(node, pod_namespace, "absent", lambda p: container(p)["state"].get("waiting", {}).get("reason") in ("ErrImagePull", "ImagePullBackOff"),
                 30, "ErrImagePull")
    assert "example.com/tug/hello:1.0" in container(p)["state"]["waiting"]["message"]
