import Testing
@testable import TugAPIMachinery

@Suite struct SelectorTests {
    let labels = ["app": "web", "tier": "front", "env": "prod"]

    static let cases: [(String, Bool)] = [
        ("app=web", true), ("app==web", true), ("app!=web", false), ("app in (web,db)", true), ("app notin (web)", false),
        ("app", true), ("!app", false), ("missing", false), ("!missing", true), ("app=web,tier=front", true), ("app=web,tier=back", false),
        ("", true), ("missing!=x", true), ("env in ( prod , dev )", true),
    ]

    @Test func matchesLabels() throws {
        for (selector, expected) in Self.cases {
            #expect(try LabelSelector.parse(selector).matches(labels) == expected, "\(selector)")
        }
    }

    @Test(arguments: ["=web", "app in web", "app in (a", "a b", "a,,b", "app=@"])
    func rejectsBadSyntax(_ selector: String) {
        #expect(throws: LabelSelector.ParseError.self) { try LabelSelector.parse(selector) }
    }

    @Test func buildsFromLabelSelectorObject() throws {
        let object: JSONValue = ["matchLabels": ["app": "web"], "matchExpressions": [["key": "env", "operator": "In", "values": ["prod"]]]]
        let selector = try LabelSelector.from(object)
        #expect(selector.matches(labels))
        #expect(selector.description == "app=web,env in (prod)")
    }

    @Test func fieldSelectors() throws {
        let fields = ["metadata.name": "x", "spec.nodeName": ""]
        #expect(try FieldSelector.parse("metadata.name=x").matches(fields))
        #expect(try FieldSelector.parse("metadata.name==x,spec.nodeName=").matches(fields))
        #expect(try !FieldSelector.parse("spec.nodeName!=").matches(fields))
        #expect(throws: FieldSelector.ParseError.self) { try FieldSelector.parse("metadata.name") }
    }
}
