"""`tug images`: the node's image store with the built-in busybox image."""
import shutil
import subprocess
import tempfile

from conftest import TUG


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
