import TugAPIMachinery

/// The resourceVersion-related options of a LIST or WATCH (`resourceVersion`, `resourceVersionMatch`,
/// `sendInitialEvents`, `continue`), validated as kube-apiserver's `ValidateListOptions` with the WatchList feature
/// on: a bad combination is a 422 Invalid `ListOptions` naming the field.
///
/// A watch starts in one of three ways:
/// - from the current state (synthetic ADDED events, then changes): a legacy watch without a resourceVersion or with
///   "0", and any `sendInitialEvents=true` watch (a streaming list). As upstream's `SetListOptionsDefaults` does, a
///   legacy watch counts as `sendInitialEvents=true`, so a client that allows bookmarks is told where the initial
///   state ends by a BOOKMARK annotated `k8s.io/initial-events-end: "true"` (client-go's WatchList reflector waits
///   for it);
/// - after a given resourceVersion (`resourceVersion=N`, with `sendInitialEvents` absent or false);
/// - from now, without the state (`sendInitialEvents=false` without a resourceVersion, or with "0").
struct ListOptions: Sendable, Equatable {
    enum WatchStart: Sendable, Equatable {
        /// The current state at a revision of at least `atLeast` (nil: any), then the changes after it.
        case initialState(atLeast: Int64?)
        case after(Int64)
        case now
    }

    var resourceVersion: Int64?
    var resourceVersionMatch: String?
    var sendInitialEvents: Bool?
    var allowWatchBookmarks: Bool

    static let initialEventsEndAnnotation = "k8s.io/initial-events-end"

    init(_ query: QueryParameters, watch: Bool) throws(StatusError) {
        resourceVersion = try query.integer("resourceVersion")
        resourceVersionMatch = query["resourceVersionMatch"].flatMap { $0.isEmpty ? nil : $0 }
        sendInitialEvents = query.optionalBool("sendInitialEvents")
        allowWatchBookmarks = query.bool("allowWatchBookmarks")
        let errors = watch ? validateWatch(continueToken: query["continue"]) : validateList(continueToken: query["continue"])
        if !errors.isEmpty {
            throw StatusError.invalid(kind: "ListOptions", group: "meta.k8s.io", name: "", errors: errors)
        }
        if watch, sendInitialEvents == nil, resourceVersionMatch == nil, (resourceVersion ?? 0) == 0 {
            sendInitialEvents = true
            resourceVersionMatch = Self.notOlderThan
        }
    }

    /// Where a watch with these options starts.
    var watchStart: WatchStart {
        let rv = resourceVersion.flatMap { $0 == 0 ? nil : $0 }
        switch sendInitialEvents {
        case true?: return .initialState(atLeast: rv)
        case false?: return rv.map { .after($0) } ?? .now
        case nil: return rv.map { .after($0) } ?? .initialState(atLeast: nil)
        }
    }

    /// Whether the end of the initial state is marked by a BOOKMARK (upstream sends it only to clients that allow
    /// bookmarks).
    var marksInitialEventsEnd: Bool { sendInitialEvents == true && allowWatchBookmarks }

    static let notOlderThan = "NotOlderThan"
    static let exact = "Exact"

    private func validateWatch(continueToken: String?) -> FieldErrorList {
        var errors = FieldErrorList()
        if sendInitialEvents != nil, resourceVersionMatch != Self.notOlderThan {
            errors.append(FieldError(.forbidden, field: "resourceVersionMatch",
                                     detail: "sendInitialEvents requires setting resourceVersionMatch to \(Self.notOlderThan)"))
        }
        if let match = resourceVersionMatch {
            if sendInitialEvents == nil {
                errors.append(FieldError(.forbidden, field: "resourceVersionMatch",
                                         detail: "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"))
            }
            if match != Self.notOlderThan {
                errors.append(FieldError(.notSupported([Self.notOlderThan]), field: "resourceVersionMatch", value: .string(match)))
            }
            if !(continueToken ?? "").isEmpty {
                errors.append(FieldError(.forbidden, field: "resourceVersionMatch", detail: "resourceVersionMatch is forbidden when continue is provided"))
            }
        }
        return errors
    }

    private func validateList(continueToken: String?) -> FieldErrorList {
        var errors = FieldErrorList()
        if let match = resourceVersionMatch {
            if resourceVersion == nil {
                errors.append(FieldError(.forbidden, field: "resourceVersionMatch", detail: "resourceVersionMatch is forbidden unless resourceVersion is provided"))
            }
            if !(continueToken ?? "").isEmpty {
                errors.append(FieldError(.forbidden, field: "resourceVersionMatch", detail: "resourceVersionMatch is forbidden when continue is provided"))
            }
            if match != Self.exact, match != Self.notOlderThan {
                errors.append(FieldError(.notSupported([Self.exact, Self.notOlderThan, ""]), field: "resourceVersionMatch", value: .string(match)))
            }
            if match == Self.exact, resourceVersion == 0 {
                errors.append(FieldError(.forbidden, field: "resourceVersionMatch", detail: "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""))
            }
        }
        if sendInitialEvents != nil {
            errors.append(FieldError(.forbidden, field: "sendInitialEvents", detail: "sendInitialEvents is forbidden for list"))
        }
        return errors
    }
}
