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


def docker_save_archive(path, tag):
    """A `docker save` archive built by hand: two layers (busybox-static and a message; the second replaces the
    message and whites out a file of the first), a config and manifest.json with RepoTags."""
    import hashlib
    import io
    import json
    import tarfile

    def layer(files):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for name, (data, mode, kind) in files.items():
                info = tarfile.TarInfo(name)
                if kind == "symlink":
                    info.type, info.linkname = tarfile.SYMTYPE, data
                    tar.addfile(info)
                elif kind == "dir":
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
                else:
                    info.size, info.mode = len(data), mode
                    tar.addfile(info, io.BytesIO(data))
        return buffer.getvalue()

    busybox = open("/usr/bin/busybox", "rb").read()
    base = layer({"bin": (b"", 0, "dir"), "bin/busybox": (busybox, 0o755, "file"), "bin/sh": ("busybox", 0, "symlink"),
                  "bin/cat": ("busybox", 0, "symlink"), "bin/ls": ("busybox", 0, "symlink"),
                  "message": (b"first\n", 0o644, "file"), "gone.txt": (b"old\n", 0o644, "file")})
    top = layer({"message": (b"second\n", 0o644, "file"), ".wh.gone.txt": (b"", 0o644, "file")})
    layers = [base, top]
    diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids},
                         "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh", "-c", "cat /message; ls /gone.txt 2>&1"]}}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    members = {config_name: config}
    layer_names = []
    for i, l in enumerate(layers):
        name = f"layer{i}/layer.tar"
        members[name] = l
        layer_names.append(name)
    members["manifest.json"] = json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": layer_names}]).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


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

    # Untagging keeps what the pod's container still uses; once the pod is gone, the blobs go too.
    removed = subprocess.run([TUG, "images", "rm", "--data-dir", node.data_dir, "example.com/tug/hello:1.0"],
                             capture_output=True, text=True, timeout=60)
    assert removed.returncode == 0 and "removed" not in removed.stdout, removed.stdout
    node.kubectl("delete", "pod", "imported", "-n", pod_namespace, "--wait=true", timeout=60)
    removed = subprocess.run([TUG, "images", "rm", "--data-dir", node.data_dir, "example.com/tug/hello:1.0"],
                             capture_output=True, text=True, timeout=60)
    assert "removed 4 blobs" in removed.stdout and "2 unpacked layers" in removed.stdout, removed.stdout

    missing = node.kubectl("run", "absent", "-n", pod_namespace, "--image=example.com/tug/hello:1.0", "--restart=Never")
    p = wait_pod(node, pod_namespace, "absent", lambda p: container(p)["state"].get("waiting", {}).get("reason") in ("ErrImagePull", "ImagePullBackOff"),
                 30, "ErrImagePull")
    assert "example.com/tug/hello:1.0" in container(p)["state"]["waiting"]["message"]
