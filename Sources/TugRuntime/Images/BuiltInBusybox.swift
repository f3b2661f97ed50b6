import Foundation
import TugAPIMachinery
import TugOS

/// The `busybox` image every node has out of the box, built from Debian's busybox-static: one deterministic layer
/// with `/bin/busybox`, a symlink per applet, `/etc/passwd` and `/etc/group`, and the usual empty directories.
public enum BuiltInBusybox {
    public static let reference = "docker.io/library/busybox:latest"

    /// Builds the layer; `applets` is what `busybox --list` prints (one name per line).
    public static func layer(busybox: [UInt8], applets: [String]) -> [UInt8] {
        var tar = TarWriter()
        for dir in ["bin", "dev", "etc", "home", "proc", "root", "sys", "tmp", "usr", "usr/bin", "var", "var/log"] {
            tar.directory(dir, mode: dir == "tmp" ? 0o1777 : (dir == "root" ? 0o700 : 0o755))
        }
        tar.file("bin/busybox", contents: busybox, mode: 0o755)
        for applet in Set(applets).sorted() where applet != "busybox" && !applet.isEmpty && !applet.contains("/") {
            tar.symlink("bin/\(applet)", target: "busybox")
        }
        tar.file("etc/passwd", contents: Array("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n".utf8))
        tar.file("etc/group", contents: Array("root:x:0:\nnobody:x:65534:\n".utf8))
        return tar.finish()
    }

    public static let config: JSONValue = [
        "config": ["Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]],
        "history": [["created_by": "tug: built from Debian busybox-static"]],
    ]

    /// Makes sure `busybox` exists in the store, building it from the host's busybox-static binary when missing.
    @discardableResult
    public static func ensure(in store: ImageStore, busyboxPath: String = "/usr/bin/busybox", runner: any CommandRunner = ProcessCommandRunner()) async throws -> Digest {
        if let existing = try store.resolve(reference) { return existing }
        guard let binary = FileManager.default.contents(atPath: busyboxPath) else {
            throw ImageReference.Invalid(description: "\(busyboxPath) not found: install busybox-static (make deps)")
        }
        let list = try await runner.output(Command([busyboxPath, "--list"], timeout: .seconds(10)))
        let applets = list.stdoutText.split(separator: "\n").map(String.init)
        let manifest = try store.store(layer: layer(busybox: [UInt8](binary), applets: applets), config: config, architecture: hostArchitecture)
        try store.tag(reference, manifest: manifest)
        return manifest
    }

    static var hostArchitecture: String {
        #if arch(x86_64)
        return "amd64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "unknown"
        #endif
    }
}
