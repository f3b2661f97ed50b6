import Testing
import TugAPIMachinery
@testable import TugAPIServer

/// Streaming lists (`sendInitialEvents`, KEP-3157), as client-go's WatchList reflector (Helm 4's status watcher)
/// uses them, and the ListOptions rules kube-apiserver enforces around them.
@Suite struct StreamingListTests {
    static func lines(_ text: String) -> [JSONValue] {
        text.split(separator: "\n").compactMap { try? JSONParser.parseValue(String($0)) }
    }

    @Test func initialEventsEndWithAnAnnotatedBookmark() async throws {
        try await TestServer.run { client in
            for name in ["a", "b"] {
                _ = try await client.call(.post, "/api/v1/namespaces/default/configmaps", body: #"{"metadata":{"name":"\#(name)"}}"#)
            }
            let (_, list, _) = try await client.call(.get, "/api/v1/namespaces/default/configmaps")
            let listed = list["metadata"]["resourceVersion"].stringValue ?? ""
            let (code, _, text) = try await client.call(.get, "/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true"
                                                        + "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1")
            #expect(code == 200)
            let events = Self.lines(text)
            let added = events.filter { $0["type"] == "ADDED" }.compactMap { $0["object"]["metadata"]["name"].stringValue }
            #expect(Set(added).isSuperset(of: ["a", "b"]))
            let bookmark = try #require(events.first { $0["type"] == "BOOKMARK" })
            #expect(bookmark["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true")
            #expect(bookmark["object"]["metadata"]["resourceVersion"].stringValue == listed, "the bookmark names the state's revision")
            let addedAfterBookmark = events.drop { $0["type"] != "BOOKMARK" }.contains { $0["type"] == "ADDED" }
            #expect(!addedAfterBookmark, "every initial event precedes the bookmark")
        }
    }

    @Test func aLegacyWatchAllowingBookmarksIsToldWhereTheStateEnds() async throws {
        try await TestServer.run { client in
            let (_, _, text) = try await client.call(.get, "/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true&timeoutSeconds=1")
            #expect(Self.lines(text).contains { $0["type"] == "BOOKMARK" && $0["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true" })
            let (_, _, plain) = try await client.call(.get, "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1")
            #expect(!Self.lines(plain).contains { $0["type"] == "BOOKMARK" }, "no bookmark for a client that did not allow them")
        }
    }

    @Test func withoutInitialEventsOnlyLaterChangesArrive() async throws {
        try await TestServer.run { client in
            _ = try await client.call(.post, "/api/v1/namespaces/default/configmaps", body: #"{"metadata":{"name":"old"}}"#)
            let (_, _, text) = try await client.call(.get, "/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=false"
                                                     + "&resourceVersionMatch=NotOlderThan&timeoutSeconds=1")
            #expect(Self.lines(text).isEmpty)
        }
    }

    @Test func badCombinationsAreInvalidListOptions() async throws {
        try await TestServer.run { client in
            let cases: [(String, String)] = [
                ("watch=1&sendInitialEvents=true", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"),
                ("watch=1&resourceVersionMatch=NotOlderThan", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"),
                ("watch=1&sendInitialEvents=true&resourceVersionMatch=Exact", "Unsupported value: \"Exact\""),
                ("sendInitialEvents=true", "sendInitialEvents is forbidden for list"),
                ("resourceVersionMatch=NotOlderThan", "resourceVersionMatch is forbidden unless resourceVersion is provided"),
                ("resourceVersion=0&resourceVersionMatch=Exact", "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""),
            ]
            for (query, message) in cases {
                let (code, status, _) = try await client.call(.get, "/api/v1/namespaces/default/configmaps?" + query)
                #expect(code == 422, "\(query)")
                #expect(status["reason"] == "Invalid" && status["details"]["kind"] == "ListOptions", "\(query)")
                #expect(status["message"].stringValue?.contains(message) == true, "\(query): \(status["message"])")
                #expect(status["details"]["causes"][0]["field"].stringValue?.isEmpty == false, "\(query)")
            }
        }
    }

    @Test func aStateNewerThanTheServersIsTooLarge() async throws {
        try await TestServer.run { client in
            let (code, status, _) = try await client.call(.get, "/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true"
                                                          + "&resourceVersionMatch=NotOlderThan&resourceVersion=999999")
            #expect(code == 504)
            #expect(status["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge")
            #expect(status["details"]["retryAfterSeconds"] == 1)
        }
    }
}

/// Query booleans as apimachinery converts them: Python clients send `watch=True`.
@Suite struct QueryBooleanTests {
    @Test func anythingButZeroOrFalseIsTrue() {
        let query = QueryParameters("watch=True&a=0&b=FALSE&c=false&d=&e=1&f=yes")
        #expect(query.bool("watch"))
        #expect(!query.bool("a") && !query.bool("b") && !query.bool("c"))
        #expect(query.bool("d") && query.bool("e") && query.bool("f"))
        #expect(query.optionalBool("missing") == nil && !query.bool("missing"))
    }

    @Test func watchTrueCapitalizedWatches() async throws {
        try await TestServer.run { client in
            let (_, _, text) = try await client.call(.get, "/api/v1/namespaces/default/configmaps?watch=True&timeoutSeconds=1")
            #expect(StreamingListTests.lines(text).allSatisfy { $0["type"] == "ADDED" }, "watch events, not a list: \(text.prefix(200))")
            #expect(!text.contains("ConfigMapList"))
        }
    }
}
