/// What a selector-filtered watcher wants, checked by the store before an event is queued for it.
///
/// An event concerns the watcher when its object matches now or matched before: it is then ADDED, MODIFIED or
/// DELETED for that watcher (the API server decides which). Every other event is dropped where it is published
/// instead of waking the watch to be thrown away there: with 2,000 watches on one Deployment's pods each (of ten),
/// nine in ten wake-ups were for nothing, and queueing them was most of the time the store's writer spent on a batch.
public struct WatchFilter: Sendable {
    let matches: @Sendable (ObjectAttributes) -> Bool

    /// `matches` runs on the store's publishing path, once or twice per event: a selector match, nothing slower.
    public init(_ matches: @escaping @Sendable (ObjectAttributes) -> Bool) {
        self.matches = matches
    }

    func concerns(_ event: StorageEvent) -> Bool {
        matches(event.object.attributes) || event.previous.map { matches($0.attributes) } ?? false
    }
}
