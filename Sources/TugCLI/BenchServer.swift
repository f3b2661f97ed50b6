import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TugClient

/// Starting the processes a benchmark measures: a `tug server` (or `tug agent`) from this very binary, in a data
/// dir of the benchmark's own.
enum BenchServer {
    static var executable: String { URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path }

    static func spawn(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        BenchChildren.adopt(process.processIdentifier)
        return process
    }

    /// Starts `tug server` and returns it with a client once `/readyz` answers, and how long that took.
    static func start(dataDir: String, port: Int, arguments: [String], maxConnections: Int = 32) async throws -> (Process, RESTClient, Duration) {
        let started = ContinuousClock.now
        let process = try spawn(["server", "--data-dir", dataDir, "--https-port", String(port), "--log-level", "warning"] + arguments)
        let kubeconfigPath = "\(dataDir)/admin.kubeconfig"
        var client: RESTClient?
        let deadline = started + .seconds(30)
        while ContinuousClock.now < deadline {
            if client == nil, FileManager.default.fileExists(atPath: kubeconfigPath), let config = try? Kubeconfig.load(path: kubeconfigPath) {
                client = try RESTClient(kubeconfig: config, maxConnections: maxConnections)
            }
            // Wait for the listener with plain connect() first: the HTTP client's pool backs off after refused connects,
            // which would add its own delay to the figure.
            if let client, FreePort.isListening(port), let r = try? await client.request(.GET, "/readyz", timeout: .milliseconds(200)), r.status == 200 {
                return (process, client, ContinuousClock.now - started)
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        kill(process.processIdentifier, SIGKILL)
        throw CommandFailure("the benchmark server did not become ready within 30s")
    }

    /// Deletes the pods, stops agent and server, and `tug reset`s the data dir (containers, mounts, veths, bridge).
    static func tearDown(client: RESTClient, server: Process, agent: Process?, dataDir: String) async {
        _ = try? await client.request(.DELETE, "/api/v1/namespaces/default/pods?gracePeriodSeconds=0")
        try? await client.shutdown()
        if let agent { try? await APIBench.stop(agent) }
        try? await APIBench.stop(server)
        if let reset = try? spawn(["reset", "--data-dir", dataDir]) {
            let deadline = ContinuousClock.now + .seconds(120)
            while reset.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }
}
