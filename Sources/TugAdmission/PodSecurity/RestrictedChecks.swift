import TugAPIMachinery

/// The restricted level's checks on top of baseline: only the volume types a pod owns, no privilege escalation,
/// non-root users, RuntimeDefault or Localhost seccomp, and every capability dropped (NET_BIND_SERVICE may be added
/// back). Windows pods skip the Linux-only ones, as upstream.
enum RestrictedChecks {
    typealias V = PodSecurityCheck.Violation

    static let allowedVolumeTypes: Set<String> = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]

    static let all: [PodSecurityCheck] = [
        PodSecurityCheck("restrictedVolumes", .restricted, overrides: ["hostPathVolumes"]) { pod in
            var names: [String] = [], types: [String] = []
            for volume in pod.spec["volumes"].arrayValue ?? [] {
                let kinds = (volume.objectValue.map { Array($0.keys) } ?? []).filter { $0 != "name" }
                if let bad = kinds.first(where: { !allowedVolumeTypes.contains($0) }) {
                    names.append(volume["name"].stringValue ?? "")
                    if !types.contains(bad) { types.append(bad) }
                }
            }
            guard !names.isEmpty else { return nil }
            return V(reason: "restricted volume types", detail: "\(Words.plural("volume", "volumes", names.count)) \(Words.quoted(names)) "
                     + "\(Words.plural("uses", "use", names.count)) \(Words.plural("restricted volume type", "restricted volume types", types.count)) \(Words.quoted(types.sorted()))")
        },
        PodSecurityCheck("allowPrivilegeEscalation", .restricted, since: 8) { pod in
            guard !pod.isWindows else { return nil }
            let bad = pod.containerNames { $0["securityContext"]["allowPrivilegeEscalation"].boolValue != false }
            return bad.isEmpty ? nil : V(reason: "allowPrivilegeEscalation != false",
                                         detail: "\(Words.containers(bad)) must set securityContext.allowPrivilegeEscalation=false")
        },
        PodSecurityCheck("runAsNonRoot", .restricted) { pod in
            var parts: [String] = []
            let podValue = pod.podContext["runAsNonRoot"].boolValue
            if podValue == false { parts.append("pod must not set securityContext.runAsNonRoot=false") }
            let explicitlyFalse = pod.containerNames { $0["securityContext"]["runAsNonRoot"].boolValue == false }
            if !explicitlyFalse.isEmpty { parts.append("\(Words.containers(explicitlyFalse)) must not set securityContext.runAsNonRoot=false") }
            if podValue != true {
                let unset = pod.containerNames { $0["securityContext"]["runAsNonRoot"].boolValue == nil }
                if !unset.isEmpty {
                    parts.append("pod or \(Words.containers(unset)) must set securityContext.runAsNonRoot=true")
                }
            }
            return parts.isEmpty ? nil : V(reason: "runAsNonRoot != true", detail: parts.joined(separator: "; "))
        },
        PodSecurityCheck("runAsUser", .restricted, since: 23) { pod in
            var parts: [String] = []
            if pod.podContext["runAsUser"].intValue == 0 { parts.append("pod must not set runAsUser=0") }
            let bad = pod.containerNames { $0["securityContext"]["runAsUser"].intValue == 0 }
            if !bad.isEmpty { parts.append("\(Words.containers(bad)) must not set runAsUser=0") }
            return parts.isEmpty ? nil : V(reason: "runAsUser=0", detail: parts.joined(separator: "; "))
        },
        PodSecurityCheck("seccompProfile_restricted", .restricted, since: 19, overrides: ["seccompProfile_baseline"]) { pod in
            guard !pod.isWindows else { return nil }
            func valid(_ type: String?) -> Bool { type == "RuntimeDefault" || type == "Localhost" }
            var parts: [String] = []
            let podType = pod.podContext["seccompProfile"]["type"].stringValue
            if let podType, !valid(podType) { parts.append("pod must not set securityContext.seccompProfile.type to \"\(podType)\"") }
            var wrong: [String] = [], wrongTypes: [String] = [], unset: [String] = []
            for c in pod.containers {
                let type = c["securityContext"]["seccompProfile"]["type"].stringValue
                if let type, !valid(type) {
                    wrong.append(c["name"].stringValue ?? "")
                    if !wrongTypes.contains(type) { wrongTypes.append(type) }
                } else if type == nil, !valid(podType) {
                    unset.append(c["name"].stringValue ?? "")
                }
            }
            if !wrong.isEmpty {
                parts.append("\(Words.containers(wrong)) must not set securityContext.seccompProfile.type to \(Words.quoted(wrongTypes))")
            }
            if !unset.isEmpty {
                parts.append("pod or \(Words.containers(unset)) must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"")
            }
            return parts.isEmpty ? nil : V(reason: "seccompProfile", detail: parts.joined(separator: "; "))
        },
        PodSecurityCheck("capabilities_restricted", .restricted, since: 22, overrides: ["capabilities_baseline"]) { pod in
            guard !pod.isWindows else { return nil }
            var undropped: [String] = [], adding: [String] = [], added = Set<String>()
            for c in pod.containers {
                let caps = c["securityContext"]["capabilities"]
                let name = c["name"].stringValue ?? ""
                if !(caps["drop"].arrayValue ?? []).contains(.string("ALL")) { undropped.append(name) }
                let extra = (caps["add"].arrayValue ?? []).compactMap(\.stringValue).filter { $0 != "NET_BIND_SERVICE" }
                if !extra.isEmpty { adding.append(name); added.formUnion(extra) }
            }
            var parts: [String] = []
            if !undropped.isEmpty { parts.append("\(Words.containers(undropped)) must set securityContext.capabilities.drop=[\"ALL\"]") }
            if !adding.isEmpty {
                parts.append("\(Words.containers(adding)) must not include \(Words.quoted(added.sorted())) in securityContext.capabilities.add")
            }
            return parts.isEmpty ? nil : V(reason: "unrestricted capabilities", detail: parts.joined(separator: "; "))
        },
    ]
}
