import Testing
import TugAPIMachinery
@testable import TugAdmission

@Suite struct PodSecurityTests {
    static func spec(_ yaml: String) throws -> JSONValue { try YAMLDecoding.decode(yaml) }

    func texts(_ spec: JSONValue, _ level: PodSecurityLevel, version: String = "latest", metadata: JSONValue = .emptyObject) -> [String] {
        PodSecurityCheck.violations(metadata: metadata, spec: spec, level: .init(level, version: version)).map(\.text)
    }

    @Test func versionLabelsEvaluateTheChecksOfThatVersion() throws {
        let plain = try Self.spec("containers: [{name: c, image: busybox, securityContext: {runAsNonRoot: true, runAsUser: 0}}]")
        #expect(texts(plain, .restricted).map { String($0.prefix(24)) } == [
            "allowPrivilegeEscalation", "unrestricted capabilitie", "runAsUser=0 (container \"", "seccompProfile (pod or c",
        ])
        #expect(texts(plain, .restricted, version: "v1.22").map { String($0.prefix(24)) } == [
            "allowPrivilegeEscalation", "unrestricted capabilitie", "seccompProfile (pod or c",
        ], "runAsUser is checked from 1.23")
        #expect(texts(plain, .restricted, version: "v1.18").map { String($0.prefix(24)) } == ["allowPrivilegeEscalation"],
                "capabilities from 1.22, seccomp from 1.19; at 1.18 baseline's capabilities check stands and passes")
        #expect(texts(plain, .restricted, version: "v1.7").isEmpty)
        let added = try Self.spec("containers: [{name: c, image: busybox, securityContext: {capabilities: {add: [SYS_ADMIN]}}}]")
        #expect(texts(added, .restricted, version: "v1.21").contains { $0.hasPrefix("non-default capabilities") },
                "restricted:v1.21 still runs baseline's capabilities check")
        let sysctls = try Self.spec("securityContext: {sysctls: [{name: net.ipv4.tcp_rmem, value: '4096 87380 6291456'}]}\ncontainers: [{name: c, image: busybox}]")
        #expect(texts(sysctls, .baseline).isEmpty)
        #expect(texts(sysctls, .baseline, version: "v1.31") == ["forbidden sysctls (net.ipv4.tcp_rmem)"], "tcp_rmem is safe from 1.32")
        let unconfined = try Self.spec("securityContext: {seccompProfile: {type: Unconfined}}\ncontainers: [{name: c, image: busybox}]")
        #expect(!texts(unconfined, .baseline).isEmpty && texts(unconfined, .baseline, version: "v1.18").isEmpty)
    }

    @Test func aPlainPodIsBaselineButNotRestricted() throws {
        let plain = try Self.spec("containers: [{name: c, image: busybox}]")
        #expect(texts(plain, .baseline).isEmpty)
        #expect(texts(plain, .restricted) == [
            #"allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)"#,
            #"unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"])"#,
            #"runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true)"#,
            #"seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#,
        ])
        #expect(texts(plain, .privileged).isEmpty)
    }

    @Test func baselineRefusesHostAccess() throws {
        let escape = try Self.spec("""
            hostNetwork: true
            hostPID: true
            volumes: [{name: root, hostPath: {path: /}}, {name: data, emptyDir: {}}]
            securityContext: {sysctls: [{name: kernel.msgmax, value: "1"}, {name: net.ipv4.tcp_syncookies, value: "1"}]}
            containers:
            - name: a
              image: busybox
              ports: [{containerPort: 80, hostPort: 8080}]
              securityContext: {privileged: true, capabilities: {add: [SYS_ADMIN, CHOWN, NET_ADMIN]}, procMount: Unmasked}
            - name: b
              image: busybox
              securityContext: {privileged: true, seccompProfile: {type: Unconfined}}
            """)
        #expect(texts(escape, .baseline) == [
            #"non-default capabilities (container "a" must not include "NET_ADMIN", "SYS_ADMIN" in securityContext.capabilities.add)"#,
            "host namespaces (hostNetwork=true, hostPID=true)",
            #"hostPath volumes (volume "root")"#,
            #"hostPort (container "a" uses hostPort 8080)"#,
            #"privileged (containers "a", "b" must not set securityContext.privileged=true)"#,
            #"procMount (container "a" must not set securityContext.procMount to "Unmasked")"#,
            #"seccompProfile (container "b" must not set securityContext.seccompProfile.type to "Unconfined")"#,
            "forbidden sysctls (kernel.msgmax)",
        ])
        // At restricted, the restricted forms replace their baseline counterparts.
        let restricted = texts(escape, .restricted)
        #expect(restricted.contains(#"restricted volume types (volume "root" uses restricted volume type "hostPath")"#))
        #expect(!restricted.contains { $0.hasPrefix("hostPath volumes") || $0.hasPrefix("non-default capabilities") })
    }

    @Test func aRestrictedPodPasses() throws {
        let good = try Self.spec("""
            securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
            volumes: [{name: t, projected: {sources: []}}, {name: c, configMap: {name: x}}]
            containers:
            - name: c
              image: busybox
              securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}
            """)
        #expect(texts(good, .restricted).isEmpty)
        let root = try Self.spec("""
            securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
            containers:
            - name: c
              image: busybox
              securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, runAsUser: 0, runAsNonRoot: false}
            """)
        #expect(texts(root, .restricted) == [
            #"runAsNonRoot != true (container "c" must not set securityContext.runAsNonRoot=false)"#,
            #"runAsUser=0 (container "c" must not set runAsUser=0)"#,
        ])
    }

    @Test func namespaceLabelsOverrideDefaults() throws {
        let defaults = try PodSecurityPolicy.parseDefaults("enforce=privileged,warn=restricted")
        #expect(defaults.enforce == PodSecurityLevelVersion(.privileged) && defaults.warn == PodSecurityLevelVersion(.restricted))
        let (policy, errors) = defaults.overridden(by: ["pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "v1.30"])
        #expect(errors.isEmpty && policy.enforce.description == "baseline:v1.30" && policy.warn.description == "restricted:latest")
        let (_, bad) = defaults.overridden(by: ["pod-security.kubernetes.io/warn": "strict", "pod-security.kubernetes.io/audit-version": "2"])
        #expect(bad.errors.map(\.field) == ["metadata.labels[pod-security.kubernetes.io/audit-version]", "metadata.labels[pod-security.kubernetes.io/warn]"])
        #expect(throws: PodSecurityPolicy.ParseError.self) { try PodSecurityPolicy.parseDefaults("enforce=tight") }
        #expect(throws: PodSecurityPolicy.ParseError.self) { try PodSecurityPolicy.parseDefaults("block=baseline") }
    }
}
