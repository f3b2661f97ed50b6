"""Real pods on this machine: `tug server` with its node agent, runc, overlayfs and CNI, driven by the real kubectl.

Privileged: needs root, runc, the CNI plugins and busybox-static (`make deps`). Every pod's traffic stays on this
machine: the host talks to pod addresses on the server's own bridge, pods talk to each other.
"""
import glob
import json
import os
import signal
import subprocess
import urllib.request

from conftest import wait_until
from podhelpers import apply, container, node_ready, pod, running_ready, wait_pod


def test_run_logs_and_isolation(node, pod_namespace):
    node.kubectl("run", "hello", "-n", pod_namespace, "--image=busybox", "--",
                 "sh", "-c", "echo hello from $HOSTNAME; hostname; echo pid1=$(cat /proc/1/comm); ps -o pid | wc -l; sleep 3600")
    p = wait_pod(node, pod_namespace, "hello", running_ready, 30, "Running and Ready")
    assert p["status"]["podIP"].startswith(node.pod_cidr.rsplit(".", 1)[0] + "."), "the address comes from the node's pod CIDR"
    assert container(p)["containerID"].startswith("tug://")
    assert container(p)["imageID"].startswith("docker.io/library/busybox@sha256:")
    logs = wait_until(lambda: (lambda out: out if len(out.splitlines()) >= 4 else None)(node.kubectl("logs", "hello", "-n", pod_namespace).stdout),
                      10, "log lines")
    lines = logs.splitlines()
    assert lines[0] == "hello from hello"
    assert lines[1] == "hello", "the container's hostname is the pod name (own UTS namespace)"
    assert lines[2] == "pid1=sh", "the container's command is PID 1 (own PID pod_namespace)"
    assert int(lines[3]) <= 4, f"only the container's own processes are visible: {lines[3]} lines of ps"
    described = wait_until(lambda: (lambda out: out if "Started" in out else None)(
        node.kubectl("describe", "pod", "hello", "-n", pod_namespace).stdout), 10, "events in kubectl describe")
    assert f"Successfully assigned {pod_namespace}/hello to" in described
    assert 'Container image "busybox" already present on machine' in described and "Created container hello" in described
    tail = node.kubectl("logs", "hello", "-n", pod_namespace, "--tail=1", "--timestamps").stdout.strip()
    assert tail.endswith(" " + lines[3]) and tail[:4].isdigit() and "T" in tail.split(" ")[0]


def test_exit_codes_and_phases(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: ok}
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox, command: [sh, -c, "echo fine"]}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: fails}
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox, command: [sh, -c, "echo failing; exit 3"]}]
        """)
    ok = wait_pod(node, pod_namespace, "ok", lambda p: p["status"].get("phase") == "Succeeded", 30, "Succeeded")
    terminated = container(ok)["state"]["terminated"]
    assert terminated["exitCode"] == 0 and terminated["reason"] == "Completed"
    failed = wait_pod(node, pod_namespace, "fails", lambda p: p["status"].get("phase") == "Failed", 30, "Failed")
    terminated = container(failed)["state"]["terminated"]
    assert terminated["exitCode"] == 3 and terminated["reason"] == "Error"
    assert terminated["startedAt"] <= terminated["finishedAt"]
    assert node.kubectl("logs", "fails", "-n", pod_namespace).stdout == "failing\n"
    listing = node.kubectl("get", "pods", "-n", pod_namespace).stdout
    assert "Completed" in listing and "Error" in listing


def test_crash_loop_backs_off(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: crash}
        spec:
          containers: [{name: c, image: busybox, command: [sh, -c, "echo attempt; exit 1"]}]
        """)

    def backing_off(p):
        c = container(p)
        return c.get("restartCount", 0) >= 1 and c["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff"

    p = wait_pod(node, pod_namespace, "crash", backing_off, 40, "CrashLoopBackOff after a restart")
    c = container(p)
    assert "back-off 10s restarting failed container=c pod=crash_" in c["state"]["waiting"]["message"]
    assert c["lastState"]["terminated"]["exitCode"] == 1
    assert p["status"]["phase"] == "Running"
    assert node.kubectl("logs", "crash", "-n", pod_namespace, "--previous").stdout == "attempt\n"
    assert "CrashLoopBackOff" in node.kubectl("get", "pod", "crash", "-n", pod_namespace).stdout


def test_volumes_env_and_security_context(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cfg}
        data: {greeting: hello, file.txt: "config file"}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: sec}
        stringData: {password: s3cret}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: vols, labels: {app: vols}}
        spec:
          restartPolicy: Never
          initContainers:
          - {name: init, image: busybox, command: [sh, -c, "echo from-init > /shared/init"], volumeMounts: [{name: shared, mountPath: /shared}]}
          containers:
          - name: main
            image: busybox
            command: [sh, -c, 'echo "$GREETING $PASS $POD_NAME $MEM"; cat /cfg/file.txt; echo; cat /sec/password; echo; cat /info/labels; echo; cat /shared/init; id -u; id -g; touch /ro-test 2>/dev/null && echo writable-root || echo read-only-root']
            env:
            - {name: GREETING, valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}}
            - {name: PASS, valueFrom: {secretKeyRef: {name: sec, key: password}}}
            - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
            - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
            resources: {limits: {memory: 64Mi}}
            securityContext: {runAsUser: 1000, runAsGroup: 2000, readOnlyRootFilesystem: true}
            volumeMounts:
            - {name: cfg, mountPath: /cfg}
            - {name: sec, mountPath: /sec}
            - {name: info, mountPath: /info}
            - {name: shared, mountPath: /shared}
          volumes:
          - {name: cfg, configMap: {name: cfg}}
          - {name: sec, secret: {secretName: sec}}
          - {name: info, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
          - {name: shared, emptyDir: {}}
        """)
    wait_pod(node, pod_namespace, "vols", lambda p: p["status"].get("phase") == "Succeeded", 30, "Succeeded")
    assert node.kubectl("logs", "vols", "-n", pod_namespace).stdout.splitlines() == [
        "hello s3cret vols 64", "config file", "s3cret", 'app="vols"', "from-init", "1000", "2000", "read-only-root"]
    assert node.kubectl("logs", "vols", "-n", pod_namespace, "-c", "init").stdout == ""


def test_resource_field_divisor_zero(node, pod_namespace):
    """client-go sends an unset divisor as "0": it means 1 (it divided by zero in the agent and killed the server,
    again at every restart). The Python client sends it exactly so."""
    from kubernetes import client, config
    api = config.new_client_from_config(config_file=node.kubeconfig)
    ref = lambda resource: client.V1ResourceFieldSelector(resource=resource, container_name="main", divisor="0")
    spec = client.V1PodSpec(restart_policy="Never", containers=[client.V1Container(
        name="main", image="busybox", command=["sh", "-c", "echo $CPU $MEM; cat /info/cpu; echo"],
        resources=client.V1ResourceRequirements(limits={"cpu": "1500m", "memory": "64Mi"}),
        env=[client.V1EnvVar(name="CPU", value_from=client.V1EnvVarSource(resource_field_ref=ref("limits.cpu"))),
             client.V1EnvVar(name="MEM", value_from=client.V1EnvVarSource(resource_field_ref=ref("limits.memory")))],
        volume_mounts=[client.V1VolumeMount(name="info", mount_path="/info")])],
        volumes=[client.V1Volume(name="info", downward_api=client.V1DownwardAPIVolumeSource(
            items=[client.V1DownwardAPIVolumeFile(path="cpu", resource_field_ref=ref("limits.cpu"))]))])
    client.CoreV1Api(api).create_namespaced_pod(pod_namespace, client.V1Pod(metadata=client.V1ObjectMeta(name="divisor"), spec=spec))
    stored = json.loads(node.kubectl("get", "pod", "divisor", "-n", pod_namespace, "-o", "json").stdout)
    assert stored["spec"]["containers"][0]["env"][0]["valueFrom"]["resourceFieldRef"]["divisor"] == "0"
    wait_pod(node, pod_namespace, "divisor", lambda p: p["status"].get("phase") == "Succeeded", 30, "Succeeded")
    assert node.kubectl("logs", "divisor", "-n", pod_namespace).stdout.split() == ["2", str(64 << 20), "2"]
    assert node.proc.poll() is None


def test_readiness_and_liveness_probes(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: probed}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: ready-later
            image: busybox
            command: [sh, -c, "sleep 2; touch /tmp/ready; sleep 3600"]
            readinessProbe: {exec: {command: [test, -f, /tmp/ready]}, periodSeconds: 1}
          - name: dies
            image: busybox
            command: [sh, -c, "touch /tmp/alive; sleep 2; rm /tmp/alive; sleep 3600"]
            livenessProbe: {exec: {command: [test, -f, /tmp/alive]}, periodSeconds: 1, failureThreshold: 2}
        """)
    early = wait_pod(node, pod_namespace, "probed", lambda p: p["status"].get("phase") == "Running", 30, "Running")
    assert container(early, "ready-later")["ready"] is False, "not ready before the readiness probe passes"
    wait_pod(node, pod_namespace, "probed", lambda p: container(p, "ready-later")["ready"], 20, "ready-later Ready")
    p = wait_pod(node, pod_namespace, "probed", lambda p: container(p, "dies").get("restartCount", 0) >= 1, 30, "liveness restart")
    assert container(p, "ready-later").get("restartCount", 0) == 0


def test_oom_killed(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: hog}
        spec:
          restartPolicy: Never
          containers:
          - name: hog
            image: busybox
            command: [sh, -c, 'x=$(head -c 100000000 /dev/zero | tr "\\\\0" a); echo survived']
            resources: {limits: {memory: 20Mi}}
        """)
    p = wait_pod(node, pod_namespace, "hog", lambda p: p["status"].get("phase") == "Failed", 60, "Failed")
    terminated = container(p)["state"]["terminated"]
    assert terminated["reason"] == "OOMKilled" and terminated["exitCode"] == 137


def test_pod_to_pod_and_host_to_pod_http(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
          - name: httpd
            image: busybox
            command: [sh, -c, "mkdir -p /www && echo hello-web > /www/index.html && exec httpd -f -p 8080 -h /www"]
            ports: [{containerPort: 8080, name: http}]
            readinessProbe: {httpGet: {path: /index.html, port: http}, periodSeconds: 1}
            livenessProbe: {tcpSocket: {port: 8080}, periodSeconds: 2}
        """)
    p = wait_pod(node, pod_namespace, "web", running_ready, 30, "Ready (httpGet readiness probe)")
    ip = p["status"]["podIP"]
    with urllib.request.urlopen(f"http://{ip}:8080/index.html", timeout=5) as response:
        assert response.read() == b"hello-web\n"
    node.kubectl("run", "client", "-n", pod_namespace, "--image=busybox", "--restart=Never", "--", "wget", "-qO-", f"http://{ip}:8080/index.html")
    wait_pod(node, pod_namespace, "client", lambda p: p["status"].get("phase") == "Succeeded", 30, "client Succeeded")
    assert node.kubectl("logs", "client", "-n", pod_namespace).stdout == "hello-web\n"


def test_logs_container_choice_and_follow(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: two}
        spec:
          restartPolicy: Never
          containers:
          - {name: a, image: busybox, command: [sh, -c, "for i in 1 2 3; do echo a$i; sleep 1; done"]}
          - {name: b, image: busybox, command: [sh, -c, "echo b; sleep 3600"]}
        """)
    wait_pod(node, pod_namespace, "two", lambda p: p["status"].get("phase") == "Running", 30, "Running")
    defaulted = node.kubectl("logs", "two", "-n", pod_namespace)
    assert 'Defaulted container "a" out of: a, b' in defaulted.stderr, "kubectl picks the first container itself"
    missing = node.kubectl("get", "--raw", f"/api/v1/namespaces/{pod_namespace}/pods/two/log", check=False)
    assert "a container name must be specified for pod two, choose one of: [a b]" in missing.stderr
    invalid = node.kubectl("logs", "two", "-n", pod_namespace, "-c", "nope", check=False)
    assert "container nope is not valid for pod two" in invalid.stderr
    followed = node.kubectl("logs", "-f", "two", "-n", pod_namespace, "-c", "a", timeout=30)
    assert followed.stdout == "a1\na2\na3\n", "follow streams until the container exits"


def test_kill9_and_adoption(node, pod_namespace):
    node.kubectl("run", "survivor", "-n", pod_namespace, "--image=busybox", "--", "sleep", "3600")
    before = wait_pod(node, pod_namespace, "survivor", running_ready, 30, "Running")
    # The survivor's own container only: containers of earlier tests' namespaces may still be stopping meanwhile.
    cid = container(before)["containerID"].split("://")[-1]
    assert monitor_count(node, cid) == 1, "one monitor for the survivor's container"
    node.stop(sig=signal.SIGKILL)
    assert monitor_count(node, cid) == 1, "containers keep running while the server is down"
    node.start()
    wait_until(lambda: node_ready(node), 30, "node Ready again")

    def adopted(p):
        c = container(p)
        return p["status"].get("phase") == "Running" and c["containerID"] == container(before)["containerID"]

    after = wait_pod(node, pod_namespace, "survivor", adopted, 30, "the same container, adopted")
    assert container(after)["restartCount"] == 0
    assert after["status"]["podIP"] == before["status"]["podIP"]
    assert monitor_count(node, cid) == 1, "no duplicate containers after the restart"


def monitor_count(s, container_id=""):
    pattern = f"__monitor .*--root {s.data_dir}/agent/runc .*--id {container_id}" if container_id else f"__monitor .*--root {s.data_dir}/agent/runc"
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, timeout=10).stdout
    return len(out.split())


def test_deletion_leaves_nothing_behind(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: gone}
        spec:
          terminationGracePeriodSeconds: 2
          containers:
          - name: c
            image: busybox
            command: [sh, -c, "trap 'echo bye; exit 0' TERM; while true; do sleep 1; done"]
            volumeMounts: [{name: mem, mountPath: /mem}]
          volumes: [{name: mem, emptyDir: {medium: Memory}}]
        """)
    p = wait_pod(node, pod_namespace, "gone", running_ready, 30, "Running")
    uid = p["metadata"]["uid"]
    agent = os.path.join(node.data_dir, "agent")
    assert glob.glob(f"/sys/fs/cgroup/memory/tugboat/pod{uid}")
    veths = []
    for cached in glob.glob(os.path.join(agent, "cni", "results", "*.json")):
        result = json.load(open(cached))
        if any(ip["address"].split("/")[0] == p["status"]["podIP"] for ip in result.get("ips", [])):
            veths = [i["name"] for i in result["interfaces"] if "sandbox" not in i and i["name"].startswith("veth")]
    assert veths, "the pod's host-side veth is known from its CNI result"
    assert all(os.path.exists(f"/sys/class/net/{v}") for v in veths)
    node.kubectl("delete", "pod", "gone", "-n", pod_namespace, "--wait=true", timeout=60)
    assert pod(node, pod_namespace, "gone") is None
    leftovers = [m for m in open("/proc/self/mounts").read().split("\n") if uid in m]
    assert leftovers == [], f"mounts left: {leftovers}"
    assert not os.path.exists(os.path.join(agent, "pods", uid))
    assert not [v for v in veths if os.path.exists(f"/sys/class/net/{v}")], "the pod's veth is removed"
    assert not glob.glob(f"/sys/fs/cgroup/*/tugboat/pod{uid}")
    for record in glob.glob(os.path.join(agent, "sandboxes", "*", "info.json")) + glob.glob(os.path.join(agent, "containers", "*", "info.json")):
        assert json.load(open(record))["podUID"] != uid, f"runtime record left: {record}"


def test_hooks_termination_message_and_startup_probe(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: hooked}
        spec:
          terminationGracePeriodSeconds: 5
          volumes: [{name: shared, emptyDir: {}}]
          containers:
          - name: c
            image: busybox
            command: [sh, -c, "touch /tmp/booted; while [ ! -f /shared/stop ]; do sleep 0.2; done; echo bye > /dev/termination-log; exit 7"]
            volumeMounts: [{name: shared, mountPath: /shared}]
            lifecycle:
              postStart: {exec: {command: [sh, -c, "echo started > /shared/post-start"]}}
            startupProbe: {exec: {command: [test, -f, /tmp/booted]}, periodSeconds: 1}
          - name: watcher
            image: busybox
            command: [sh, -c, "sleep 3600"]
            volumeMounts: [{name: shared, mountPath: /shared}]
        """)
    p = wait_pod(node, pod_namespace, "hooked", running_ready, 30, "Running and Ready after the startup probe")
    assert container(p, "c")["started"] is True
    out = node.kubectl("exec", "hooked", "-n", pod_namespace, "-c", "watcher", "--", "cat", "/shared/post-start").stdout
    assert out == "started\n", "postStart ran in the container"
    node.kubectl("exec", "hooked", "-n", pod_namespace, "-c", "watcher", "--", "touch", "/shared/stop")
    p = wait_pod(node, pod_namespace, "hooked", lambda p: container(p, "c").get("lastState", {}).get("terminated")
                 or container(p, "c")["state"].get("terminated"), 30, "c terminated")
    terminated = container(p, "c")["lastState"].get("terminated") or container(p, "c")["state"]["terminated"]
    assert terminated["exitCode"] == 7 and terminated["message"] == "bye\n", "the termination log becomes the message"


def test_service_account_credentials_and_host_port(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: creds}
        spec:
          containers:
          - name: c
            image: busybox
            command: [sh, -c, "mkdir -p /www && cp /var/run/secrets/kubernetes.io/serviceaccount/token /www/token && exec httpd -f -p 80 -h /www"]
            ports: [{containerPort: 80, hostPort: 18091}]
        """)
    wait_pod(node, pod_namespace, "creds", running_ready, 30, "Running")
    sa = "/var/run/secrets/kubernetes.io/serviceaccount"
    assert node.kubectl("exec", "creds", "-n", pod_namespace, "--", "cat", f"{sa}/namespace").stdout == pod_namespace
    ca = node.kubectl("exec", "creds", "-n", pod_namespace, "--", "cat", f"{sa}/ca.crt").stdout
    assert ca == open(os.path.join(node.data_dir, "server/tls/ca.crt")).read()
    # The token authenticates against the API (fetched through the pod's host port, on loopback); RBAC lets it read
    # pods once a RoleBinding grants `view` to the pod's service account.
    token = urllib.request.urlopen("http://127.0.0.1:18091/token", timeout=5).read().decode()

    def get_pod():
        return subprocess.run(["kubectl", "--kubeconfig", node.kubeconfig, "--cache-dir", node.cache_dir, "--token", token,
                               "get", "--raw", f"/api/v1/namespaces/{pod_namespace}/pods/creds"], capture_output=True, text=True, timeout=30)
    denied = get_pod()
    assert denied.returncode != 0 and "Forbidden" in denied.stderr, denied.stderr
    node.kubectl("create", "rolebinding", "creds-view", "-n", pod_namespace, "--clusterrole=view", f"--serviceaccount={pod_namespace}:default")
    result = wait_until(lambda: (r := get_pod()).returncode == 0 and r, 10, "the RoleBinding lets the pod's token read pods")
    assert json.loads(result.stdout)["metadata"]["name"] == "creds"


def test_log_rotation(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: chatty}
        spec:
          restartPolicy: Never
          containers:
          - name: c
            image: busybox
            command: [sh, -c, 'i=0; while [ $i -lt 4000 ]; do echo "line $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); done']
        """)
    p = wait_pod(node, pod_namespace, "chatty", lambda p: p["status"].get("phase") == "Succeeded", 60, "Succeeded")
    logs = glob.glob(os.path.join(node.data_dir, "agent", "pods", p["metadata"]["uid"], "logs", "c", "0.log*"))
    assert sorted(os.path.basename(f) for f in logs) == ["0.log", "0.log.1", "0.log.2"], "rotated at 64 KiB, 3 files kept"
    assert all(os.path.getsize(f) <= 70 * 1024 for f in logs)
    tail = node.kubectl("logs", "chatty", "-n", pod_namespace, "--tail=2").stdout.splitlines()
    assert [l.split()[1] for l in tail] == ["3998", "3999"]
