"""Pod Security Admission as kubectl users meet it: namespace labels, refusals and warnings with upstream's text."""
import json


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
