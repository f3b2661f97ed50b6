import Glibc
import CTugShim
import TugCLI
import TugOS

// The container monitor is C and runs before anything else: it forks and must not start Swift's runtime threads.
if CommandLine.arguments.count > 1, CommandLine.arguments[1] == "__monitor" {
    exit(tug_monitor_main(CommandLine.argc - 1, CommandLine.unsafeArgv + 1))
}

ProcessLimits.raiseOpenFiles()
do {
    var command = try TugCommand.parseAsRoot()
    if let subcommand = command as? any TugSubcommand {
        try await subcommand.execute()
    } else {
        try command.run()
    }
} catch {
    TugCommand.exit(withError: error)
}
