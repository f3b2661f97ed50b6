"""Admission as kubectl users meet it: Pod Security labels, refusals and warnings, LimitRange defaults and bounds, ResourceQuota, with upstream's text."""
import json

from conftest import wait_until


PRIVILEGED = """
apiVersion: v1
kind: Pod
metadata: {name: escape}
spec:
  hostNetwork: true
  hostPID: true
  hostIPC: true
  volumes: [{name: root, hostPath: {path: /}}]
  containers:
  - name: c
    image: busybox
    securityContext: {privileged: true, capabilities: {add: [SYS_ADMIN]}}
"""

RESTRICTED = """
apiVersion: v1
kind: Pod
metadata: {name: tidy}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: c
    image: busybox
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""


def test_a_restricted_namespace_refuses_host_access_and_admits_a_restricted_pod(server, namespace):
    server.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    refused = server.kubectl("apply", "-n", namespace, "-f", "-", input=PRIVILEGED, check=False)
    assert refused.returncode != 0
    assert ('pods "escape" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false '
            '(container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set '
            'securityContext.capabilities.drop=["ALL"]; container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add), '
            'host namespaces (hostNetwork=true, hostPID=true, hostIPC=true), privileged (container "c" must not set securityContext.privileged=true), '
            'restricted volume types (volume "root" uses restricted volume type "hostPath"), runAsNonRoot != true (pod or container "c" must set '
            'securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to '
            '"RuntimeDefault" or "Localhost")') in refused.stderr
    created = server.kubectl("apply", "-n", namespace, "-f", "-", input=RESTRICTED)
    assert "pod/tidy created" in created.stdout and "Warning" not in created.stderr


def test_baseline_enforces_and_restricted_warns(server, namespace):
    server.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=baseline", "pod-security.kubernetes.io/warn=restricted")
    refused = server.kubectl("apply", "-n", namespace, "-f", "-", input=PRIVILEGED, check=False)
    assert 'violates PodSecurity "baseline:latest": non-default capabilities (container "c" must not include "SYS_ADMIN" in ' in refused.stderr
    assert "host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)" in refused.stderr
    assert 'hostPath volumes (volume "root")' in refused.stderr
    plain = server.kubectl("run", "plain", "-n", namespace, "--image=busybox", "--", "sleep", "1")
    assert "pod/plain created" in plain.stdout
    assert plain.stderr.startswith('Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "plain"')
    # Workloads are warned about (their pods are what enforcement refuses).
    deploy = server.kubectl("create", "deployment", "web", "-n", namespace, "--image=nginx")
    assert 'Warning: would violate PodSecurity "restricted:latest"' in deploy.stderr and 'container "nginx"' in deploy.stderr
    # Tightening the namespace says which pods already there would be refused.
    tighten = server.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted", "--overwrite")
    assert f'Warning: existing pods in namespace "{namespace}" violate the new PodSecurity enforce level "restricted:latest"' in tighten.stderr
    assert "Warning: plain: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile" in tighten.stderr


def test_labels_are_validated_and_versions_shown(server, namespace):
    bad = server.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=strict", check=False)
    assert bad.returncode != 0
    assert ('metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted'
            in bad.stderr)
    server.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=baseline", "pod-security.kubernetes.io/enforce-version=v1.30")
    refused = server.kubectl("apply", "-n", namespace, "-f", "-", input=PRIVILEGED, check=False)
    assert 'violates PodSecurity "baseline:v1.30"' in refused.stderr
    labels = json.loads(server.kubectl("get", "namespace", namespace, "-o", "json").stdout)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.30"


def test_the_cluster_default_warns_without_refusing(server, namespace):
    # `tug server` defaults to enforce=privileged, warn=restricted.
    created = server.kubectl("apply", "-n", namespace, "-f", "-", input=PRIVILEGED)
    assert "pod/escape created" in created.stdout
    assert 'Warning: would violate PodSecurity "restricted:latest":' in created.stderr and "privileged (container" in created.stderr


def test_limit_range_defaults_and_bounds(server, namespace):
    server.kubectl("apply", "-n", namespace, "-f", "-", input="""
        apiVersion: v1
        kind: LimitRange
        metadata: {name: defaults}
        spec:
          limits:
          - type: Container
            default: {cpu: 500m, memory: 256Mi}
            defaultRequest: {cpu: 200m, memory: 128Mi}
            max: {cpu: "1"}
          - type: PersistentVolumeClaim
            min: {storage: 1Gi}
        """)
    server.kubectl("run", "plain", "-n", namespace, "--image=busybox")
    pod = json.loads(server.kubectl("get", "pod", "plain", "-n", namespace, "-o", "json").stdout)
    assert pod["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "200m", "memory": "128Mi"}}
    assert pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == \
        "LimitRanger plugin set: cpu, memory request for container plain; cpu, memory limit for container plain"
    big = server.kubectl("run", "big", "-n", namespace, "--image=busybox",
                         "--overrides", '{"spec":{"containers":[{"name":"big","image":"busybox","resources":{"limits":{"cpu":"2"}}}]}}', check=False)
    assert 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2' in big.stderr
    claim = server.kubectl("apply", "-n", namespace, "-f", "-", check=False, input="""
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: small}
        spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 100Mi}}}
        """)
    assert "minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 100Mi" in claim.stderr
    table = server.kubectl("get", "limits", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "CREATED", "AT"] and table[1].startswith("defaults")


def test_resource_quota_refuses_what_exceeds_it_and_reports_usage(server, namespace):
    server.kubectl("create", "quota", "compute", "-n", namespace, "--hard=pods=2,requests.cpu=1,configmaps=2")
    small = '{"spec":{"containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"400m"}}}]}}'
    for name in ("a", "b"):
        server.kubectl("run", name, "-n", namespace, "--image=busybox", "--overrides", small)
    refused = server.kubectl("run", "c", "-n", namespace, "--image=busybox", "--overrides", small, check=False)
    assert ('pods "c" is forbidden: exceeded quota: compute, requested: pods=1,requests.cpu=400m, used: pods=2,requests.cpu=800m, '
            'limited: pods=2,requests.cpu=1') in refused.stderr
    server.kubectl("delete", "pod", "b", "-n", namespace, "--wait=false")
    wait_until(lambda: server.kubectl("get", "pod", "b", "-n", namespace, check=False).returncode != 0, 30, "pod b is gone")
    unrequested = server.kubectl("run", "d", "-n", namespace, "--image=busybox", check=False)
    assert 'pods "d" is forbidden: failed quota: compute: must specify requests.cpu for: d' in unrequested.stderr
    # configmaps: kube-root-ca.crt is one of the two.
    server.kubectl("create", "configmap", "one", "-n", namespace)
    extra = server.kubectl("create", "configmap", "two", "-n", namespace, check=False)
    assert "exceeded quota: compute, requested: configmaps=1, used: configmaps=2, limited: configmaps=2" in extra.stderr

    def described():
        rows = {line.split()[0]: line.split()[1:] for line in server.kubectl("describe", "quota", "compute", "-n", namespace).stdout.splitlines()
                if line.split() and line.split()[0] in ("pods", "requests.cpu", "configmaps")}
        return rows == {"pods": ["1", "2"], "requests.cpu": ["400m", "1"], "configmaps": ["2", "2"]} and rows
    wait_until(described, 10, "kubectl describe quota shows the usage")

    # Updates are charged what they add: an existing pod may still be labelled at full quota; a Service turned
    # LoadBalancer (or NodePort) takes quota it did not use as ClusterIP.
    server.kubectl("label", "pod", "a", "-n", namespace, "tier=web")
    server.kubectl("create", "quota", "edge", "-n", namespace, "--hard=services.loadbalancers=0,services.nodeports=1")
    server.kubectl("create", "service", "clusterip", "web", "-n", namespace, "--tcp=80:80")
    to_lb = server.kubectl("patch", "service", "web", "-n", namespace, "-p", '{"spec":{"type":"LoadBalancer"}}', check=False)
    assert 'services "web" is forbidden: exceeded quota: edge, requested: services.loadbalancers=1' in to_lb.stderr, to_lb.stderr
    server.kubectl("patch", "service", "web", "-n", namespace, "-p", '{"spec":{"type":"NodePort"}}')
    more = server.kubectl("patch", "service", "web", "-n", namespace, "--type=json",
                          "-p", '[{"op":"add","path":"/spec/ports/-","value":{"name":"b","port":81,"targetPort":81}}]', check=False)
    assert "exceeded quota: edge, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1" in more.stderr, more.stderr
