"""Container hardening on a real node: seccomp profiles, host namespaces applied exactly, privileged containers with
the host's bounding set, the pod pids limit, and pod files no other local user can read.

Privileged like the other pod tests (`node` fixture: root, runc, CNI). Every container runs busybox on this machine.
"""
import glob
import json
import os
import stat
import subprocess

from conftest import wait_until
from podhelpers import apply, container, wait_pod

SA = "/var/run/secrets/kubernetes.io/serviceaccount"


def succeeded(p):
    return p["status"].get("phase") == "Succeeded"


def logs(node, ns, name, c=None):
    return node.kubectl("logs", name, "-n", ns, *(["-c", c] if c else [])).stdout


def status_field(text, field):
    return next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(field + ":"))


def test_seccomp_profiles(node, pod_namespace):
    profiles = os.path.join(node.data_dir, "agent", "seccomp", "profiles")
    os.makedirs(profiles, exist_ok=True)
    with open(os.path.join(profiles, "no-mkdir.json"), "w") as f:
        json.dump({"defaultAction": "SCMP_ACT_ALLOW",
                   "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}, f)
    show = "grep -E '^Seccomp(_filters)?:' /proc/self/status; mkdir /tmp/made && echo mkdir-ok || echo mkdir-denied"
    apply(node, pod_namespace, f"""
        apiVersion: v1
        kind: Pod
        metadata: {{name: seccomp}}
        spec:
          restartPolicy: Never
          securityContext: {{seccompProfile: {{type: RuntimeDefault}}}}
          containers:
          - {{name: default, image: busybox, command: [sh, -c, "{show}"]}}
          - {{name: unconfined, image: busybox, command: [sh, -c, "{show}"], securityContext: {{seccompProfile: {{type: Unconfined}}}}}}
          - name: localhost
            image: busybox
            command: [sh, -c, "{show}"]
            securityContext: {{seccompProfile: {{type: Localhost, localhostProfile: profiles/no-mkdir.json}}}}
        """)
    wait_pod(node, pod_namespace, "seccomp", succeeded, 30, "Succeeded")
    default = logs(node, pod_namespace, "seccomp", "default")
    assert status_field(default, "Seccomp") == "2", f"RuntimeDefault (from the pod) filters syscalls:\n{default}"
    assert "mkdir-ok" in default
    unconfined = logs(node, pod_namespace, "seccomp", "unconfined")
    assert status_field(unconfined, "Seccomp") == "0", f"the container's Unconfined wins over the pod's profile:\n{unconfined}"
    local = logs(node, pod_namespace, "seccomp", "localhost")
    assert status_field(local, "Seccomp") == "2" and "mkdir-denied" in local, local

    # A profile that is not there: the container does not start, and says why.
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: seccomp-missing}
        spec:
          containers:
          - {name: c, image: busybox, command: [sleep, "3600"], securityContext: {seccompProfile: {type: Localhost, localhostProfile: absent.json}}}
        """)
    p = wait_pod(node, pod_namespace, "seccomp-missing",
                 lambda p: container(p)["state"].get("waiting", {}).get("reason") == "CreateContainerConfigError", 30, "CreateContainerConfigError")
    assert "absent.json" in container(p)["state"]["waiting"]["message"]


def test_host_namespaces_are_applied_exactly(node, pod_namespace):
    script = "cat /proc/1/comm; readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid; readlink /proc/self/ns/net"
    for name, fields in [("host", "hostPID: true\n              hostIPC: true"), ("own", "hostPID: false")]:
        apply(node, pod_namespace, f"""
            apiVersion: v1
            kind: Pod
            metadata: {{name: ns-{name}}}
            spec:
              restartPolicy: Never
              {fields}
              containers:
              - {{name: c, image: busybox, command: [sh, -c, "{script}"]}}
            """)
    for name in ["host", "own"]:
        wait_pod(node, pod_namespace, f"ns-{name}", succeeded, 30, "Succeeded")
    host = [open("/proc/1/comm").read().strip(), os.readlink("/proc/self/ns/ipc"), os.readlink("/proc/self/ns/pid"), os.readlink("/proc/self/ns/net")]
    shared = logs(node, pod_namespace, "ns-host").split()
    assert shared[:3] == host[:3], "hostPID and hostIPC: the host's PID 1, IPC and PID namespaces"
    assert shared[3] != host[3], "hostNetwork was not asked for: the pod keeps its own network namespace"
    own = logs(node, pod_namespace, "ns-own").split()
    assert own[0] == "sh" and own[1] != host[1] and own[2] != host[2], own


def test_privileged_gets_the_hosts_bounding_set(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: priv}
        spec:
          restartPolicy: Never
          containers:
          - name: c
            image: busybox
            command: [sh, -c, "grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status; ls /dev; mkdir -p /tmp/m; mount -t tmpfs none /tmp/m && echo mounted; true"]
            securityContext: {privileged: true}
        """)
    wait_pod(node, pod_namespace, "priv", succeeded, 30, "Succeeded (it never started when tug asked for more than the host holds)")
    out = logs(node, pod_namespace, "priv")
    with open(f"/proc/{node.proc.pid}/status") as f:
        bounding = status_field(f.read(), "CapBnd")
    assert status_field(out, "CapEff") == bounding, out
    assert status_field(out, "Seccomp") == "0" and status_field(out, "NoNewPrivs") == "0"
    assert "mounted" in out
    host_devices = {name for name in os.listdir("/dev") if stat.S_ISCHR(os.lstat(f"/dev/{name}").st_mode) or stat.S_ISBLK(os.lstat(f"/dev/{name}").st_mode)}
    for device in {"loop-control", "kmsg", "mem"} & host_devices:
        assert device in out.split(), f"/dev/{device} of the host is in a privileged container"


def test_capability_outside_the_bounding_set_is_refused_plainly(node, pod_namespace):
    with open(f"/proc/{node.proc.pid}/status") as f:
        bounding = int(status_field(f.read(), "CapBnd"), 16)
    missing = next((name for bit, name in [(24, "SYS_RESOURCE"), (21, "SYS_ADMIN")] if not bounding & (1 << bit)), None)
    added = missing or "NET_ADMIN"
    apply(node, pod_namespace, f"""
        apiVersion: v1
        kind: Pod
        metadata: {{name: caps}}
        spec:
          containers:
          - {{name: c, image: busybox, command: [sleep, "3600"], securityContext: {{capabilities: {{add: [{added}]}}}}}}
        """)
    if missing is None:
        wait_pod(node, pod_namespace, "caps", lambda p: p["status"].get("phase") == "Running", 30, "Running with a held capability")
        return
    p = wait_pod(node, pod_namespace, "caps", lambda p: container(p)["state"].get("waiting", {}).get("reason") == "RunContainerError", 30,
                 "RunContainerError")
    assert f"capability CAP_{missing} is not in this node's bounding set" in container(p)["state"]["waiting"]["message"]


def test_pod_pids_limit(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: forks}
        spec:
          containers:
          - name: c
            image: busybox
            # A child shell forks (bounded) until it fails, which ends it; the count uses shell builtins only: at the
            # limit nothing else can start.
            command: [sh, -c, 'sh -c "n=0; while [ \\$n -lt 400 ]; do sleep 30 & n=\\$((n+1)); done" 2>&1; set -- /proc/[0-9]*; echo $#; exec sleep 3600']
        """)
    p = wait_pod(node, pod_namespace, "forks", lambda p: p["status"].get("phase") == "Running", 30, "Running")
    uid = p["metadata"]["uid"]
    limits = glob.glob(f"/sys/fs/cgroup/pids/tugboat/pod{uid}/pids.max") + glob.glob(f"/sys/fs/cgroup/tugboat/pod{uid}/pids.max")
    assert limits and open(limits[0]).read().strip() == "256", limits
    out = wait_until(lambda: (lambda text: text if text.strip().splitlines()[-1:] and text.strip().splitlines()[-1].isdigit() else None)(
        logs(node, pod_namespace, "forks")), 60, "the fork loop's count")
    assert "can't fork" in out, out[-500:]
    running = int(out.strip().splitlines()[-1])
    assert running <= 256, f"--pod-max-pids 256 holds the whole pod: {running} processes"


def test_pod_files_are_private_to_root_and_the_pods_user(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Secret
        metadata: {name: private}
        stringData: {password: hunter2}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: private}
        spec:
          securityContext: {runAsUser: 1000, fsGroup: 2000}
          containers:
          - name: c
            image: busybox
            command: [sh, -c, 'cat /sec/password; echo; stat -c "%a %u %g" /sec /sec/..data/password $(readlink -f /var/run/secrets/kubernetes.io/serviceaccount/token); exec sleep 3600']
            env: [{name: PASSWORD, valueFrom: {secretKeyRef: {name: private, key: password}}}]
            volumeMounts: [{name: sec, mountPath: /sec}]
          volumes:
          - {name: sec, secret: {secretName: private}}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: private-user}
        spec:
          securityContext: {runAsUser: 1000}
          containers:
          - {name: c, image: busybox, command: [sh, -c, 'stat -c "%a %u %g" /var/run/secrets/kubernetes.io/serviceaccount $(readlink -f /var/run/secrets/kubernetes.io/serviceaccount/token); wc -c < /var/run/secrets/kubernetes.io/serviceaccount/token; exec sleep 3600']}
        """)
    p = wait_pod(node, pod_namespace, "private", lambda p: p["status"].get("phase") == "Running", 30, "Running")
    out = logs(node, pod_namespace, "private").splitlines()
    assert out[0] == "hunter2", "the pod's user reads its secret"
    assert out[1:] == ["750 1000 2000", "644 1000 2000", "640 1000 2000"], out
    wait_pod(node, pod_namespace, "private-user", lambda p: p["status"].get("phase") == "Running", 30, "Running")
    user = logs(node, pod_namespace, "private-user").splitlines()
    assert user[:2] == ["700 1000 0", "600 1000 0"] and int(user[2]) > 100, user

    agent = os.path.join(node.data_dir, "agent")
    pod_dir = os.path.join(agent, "pods", p["metadata"]["uid"])
    assert stat.S_IMODE(os.stat(agent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(pod_dir).st_mode) == 0o750
    configs = glob.glob(os.path.join(agent, "containers", "*", "config.json")) + glob.glob(os.path.join(agent, "sandboxes", "*", "config.json"))
    assert configs and all(stat.S_IMODE(os.stat(c).st_mode) == 0o600 for c in configs)
    secret_file = os.path.join(pod_dir, "volumes", "secret", "sec", "password")
    as_nobody = subprocess.run(["runuser", "-u", "nobody", "--", "cat", secret_file], capture_output=True, text=True, timeout=10)
    assert as_nobody.returncode != 0 and "hunter2" not in as_nobody.stdout, "another local user cannot read a pod's secret"
    mine = next(c for c in configs if "hunter2" in open(c).read())
    as_nobody = subprocess.run(["runuser", "-u", "nobody", "--", "cat", mine], capture_output=True, text=True, timeout=10)
    assert as_nobody.returncode != 0 and "hunter2" not in as_nobody.stdout, "nor the container config that holds it in the environment"


def test_apparmor_is_refused_plainly_where_the_host_has_none(node, pod_namespace):
    if os.path.exists("/sys/module/apparmor/parameters/enabled") and open("/sys/module/apparmor/parameters/enabled").read().startswith("Y"):
        return
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: apparmor}
        spec:
          securityContext: {appArmorProfile: {type: RuntimeDefault}}
          containers:
          - {name: c, image: busybox, command: [sleep, "3600"]}
        """)
    p = wait_pod(node, pod_namespace, "apparmor",
                 lambda p: container(p)["state"].get("waiting", {}).get("reason") == "CreateContainerConfigError", 30, "CreateContainerConfigError")
    assert container(p)["state"]["waiting"]["message"] == "Cannot enforce AppArmor: AppArmor is not enabled on the host"
