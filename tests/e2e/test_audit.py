"""The audit log (--audit-policy-file, --audit-log-path): upstream's policy levels and stages, events as JSON lines,
rotation; driven by the real kubectl and the Python client."""
import json
import os
import subprocess
import tempfile
import textwrap
import urllib.request

from conftest import TUG, Server, free_port, wait_until

POLICY = """
    apiVersion: audit.k8s.io/v1
    kind: Policy
    omitStages: [RequestReceived]
    rules:
    - level: None
      nonResourceURLs: ["/readyz", "/livez", "/healthz*", "/openapi/*", "/api", "/apis", "/apis/*", "/version"]
    - level: None
      users: ["system:kube-scheduler", "system:kube-controller-manager", "system:kube-proxy", "system:apiserver"]
    - level: None
      userGroups: ["system:serviceaccounts:kube-system", "system:nodes"]
    - level: None
      resources: [{group: "coordination.k8s.io", resources: ["leases"]}, {group: "", resources: ["events"]}]
    - level: Metadata
      resources: [{group: "", resources: ["secrets"]}]
    - level: RequestResponse
      namespaces: ["audited"]
      omitManagedFields: true
    - level: Metadata
"""


def events(path):
    """The events in one file; a file rotated away meanwhile has none, a line still being written is skipped."""
    try:
        with open(path) as f:
            lines = f.read().split("\n")
    except FileNotFoundError:
        return []
    found = []
    for line in lines:
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def audited_server(tmp, extra=(), agent=False):
    policy = os.path.join(tmp, "policy.yaml")
    with open(policy, "w") as f:
        f.write(textwrap.dedent(POLICY))
    log = os.path.join(tmp, "audit", "audit.log")
    return Server(agent=agent, extra_args=["--audit-policy-file", policy, "--audit-log-path", log, *extra]).start(), log


def find(log, predicate, what):
    return wait_until(lambda: [e for e in events(log) if predicate(e)] or None, 10, what)


def test_levels_stages_and_users_as_upstream():
    tmp = tempfile.mkdtemp(prefix="tug-audit-")
    server, log = audited_server(tmp)
    try:
        assert oct(os.stat(log).st_mode & 0o777) == "0o600", "events name users and may carry bodies: root only"
        server.kubectl("create", "secret", "generic", "vault", "-n", "default", "--from-literal=password=audit-me-not-4711")
        created = find(log, lambda e: e["verb"] == "create" and e.get("objectRef", {}).get("resource") == "secrets", "the secret's create")
        event = created[-1]
        assert event["level"] == "Metadata" and event["stage"] == "ResponseComplete"
        assert event["user"]["username"] == "admin" and "system:masters" in event["user"]["groups"]
        assert event["objectRef"] == {"resource": "secrets", "namespace": "default", "apiVersion": "v1"}
        assert event["responseStatus"] == {"metadata": {}, "code": 201}
        assert event["annotations"]["authorization.k8s.io/decision"] == "allow"
        assert event["userAgent"].startswith("kubectl/") and event["sourceIPs"] == ["127.0.0.1"]
        assert not [e for e in events(log) if e["stage"] == "RequestReceived"], "omitStages"
        with open(log) as f:
            assert "audit-me-not-4711" not in f.read() and "YXVkaXQtbWUtbm90LTQ3MTE" not in open(log).read(), "Metadata keeps no bodies"

        # RequestResponse in namespace audited: both bodies, without managedFields.
        server.kubectl("create", "namespace", "audited")
        server.kubectl("create", "configmap", "settings", "-n", "audited", "--from-literal=mode=fast")
        event = find(log, lambda e: e["verb"] == "create" and e.get("objectRef", {}).get("resource") == "configmaps", "the configmap's create")[-1]
        assert event["level"] == "RequestResponse" and event["objectRef"]["name"] == "settings"
        assert event["requestObject"]["data"] == {"mode": "fast"} and event["responseObject"]["metadata"]["uid"]
        assert "managedFields" not in event["responseObject"]["metadata"]

        # Denied, while impersonating: the real user, the impersonated one, the 403 and the decision.
        denied = server.kubectl("get", "pods", "-n", "default", "--as=jane", check=False)
        assert denied.returncode != 0
        event = find(log, lambda e: e.get("impersonatedUser", {}).get("username") == "jane" and e["verb"] == "list", "jane's list")[-1]
        assert event["user"]["username"] == "admin" and event["responseStatus"]["code"] == 403
        assert event["responseStatus"]["reason"] == "Forbidden" and 'User "jane" cannot list resource "pods"' in event["responseStatus"]["message"]
        assert event["annotations"]["authorization.k8s.io/decision"] == "forbid"

        # A watch: ResponseStarted when it begins, ResponseComplete when it ends.
        server.kubectl("get", "configmaps", "-n", "audited", "--watch", "--request-timeout=2s", check=False)
        watch = find(log, lambda e: e["verb"] == "watch" and e.get("objectRef", {}).get("namespace") == "audited", "the watch's events")
        wait_until(lambda: {"ResponseStarted", "ResponseComplete"} <= {e["stage"] for e in events(log) if e["verb"] == "watch"
                                                                      and e.get("objectRef", {}).get("namespace") == "audited"}, 10, "both stages")
        assert all(e["auditID"] == watch[0]["auditID"] for e in watch[:1])

        # No credentials: 401, audited without a user.
        request = urllib.request.Request(f"https://127.0.0.1:{server.port}/api/v1/pods")
        try:
            urllib.request.urlopen(request, context=server.ssl_context(), timeout=5)
            raise AssertionError("an anonymous request was served")
        except urllib.error.HTTPError as error:
            assert error.code == 401
            audit_id = error.headers["Audit-Id"]
        event = find(log, lambda e: e["auditID"] == audit_id, "the anonymous request")[-1]
        assert event["responseStatus"]["code"] == 401 and event["user"] == {}

        # The Python client: its requests are audited as the admin too, each with its own Audit-Id.
        from kubernetes import client, config
        api = client.CoreV1Api(config.new_client_from_config(config_file=server.kubeconfig))
        _, _, headers = api.list_namespaced_config_map_with_http_info("audited")
        event = find(log, lambda e: e["auditID"] == headers["Audit-Id"], "the Python client's list")[-1]
        assert event["verb"] == "list" and event["level"] == "RequestResponse" and event["responseObject"]["kind"] == "ConfigMapList"

        # Pod Security's audit mode annotates the event of a pod it would refuse (enforce lets it in here).
        server.kubectl("create", "namespace", "psa-audited")
        server.kubectl("label", "namespace", "psa-audited", "pod-security.kubernetes.io/audit=restricted")
        server.kubectl("run", "loose", "-n", "psa-audited", "--image=busybox", "--", "sleep", "3600")
        event = find(log, lambda e: e["verb"] == "create" and e.get("objectRef", {}).get("namespace") == "psa-audited"
                     and e["objectRef"].get("resource") == "pods", "the pod's create")[-1]
        assert event["annotations"]["pod-security.kubernetes.io/enforce-policy"] == "privileged:latest"
        assert event["annotations"]["pod-security.kubernetes.io/audit-violations"].startswith(
            'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false')

        # The in-process components are left out by the policy (users and groups rules).
        assert not [e for e in events(log) if e["user"].get("username", "").startswith("system:kube-")]
    finally:
        server.cleanup()


def test_exec_is_audited_as_a_stream():
    from podhelpers import node_ready, running_ready, wait_pod
    tmp = tempfile.mkdtemp(prefix="tug-audit-")
    server, log = audited_server(tmp, agent=True)
    try:
        wait_until(lambda: node_ready(server), 30, f"node not Ready:\n{server.tail()}")
        server.kubectl("run", "shell", "-n", "default", "--image=busybox", "--", "sleep", "3600")
        wait_pod(server, "default", "shell", running_ready, 30, "Running")
        assert server.kubectl("exec", "shell", "-n", "default", "--", "echo", "audited").stdout.strip() == "audited"
        stream = find(log, lambda e: e.get("objectRef", {}).get("subresource") == "exec" and e["stage"] == "ResponseComplete", "the exec's end")[-1]
        started = [e for e in events(log) if e["auditID"] == stream["auditID"] and e["stage"] == "ResponseStarted"]
        assert started and started[0]["responseStatus"]["code"] == 101
        assert stream["objectRef"] == {"resource": "pods", "namespace": "default", "name": "shell", "apiVersion": "v1", "subresource": "exec"}
        assert stream["user"]["username"] == "admin" and "command=echo" in stream["requestURI"]
    finally:
        server.cleanup()


def test_rotation_keeps_the_newest_backups():
    tmp = tempfile.mkdtemp(prefix="tug-audit-")
    server, log = audited_server(tmp, ["--audit-log-maxsize", "1", "--audit-log-maxbackup", "2"])
    try:
        server.kubectl("create", "namespace", "audited")
        blob = os.path.join(tmp, "blob")
        with open(blob, "w") as f:
            f.write("x" * 200_000)
        for i in range(12):
            server.kubectl("create", "configmap", f"big-{i}", "-n", "audited", f"--from-file=blob={blob}")
        directory = os.path.dirname(log)
        backups = wait_until(lambda: (lambda b: b if len(b) == 2 else None)(sorted(n for n in os.listdir(directory) if n.startswith("audit-"))),
                             10, "two backups")
        for name in backups:
            assert name.endswith(".log") and os.path.getsize(os.path.join(directory, name)) <= (1 << 20)
            assert oct(os.stat(os.path.join(directory, name)).st_mode & 0o777) == "0o600"
        # ResponseComplete is written once the response body is out, so the last event may land just after kubectl
        # returns (and the files may rotate meanwhile): look until it shows in the files kept.
        def kept_names():
            files = sorted(n for n in os.listdir(directory) if n.startswith("audit"))
            return {e.get("objectRef", {}).get("name") for name in files for e in events(os.path.join(directory, name))}
        wait_until(lambda: "big-11" in kept_names(), 10, "the newest events are in the files kept")
        assert len([n for n in os.listdir(directory) if n.startswith("audit-")]) == 2
    finally:
        server.cleanup()


def test_a_bad_policy_stops_start_up_with_one_clear_line():
    tmp = tempfile.mkdtemp(prefix="tug-audit-")
    policy = os.path.join(tmp, "policy.yaml")
    with open(policy, "w") as f:
        f.write("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n")
    result = subprocess.run([TUG, "server", "--data-dir", os.path.join(tmp, "data"), "--https-port", str(free_port()), "--disable-agent",
                             "--audit-policy-file", policy, "--audit-log-path", os.path.join(tmp, "audit.log")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert 'rules[0].level: Unsupported value: "Loud"' in result.stderr, result.stderr
    assert "Fatal error" not in result.stderr and len(result.stderr.strip().splitlines()) <= 2, result.stderr
