import TugAPIMachinery
import TugRuntime

/// Makes an image available according to the container's imagePullPolicy.
protocol ImageProvider: Sendable {
    /// `willPull` is called just before a pull starts (the kubelet's "Pulling image" event); the result says how long
    /// the pull took, nil when the image was already present.
    func ensure(_ reference: String, policy: String, willPull: @Sendable () -> Void) async throws -> (image: ResolvedImage, pulled: Duration?)
}

/// Why an image is not available, as the kubelet reports it (`ErrImagePull`, `ErrImageNeverPull`).
struct ImageUnavailable: Error, CustomStringConvertible {
    var reason: String
    var description: String
}

/// Images from the node's store, pulled from their registry as imagePullPolicy says. Images that were built here or
/// imported (`busybox`, `tug images import`) have no registry to ask, so `Always` uses the stored copy for them.
struct LocalImageProvider: ImageProvider {
    let store: ImageStore
    /// Pulls from a registry; nil until the node can reach one.
    let pull: (@Sendable (String) async throws -> Void)?

    func ensure(_ reference: String, policy: String, willPull: @Sendable () -> Void) async throws -> (image: ResolvedImage, pulled: Duration?) {
        let local = try store.resolvedImage(reference)
        if let local, policy != "Always" || isLocalOnly(reference) { return (local, nil) }
        if policy == "Never" {
            throw ImageUnavailable(reason: "ErrImageNeverPull", description: "Container image \"\(reference)\" is not present with pull policy of Never")
        }
        guard let pull else {
            if let local { return (local, nil) }
            throw ImageUnavailable(reason: "ErrImagePull", description: "image \"\(reference)\" is not on this node; load it with `tug images import`")
        }
        willPull()
        let started = ContinuousClock.now
        do {
            try await pull(reference)
        } catch {
            throw ImageUnavailable(reason: "ErrImagePull", description: "failed to pull image \"\(reference)\": \(error)")
        }
        guard let pulled = try store.resolvedImage(reference) else {
            throw ImageUnavailable(reason: "ErrImagePull", description: "image \"\(reference)\" not found after pull")
        }
        return (pulled, ContinuousClock.now - started)
    }

    func isLocalOnly(_ reference: String) -> Bool {
        (try? ImageReference(parsing: reference).description) == BuiltInBusybox.reference || store.isLocalOnly(reference)
    }
}
