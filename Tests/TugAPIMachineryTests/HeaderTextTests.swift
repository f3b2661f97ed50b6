import Testing
@testable import TugAPIMachinery

@Suite struct HeaderTextTests {
    @Test(arguments: [("abc", "abc"), ("  abc\t", "abc"), ("\t a b \t", "a b"), ("", ""), (" \t ", "")])
    func trimsOptionalWhitespaceOnly(_ input: String, _ expected: String) {
        #expect(HeaderText.trimmed(Substring(input)) == Substring(expected))
    }

    @Test(arguments: [("application/json", "application/json"), ("Application/JSON; charset=utf-8", "application/json"),
                      (" application/merge-patch+json ;x=1", "application/merge-patch+json"), ("", ""), (";charset=utf-8", "")])
    func mediaTypeDropsParametersAndCase(_ contentType: String, _ expected: String) {
        #expect(HeaderText.mediaType(contentType) == expected)
    }
}
