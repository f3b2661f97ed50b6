import TugAPIMachinery

/// The baseline level's checks (Kubernetes 1.32's Pod Security Standards): no host namespaces, privileged
/// containers, added capabilities beyond the default set, hostPath volumes, host ports, unmasked /proc, Unconfined
/// seccomp or AppArmor, custom SELinux types or users, unsafe sysctls, Windows host processes.
enum BaselineChecks {
    typealias V = PodSecurityCheck.Violation

    static let defaultCapabilities: Set<String> = [
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP",
        "SETUID", "SYS_CHROOT",
    ]

    /// The safe sysctls by the version that allowed them (upstream's sysctls check, v1.0, v1.27, v1.29, v1.32).
    static let safeSysctlsSince: [(minor: Int, names: [String])] = [
        (0, ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
             "net.ipv4.ping_group_range"]),
        (27, ["net.ipv4.ip_local_reserved_ports"]),
        (29, ["net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"]),
        (32, ["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]),
    ]

    static func safeSysctls(minor: Int) -> Set<String> {
        Set(safeSysctlsSince.filter { $0.minor <= minor }.flatMap(\.names))
    }

    static let allowedSELinuxTypes: Set<String> = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]

    static let all: [PodSecurityCheck] = [
        PodSecurityCheck("hostNamespaces", .baseline) { pod in
            let set = ["hostNetwork", "hostPID", "hostIPC"].filter { pod.spec[$0].boolValue == true }
            return set.isEmpty ? nil : V(reason: "host namespaces", detail: set.map { "\($0)=true" }.joined(separator: ", "))
        },
        PodSecurityCheck("privileged", .baseline) { pod in
            let bad = pod.containerNames { $0["securityContext"]["privileged"].boolValue == true }
            return bad.isEmpty ? nil : V(reason: "privileged", detail: "\(Words.containers(bad)) must not set securityContext.privileged=true")
        },
        PodSecurityCheck("capabilities_baseline", .baseline) { pod in
            var bad: [String] = [], caps = Set<String>()
            for c in pod.containers {
                let added = (c["securityContext"]["capabilities"]["add"].arrayValue ?? []).compactMap(\.stringValue).filter { !defaultCapabilities.contains($0) }
                if !added.isEmpty { bad.append(c["name"].stringValue ?? ""); caps.formUnion(added) }
            }
            return bad.isEmpty ? nil : V(reason: "non-default capabilities",
                                         detail: "\(Words.containers(bad)) must not include \(Words.quoted(caps.sorted())) in securityContext.capabilities.add")
        },
        PodSecurityCheck("hostPathVolumes", .baseline) { pod in
            let bad = (pod.spec["volumes"].arrayValue ?? []).filter { !$0["hostPath"].isNull }.map { $0["name"].stringValue ?? "" }
            return bad.isEmpty ? nil : V(reason: "hostPath volumes", detail: "\(Words.plural("volume", "volumes", bad.count)) \(Words.quoted(bad))")
        },
        PodSecurityCheck("hostPorts", .baseline) { pod in
            var bad: [String] = [], ports: [String] = []
            for c in pod.containers {
                let used = (c["ports"].arrayValue ?? []).compactMap { $0["hostPort"].intValue }.filter { $0 != 0 }
                if !used.isEmpty { bad.append(c["name"].stringValue ?? ""); ports += used.map(String.init) }
            }
            return bad.isEmpty ? nil : V(reason: "hostPort", detail: "\(Words.containers(bad)) \(Words.plural("uses", "use", bad.count)) "
                                         + "\(Words.plural("hostPort", "hostPorts", ports.count)) \(ports.joined(separator: ", "))")
        },
        PodSecurityCheck("procMount", .baseline) { pod in
            let bad = pod.containers.filter { ($0["securityContext"]["procMount"].stringValue ?? "Default") != "Default" }
            guard !bad.isEmpty else { return nil }
            let values = Set(bad.compactMap { $0["securityContext"]["procMount"].stringValue }).sorted()
            return V(reason: "procMount", detail: "\(Words.containers(bad.map { $0["name"].stringValue ?? "" })) must not set securityContext.procMount to \(Words.quoted(values))")
        },
        PodSecurityCheck("seccompProfile_baseline", .baseline, since: 19) { pod in
            var parts: [String] = []
            if pod.podContext["seccompProfile"]["type"].stringValue == "Unconfined" {
                parts.append("pod must not set securityContext.seccompProfile.type to \"Unconfined\"")
            }
            let bad = pod.containerNames { $0["securityContext"]["seccompProfile"]["type"].stringValue == "Unconfined" }
            if !bad.isEmpty { parts.append("\(Words.containers(bad)) must not set securityContext.seccompProfile.type to \"Unconfined\"") }
            return parts.isEmpty ? nil : V(reason: "seccompProfile", detail: parts.joined(separator: "; "))
        },
        PodSecurityCheck("appArmorProfile", .baseline) { pod in
            var parts: [String] = []
            func bad(_ profile: JSONValue) -> Bool { profile["type"].stringValue == "Unconfined" }
            if bad(pod.podContext["appArmorProfile"]) { parts.append("pod must not set securityContext.appArmorProfile.type to \"Unconfined\"") }
            let containers = pod.containerNames { bad($0["securityContext"]["appArmorProfile"]) }
            if !containers.isEmpty { parts.append("\(Words.containers(containers)) must not set securityContext.appArmorProfile.type to \"Unconfined\"") }
            for (key, value) in pod.metadata.annotations.sorted(by: { $0.key < $1.key })
            where key.hasPrefix("container.apparmor.security.beta.kubernetes.io/") && value != "runtime/default" && !value.hasPrefix("localhost/") {
                parts.append("annotation \"\(key)\"=\"\(value)\"")
            }
            return parts.isEmpty ? nil : V(reason: "forbidden AppArmor profiles", detail: parts.joined(separator: ", "))
        },
        PodSecurityCheck("seLinuxOptions", .baseline) { pod in
            func problems(_ options: JSONValue) -> [String] {
                var found: [String] = []
                if let type = options["type"].stringValue, !allowedSELinuxTypes.contains(type) { found.append("type \"\(type)\"") }
                if let user = options["user"].stringValue, !user.isEmpty { found.append("user \"\(user)\"") }
                if let role = options["role"].stringValue, !role.isEmpty { found.append("role \"\(role)\"") }
                return found
            }
            let podProblems = problems(pod.podContext["seLinuxOptions"])
            var names: [String] = [], all = podProblems
            for c in pod.containers {
                let found = problems(c["securityContext"]["seLinuxOptions"])
                if !found.isEmpty { names.append(c["name"].stringValue ?? ""); all += found.filter { !all.contains($0) } }
            }
            guard !all.isEmpty else { return nil }
            return V(reason: "seLinuxOptions", detail: "\(Words.podAnd(pod: !podProblems.isEmpty, names)) set forbidden securityContext.seLinuxOptions: "
                     + all.joined(separator: ", "))
        },
        PodSecurityCheck("sysctls", .baseline) { pod in
            let bad = (pod.podContext["sysctls"].arrayValue ?? []).compactMap { $0["name"].stringValue }.filter { !safeSysctls(minor: pod.minor).contains($0) }
            return bad.isEmpty ? nil : V(reason: "forbidden sysctls", detail: bad.joined(separator: ", "))
        },
        PodSecurityCheck("windowsHostProcess", .baseline) { pod in
            func set(_ context: JSONValue) -> Bool { context["windowsOptions"]["hostProcess"].boolValue == true }
            let names = pod.containerNames { set($0["securityContext"]) }
            let podSets = set(pod.podContext)
            guard podSets || !names.isEmpty else { return nil }
            return V(reason: "hostProcess", detail: "\(Words.podAnd(pod: podSets, names)) must not set securityContext.windowsOptions.hostProcess=true")
        },
    ]
}
