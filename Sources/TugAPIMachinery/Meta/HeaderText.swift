/// Header values read without Foundation: `trimmingCharacters(in:)` bridges each string to NSString, which on the
/// request path (every bearer token and content type) cost more than the rest of authentication.
public enum HeaderText {
    /// `text` without the spaces and tabs around it (HTTP's optional whitespace).
    public static func trimmed(_ text: Substring) -> Substring {
        let isBlank = { (c: Character) in c == " " || c == "\t" }
        guard let first = text.firstIndex(where: { !isBlank($0) }), let last = text.lastIndex(where: { !isBlank($0) }) else { return "" }
        return text[first...last]
    }

    /// The media type of a Content-Type value, lowercased and without parameters: `application/json` for
    /// `Application/JSON; charset=utf-8`.
    public static func mediaType(_ contentType: String) -> String {
        guard let base = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first else { return "" }
        return trimmed(base).lowercased()
    }
}
