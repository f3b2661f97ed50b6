public import ArgumentParser

/// `tug`: the Tugboat binary. One executable, subcommands per role, as k3s does.
public struct TugCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tug",
        abstract: "Tugboat: a Kubernetes-compatible container platform in one binary.",
        subcommands: [ServerCommand.self, AgentCommand.self, ResetCommand.self, DoctorCommand.self, ImagesCommand.self, SimCommand.self, BenchCommand.self, SecretsEncryptCommand.self, CertificateCommand.self]
    )

    public init() {}
}

/// A subcommand whose work is asynchronous. `main` calls `execute()` directly: going through
/// `AsyncParsableCommand.run()` on an existential resolves to the synchronous default and prints help.
public protocol TugSubcommand: ParsableCommand {
    func execute() async throws
}

/// A runtime failure of a command (not a usage error): printed as `Error: <description>`, without usage help.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
