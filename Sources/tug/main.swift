import TugCLI

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
