import Foundation
import TugAPIMachinery
import TugOS

/// A CNI network configuration list run plugin by plugin, as the CNI spec (1.0.0) prescribes: ADD in order with
/// each plugin's result passed on as `prevResult`, DEL in reverse with the cached result. Results are cached per
/// attachment so DEL works after an agent restart.
public struct CNINetwork: Sendable {
    public let configList: JSONValue
    public let pluginDirectories: [String]
    public let cacheDirectory: String
    let runner: any CommandRunner

    public init(configList: JSONValue, pluginDirectories: [String] = ["/usr/lib/cni", "/opt/cni/bin"], cacheDirectory: String,
                runner: any CommandRunner) throws {
        self.configList = configList
        self.pluginDirectories = pluginDirectories
        self.cacheDirectory = cacheDirectory
        self.runner = runner
        try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
    }

    /// Tugboat's pod network: a `tug0` bridge acting as the pods' gateway, host-local addresses from the node's pod
    /// CIDR, loopback, and portmap for hostPort. No masquerading: pod traffic is never NATed off the machine.
    public static func podNetwork(podCIDR: String, bridge: String = "tug0", ipamDirectory: String) -> JSONValue {
        [
            "cniVersion": "1.0.0",
            "name": "tugboat",
            "plugins": [
                [
                    "type": "bridge", "bridge": .string(bridge), "isGateway": true, "ipMasq": false, "hairpinMode": true,
                    "ipam": [
                        "type": "host-local", "dataDir": .string(ipamDirectory),
                        "ranges": [[["subnet": .string(podCIDR)]]],
                        "routes": [["dst": "0.0.0.0/0"]],
                    ],
                ],
                ["type": "portmap", "capabilities": ["portMappings": true]],
            ],
        ]
    }

    /// The loopback plugin alone, run on every pod's `lo`.
    public static let loopback: JSONValue = ["cniVersion": "1.0.0", "name": "cni-loopback", "plugins": [["type": "loopback"]]]

    public struct PortMapping: Sendable, Hashable, Codable {
        public var hostPort: Int
        public var containerPort: Int
        public var proto: String
        public var hostIP: String?

        public init(hostPort: Int, containerPort: Int, proto: String, hostIP: String? = nil) {
            self.hostPort = hostPort
            self.containerPort = containerPort
            self.proto = proto
            self.hostIP = hostIP
        }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Attaches the network namespace at `netns`; returns the CNI result (its `ips` carry the pod's addresses).
    public func add(containerID: String, netns: String, ifName: String = "eth0", portMappings: [PortMapping] = []) async throws -> JSONValue {
        var previous: JSONValue? = nil
        let name = configList["name"].stringValue ?? "tugboat"
        for plugin in configList["plugins"].arrayValue ?? [] {
            let config = pluginConfig(plugin, previous: previous, portMappings: portMappings)
            previous = try await invoke("ADD", config: config, containerID: containerID, netns: netns, ifName: ifName)
        }
        let result = previous ?? [:]
        try Data(JSONWriter.bytes(result)).write(to: URL(fileURLWithPath: cachePath(name: name, containerID: containerID, ifName: ifName)), options: .atomic)
        return result
    }

    /// Detaches (best effort across plugins: every plugin runs, the first error is reported). `netns` may be gone.
    public func delete(containerID: String, netns: String?, ifName: String = "eth0", portMappings: [PortMapping] = []) async throws {
        let name = configList["name"].stringValue ?? "tugboat"
        let cache = cachePath(name: name, containerID: containerID, ifName: ifName)
        let cached = FileManager.default.contents(atPath: cache).flatMap { try? JSONParser.parseValue([UInt8]($0)) }
        var firstError: (any Error)? = nil
        for plugin in (configList["plugins"].arrayValue ?? []).reversed() {
            let config = pluginConfig(plugin, previous: cached, portMappings: portMappings)
            do {
                _ = try await invoke("DEL", config: config, containerID: containerID, netns: netns ?? "", ifName: ifName)
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        try? FileManager.default.removeItem(atPath: cache)
    }

    func cachePath(name: String, containerID: String, ifName: String) -> String {
        "\(cacheDirectory)/\(name)-\(containerID)-\(ifName).json"
    }

    func pluginConfig(_ plugin: JSONValue, previous: JSONValue?, portMappings: [PortMapping]) -> JSONValue {
        var config = plugin
        config["cniVersion"] = configList["cniVersion"]
        config["name"] = configList["name"]
        if let previous { config["prevResult"] = previous }
        if plugin["capabilities"]["portMappings"].boolValue == true {
            config["runtimeConfig"] = ["portMappings": .array(portMappings.map { mapping in
                var entry: JSONValue = ["hostPort": .int(Int64(mapping.hostPort)), "containerPort": .int(Int64(mapping.containerPort)),
                                        "protocol": .string(mapping.proto.lowercased())]
                if let hostIP = mapping.hostIP { entry["hostIP"] = .string(hostIP) }
                return entry
            })]
        }
        return config
    }

    func invoke(_ verb: String, config: JSONValue, containerID: String, netns: String, ifName: String) async throws -> JSONValue? {
        guard let type = config["type"].stringValue,
              let binary = pluginDirectories.map({ "\($0)/\(type)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "CNI plugin \(config["type"].stringValue ?? "?") not found in \(pluginDirectories.joined(separator: ", ")) (install containernetworking-plugins)")
        }
        var environment = Command.defaultEnvironment
        environment["CNI_COMMAND"] = verb
        environment["CNI_CONTAINERID"] = containerID
        environment["CNI_NETNS"] = netns
        environment["CNI_IFNAME"] = ifName
        environment["CNI_PATH"] = pluginDirectories.joined(separator: ":")
        let result = try await runner.run(Command([binary], environment: environment, timeout: .seconds(30), stdin: JSONWriter.bytes(config)))
        let output = result.stdout.isEmpty ? nil : try? JSONParser.parseValue(result.stdout)
        guard result.status == 0 else {
            // Plugins report errors as JSON: {"code": …, "msg": …, "details": …}.
            let message = output?["msg"].stringValue.map { msg in
                msg + (output?["details"].stringValue.map { ": \($0)" } ?? "")
            } ?? result.stderrText
            throw Failure(description: "CNI \(type) \(verb): \(message)")
        }
        return output
    }
}
