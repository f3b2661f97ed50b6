import TugAPIMachinery
import TugRuntime

/// Turns a pod's container (Kubernetes JSON) into what the runtime runs: argv from command/args and the image's
/// entrypoint/cmd, environment, working directory, user and groups, capabilities, cgroup limits and volume mounts.
struct ContainerConfigBuilder {
    let pod: JSONValue
    let environment: ContainerEnvironment
    /// Volume name → host directory or file, as the volume manager prepared them.
    let volumes: [String: PreparedVolume]
    let serviceEnv: [(String, String)]

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    func build(container: JSONValue, image: ResolvedImage, attempt: Int, logPath: String, terminationLog: String?) async throws -> ContainerConfig {
        var env = try await environment.build(container: container, imageEnv: image.env, serviceEnv: serviceEnv)
        let hostname = pod["spec"]["hostname"].stringValue ?? pod["metadata"]["name"].stringValue ?? ""
        if !env.contains(where: { $0.0 == "HOSTNAME" }) { env.insert(("HOSTNAME", hostname), at: 0) }
        if !env.contains(where: { $0.0 == "PATH" }) {
            env.insert(("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), at: 0)
        }
        let variables = Dictionary(env, uniquingKeysWith: { _, last in last })
        let expand = { (values: [String]) in values.map { ContainerEnvironment.expand($0, with: variables) } }

        let command = (container["command"].arrayValue ?? []).compactMap(\.stringValue)
        let args = (container["args"].arrayValue ?? []).compactMap(\.stringValue)
        var argv: [String]
        if !command.isEmpty {
            argv = expand(command) + expand(args)
        } else {
            argv = image.entrypoint + (container["args"] != .null ? expand(args) : image.cmd)
        }
        guard !argv.isEmpty else { throw Invalid(description: "no command specified") }

        var process = ContainerSpec.Process(args: argv, env: env.map { "\($0.0)=\($0.1)" })
        let workingDir = container["workingDir"].stringValue ?? ""
        process.cwd = !workingDir.isEmpty ? workingDir : (image.workingDir.isEmpty ? "/" : image.workingDir)

        let podSecurity = pod["spec"]["securityContext"]
        let security = container["securityContext"]
        var groups = (podSecurity["supplementalGroups"].arrayValue ?? []).compactMap { $0.intValue.map(UInt32.init) }
        if let fsGroup = podSecurity["fsGroup"].intValue { groups.append(UInt32(fsGroup)) }
        process.additionalGids = groups
        let privileged = security["privileged"].boolValue == true
        process.capabilities = Self.capabilities(security["capabilities"])
        let addsAll = (security["capabilities"]["add"].arrayValue ?? []).contains { $0.stringValue.map(Self.normalize) == "ALL" }
        process.noNewPrivileges = security["allowPrivilegeEscalation"].boolValue != true && !privileged

        var config = ContainerConfig(name: container["name"].stringValue ?? "", attempt: attempt, image: image, process: process, logPath: logPath)
        config.runAsUser = (security["runAsUser"].intValue ?? podSecurity["runAsUser"].intValue).map { UInt32($0) }
        config.runAsGroup = (security["runAsGroup"].intValue ?? podSecurity["runAsGroup"].intValue).map { UInt32($0) }
        config.privileged = privileged
        config.allCapabilities = addsAll
        config.readOnlyRoot = security["readOnlyRootFilesystem"].boolValue == true
        config.resources = Self.resources(container["resources"])
        config.tty = container["tty"].boolValue == true
        config.stdin = container["stdin"].boolValue == true
        config.stdinOnce = container["stdinOnce"].boolValue == true
        config.mounts = try mounts(container)
        if let terminationLog {
            let path = container["terminationMessagePath"].stringValue ?? "/dev/termination-log"
            config.mounts.append(.bind(terminationLog, at: path, readOnly: false))
        }
        return config
    }

    func mounts(_ container: JSONValue) throws -> [ContainerSpec.Mount] {
        try (container["volumeMounts"].arrayValue ?? []).map { mount in
            let name = mount["name"].stringValue ?? ""
            guard let volume = volumes[name] else { throw Invalid(description: "volume \"\(name)\" is not prepared") }
            var source = volume.path
            if let sub = mount["subPath"].stringValue, !sub.isEmpty {
                guard !sub.hasPrefix("/"), !sub.split(separator: "/").contains("..") else {
                    throw Invalid(description: "subPath \"\(sub)\" must be a relative path without \"..\"")
                }
                source += "/" + sub
            }
            let readOnly = mount["readOnly"].boolValue == true || volume.readOnly
            return .bind(source, at: mount["mountPath"].stringValue ?? "", readOnly: readOnly)
        }
    }

    /// Docker's defaults, then `drop` (`ALL` empties the set), then `add`.
    static func capabilities(_ spec: JSONValue) -> [String] {
        var set = OCISpec.defaultCapabilities
        let drop = (spec["drop"].arrayValue ?? []).compactMap(\.stringValue).map(normalize)
        let add = (spec["add"].arrayValue ?? []).compactMap(\.stringValue).map(normalize)
        if drop.contains("ALL") { set = [] } else { set.removeAll { drop.contains($0) } }
        if add.contains("ALL") { return OCISpec.allCapabilities }
        for cap in add where !set.contains(cap) { set.append(cap) }
        return set
    }

    static func normalize(_ capability: String) -> String {
        let upper = capability.uppercased()
        return upper.hasPrefix("CAP_") ? String(upper.dropFirst(4)) : upper
    }

    /// CPU shares from the request (2 when none, as for BestEffort pods), CFS quota from the limit (100 ms period),
    /// memory limit in bytes — the kubelet's conversions.
    static func resources(_ resources: JSONValue) -> ContainerSpec.Resources {
        var result = ContainerSpec.Resources()
        let cpuLimit = resources["limits"]["cpu"].stringValue.flatMap(Quantity.parse)
        let cpuRequest = resources["requests"]["cpu"].stringValue.flatMap(Quantity.parse) ?? cpuLimit
        if let request = cpuRequest {
            // cgroup v1 shares range 2...262144 (runc maps them onto cpu.weight).
            result.cpuShares = UInt64(min(262_144, max(2, Quantity.saturating((request.milliValue * 1024 / 1000).rounded(.down)))))
        } else {
            result.cpuShares = 2
        }
        if let limit = cpuLimit, limit.milliValue > 0 {
            result.cpuPeriod = 100_000
            result.cpuQuota = max(1000, Quantity.saturating((limit.milliValue * 100_000 / 1000).rounded(.down)))
        }
        if let memory = resources["limits"]["memory"].stringValue.flatMap(Quantity.parse) {
            result.memoryLimit = Quantity.saturating((memory.milliValue / 1000).rounded(.down))
        }
        return result
    }
}
