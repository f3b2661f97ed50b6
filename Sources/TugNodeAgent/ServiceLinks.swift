import TugAPIMachinery

/// Docker-link style variables for Services, as the kubelet sets them: `WEB_SERVICE_HOST`, `WEB_SERVICE_PORT`,
/// `WEB_SERVICE_PORT_<NAME>`, `WEB_PORT`, `WEB_PORT_80_TCP{,_PROTO,_PORT,_ADDR}`, for every Service with a cluster IP.
enum ServiceLinks {
    static func variables(_ services: [JSONValue]) -> [(String, String)] {
        var out: [(String, String)] = []
        for service in services.sorted(by: { $0.name < $1.name }) {
            guard let ip = service["spec"]["clusterIP"].stringValue, !ip.isEmpty, ip != "None",
                  let ports = service["spec"]["ports"].arrayValue, let first = ports.first, let firstPort = first["port"].intValue else { continue }
            let prefix = service.name.uppercased().replacingOccurrences(of: "-", with: "_")
            let firstProto = (first["protocol"].stringValue ?? "TCP").lowercased()
            out.append(("\(prefix)_SERVICE_HOST", ip))
            out.append(("\(prefix)_SERVICE_PORT", String(firstPort)))
            for port in ports {
                guard let name = port["name"].stringValue, !name.isEmpty, let number = port["port"].intValue else { continue }
                out.append(("\(prefix)_SERVICE_PORT_\(name.uppercased().replacingOccurrences(of: "-", with: "_"))", String(number)))
            }
            out.append(("\(prefix)_PORT", "\(firstProto)://\(ip):\(firstPort)"))
            for port in ports {
                guard let number = port["port"].intValue else { continue }
                let proto = (port["protocol"].stringValue ?? "TCP")
                let stem = "\(prefix)_PORT_\(number)_\(proto.uppercased())"
                out.append((stem, "\(proto.lowercased())://\(ip):\(number)"))
                out.append(("\(stem)_PROTO", proto.lowercased()))
                out.append(("\(stem)_PORT", String(number)))
                out.append(("\(stem)_ADDR", ip))
            }
        }
        return out
    }
}
