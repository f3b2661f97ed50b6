import TugAPIMachinery
import TugControllerRuntime

/// The routing table of the built-in ingress controller, built from the Ingresses of its class with their
/// Services, EndpointSlices and TLS Secrets (an immutable value, swapped whole on change):
///
/// - rules match the request's host exactly, then by wildcard (`*.example.com`: one label), then rules without a
///   host; within them the longest matching path wins, Exact before Prefix; Prefix matches whole path elements
///   (`/foo` matches `/foo` and `/foo/bar`, not `/foobar`); ImplementationSpecific is treated as Prefix;
/// - with no match, the `defaultBackend` of an Ingress (the oldest that has one) serves, else 404;
/// - a backend is the ready endpoints of the Service port, which the proxy balances over.
public struct IngressRoutes: Sendable {
    public struct Backend: Sendable, Hashable {
        public var namespace: String
        public var service: String
        /// The Service port, as the Ingress names it (a number or a name).
        public var port: String
        /// `ip:port` of each ready endpoint.
        public var endpoints: [String]
    }

    struct PathRule: Sendable {
        var path: String
        var exact: Bool
        var backend: Backend
    }

    public struct Certificate: Sendable, Hashable {
        public var certificatePEM: String
        public var keyPEM: String
    }

    var exactHosts: [String: [PathRule]] = [:]
    var wildcardHosts: [String: [PathRule]] = [:]
    var anyHost: [PathRule] = []
    var defaultBackend: Backend?
    /// TLS certificates by host (wildcards as `*.example.com`).
    var certificates: [String: Certificate] = [:]

    public init() {}

    /// The routes of `ingresses` (already filtered to this controller's class).
    public init(ingresses: [JSONValue], services: [JSONValue], slices: [JSONValue], secrets: [JSONValue]) {
        var servicesByKey: JSONObject = [:]
        for service in services { servicesByKey["\(service.namespace)/\(service.name)"] = service }
        let slicesByService = EndpointSliceReading.byService(slices)
        var secretsByKey: JSONObject = [:]
        for secret in secrets { secretsByKey["\(secret.namespace)/\(secret.name)"] = secret }

        func backend(_ spec: JSONValue, namespace: String) -> Backend? {
            guard let name = spec["service"]["name"].stringValue else { return nil }
            let port = spec["service"]["port"]["name"].stringValue ?? spec["service"]["port"]["number"].intValue.map { String($0) } ?? ""
            let key = "\(namespace)/\(name)"
            return Backend(namespace: namespace, service: name, port: port,
                           endpoints: Self.endpoints(service: servicesByKey[key], port: port, slices: slicesByService[key] ?? []))
        }

        let ordered = ingresses.sorted {
            ($0["metadata"]["creationTimestamp"].stringValue ?? "", $0.namespace, $0.name) < ($1["metadata"]["creationTimestamp"].stringValue ?? "", $1.namespace, $1.name)
        }
        for ingress in ordered {
            let namespace = ingress.namespace
            if defaultBackend == nil, ingress["spec"]["defaultBackend"].objectValue != nil {
                defaultBackend = backend(ingress["spec"]["defaultBackend"], namespace: namespace)
            }
            for rule in ingress["spec"]["rules"].arrayValue ?? [] {
                let host = rule["host"].stringValue?.lowercased() ?? ""
                for path in rule["http"]["paths"].arrayValue ?? [] {
                    guard let target = backend(path["backend"], namespace: namespace) else { continue }
                    let entry = PathRule(path: path["path"].stringValue ?? "/", exact: path["pathType"].stringValue == "Exact", backend: target)
                    if host.isEmpty {
                        anyHost.append(entry)
                    } else if host.hasPrefix("*.") {
                        wildcardHosts[String(host.dropFirst(1)), default: []].append(entry)
                    } else {
                        exactHosts[host, default: []].append(entry)
                    }
                }
            }
            for tls in ingress["spec"]["tls"].arrayValue ?? [] {
                guard let name = tls["secretName"].stringValue, let secret = secretsByKey["\(namespace)/\(name)"],
                      let cert = secret["data"]["tls.crt"].stringValue.flatMap(Base64.decode).map({ String(decoding: $0, as: UTF8.self) }),
                      let key = secret["data"]["tls.key"].stringValue.flatMap(Base64.decode).map({ String(decoding: $0, as: UTF8.self) }) else { continue }
                for host in tls["hosts"].arrayValue?.compactMap(\.stringValue) ?? [] where certificates[host.lowercased()] == nil {
                    certificates[host.lowercased()] = Certificate(certificatePEM: cert, keyPEM: key)
                }
            }
        }
        // Longest path first; at equal length, Exact before Prefix. Stable, so the oldest Ingress wins a tie.
        func order(_ rules: [PathRule]) -> [PathRule] {
            rules.enumerated().sorted { a, b in
                (a.element.path.count, a.element.exact ? 1 : 0, -a.offset) > (b.element.path.count, b.element.exact ? 1 : 0, -b.offset)
            }.map(\.element)
        }
        exactHosts = exactHosts.mapValues(order)
        wildcardHosts = wildcardHosts.mapValues(order)
        anyHost = order(anyHost)
    }

    /// The backend for a request to `host` (a Host header: any port is ignored) and `path` (without the query),
    /// or nil for 404.
    public func route(host: String, path: String) -> Backend? {
        let name = Self.hostName(host)
        if let rules = exactHosts[name], let match = Self.match(rules, path) { return match }
        if let dot = name.firstIndex(of: "."), let rules = wildcardHosts[String(name[dot...])], let match = Self.match(rules, path) { return match }
        if let match = Self.match(anyHost, path) { return match }
        return defaultBackend
    }

    /// The certificate for a TLS server name, exact or by wildcard.
    public func certificate(for serverName: String) -> Certificate? {
        let name = serverName.lowercased()
        if let certificate = certificates[name] { return certificate }
        guard let dot = name.firstIndex(of: ".") else { return nil }
        return certificates["*" + name[dot...]]
    }

    static func hostName(_ host: String) -> String {
        var name = host.lowercased()
        if name.hasPrefix("[") { return name }
        if let colon = name.lastIndex(of: ":") { name = String(name[..<colon]) }
        return name.hasSuffix(".") ? String(name.dropLast()) : name
    }

    static func match(_ rules: [PathRule], _ path: String) -> Backend? {
        rules.first { rule in rule.exact ? rule.path == path : prefixMatches(rule.path, path) }?.backend
    }

    /// Kubernetes' Prefix: the rule's path elements are a prefix of the request's (`/` matches everything).
    static func prefixMatches(_ prefix: String, _ path: String) -> Bool {
        let want = prefix.split(separator: "/")
        let have = path.split(separator: "/")
        return want.count <= have.count && zip(want, have).allSatisfy { $0 == $1 }
    }

    /// The serving endpoints (`ip:port`) of the Service port `port` (number or name) of `service`.
    static func endpoints(service: JSONValue?, port: String, slices: [JSONValue]) -> [String] {
        guard let service else { return [] }
        let ports = service["spec"]["ports"].arrayValue ?? []
        guard let servicePort = ports.first(where: { $0["name"].stringValue == port || $0["port"].intValue.map { String($0) } == port }) else { return [] }
        let proto = (servicePort["protocol"].stringValue ?? "TCP").lowercased()
        return EndpointSliceReading.addresses(port: servicePort["name"].stringValue ?? "", proto: proto, in: slices).map(\.description)
    }
}
