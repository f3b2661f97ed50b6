"""Test images built by hand (no Docker engine here): layers as tar bytes, busybox-static as the base."""
import hashlib
import io
import json
import tarfile


def layer(files):
    """A layer tar from {name: (data, mode, kind)}, kind one of file, dir, symlink (data is then the target)."""
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


def busybox_layer(message=b"first\n"):
    busybox = open("/usr/bin/busybox", "rb").read()
    return layer({"bin": (b"", 0, "dir"), "bin/busybox": (busybox, 0o755, "file"), "bin/sh": ("busybox", 0, "symlink"),
                  "bin/cat": ("busybox", 0, "symlink"), "bin/ls": ("busybox", 0, "symlink"),
                  "message": (message, 0o644, "file"), "gone.txt": (b"old\n", 0o644, "file")})


def image_config(layers, cmd):
    diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
    return json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids},
                       "config": {"Env": ["PATH=/bin"], "Cmd": cmd}}).encode()


def docker_save_archive(path, tag):
    """A `docker save` archive: two layers (busybox-static and a message; the second replaces the message and
    whites out a file of the first), a config and manifest.json with RepoTags."""
    top = layer({"message": (b"second\n", 0o644, "file"), ".wh.gone.txt": (b"", 0o644, "file")})
    layers = [busybox_layer(), top]
    config = image_config(layers, ["/bin/sh", "-c", "cat /message; ls /gone.txt 2>&1"])
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
