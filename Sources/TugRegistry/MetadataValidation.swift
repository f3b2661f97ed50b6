import TugAPI
import TugAPIMachinery

/// Validation every object gets: name, namespace, labels, annotations, finalizers, owner references.
enum MetadataValidation {
    static func validate(_ object: JSONValue, definition d: ResourceDefinition) -> FieldErrorList {
        var errors = FieldErrorList()
        let name = object.name
        if name.isEmpty {
            errors.required("metadata.name", "name or generateName is required")
        } else {
            for m in d.strategy.nameErrors(name) { errors.invalid("metadata.name", .string(name), m) }
        }
        if d.namespaced, !NameValidation.isDNS1123Label(object.namespace) {
            errors.invalid("metadata.namespace", .string(object.namespace), NameValidation.dns1123LabelMessage)
        }
        for (key, value) in object.labels.sorted(by: { $0.key < $1.key }) {
            for m in NameValidation.qualifiedName(key) { errors.invalid("metadata.labels", .string(key), m) }
            for m in NameValidation.labelValue(value) { errors.invalid("metadata.labels", .string(value), m) }
        }
        var annotationBytes = 0
        for (key, value) in object.annotations.sorted(by: { $0.key < $1.key }) {
            for m in NameValidation.qualifiedName(key.lowercased()) { errors.invalid("metadata.annotations", .string(key), m) }
            annotationBytes += key.utf8.count + value.utf8.count
        }
        if annotationBytes > 256 * 1024 {
            errors.append(FieldError(.tooLong(256 * 1024), field: "metadata.annotations"))
        }
        for (i, f) in object.finalizers.enumerated() where !f.contains("/") && !["kubernetes", "foregroundDeletion", "orphan"].contains(f) {
            errors.invalid("metadata.finalizers[\(i)]", .string(f), "name is neither a standard finalizer name nor is it fully qualified")
        }
        for (i, ref) in object.ownerReferences.enumerated() {
            for field in ["apiVersion", "kind", "name", "uid"] where (ref[field].stringValue ?? "").isEmpty {
                errors.invalid("metadata.ownerReferences[\(i)].\(field)", ref[field], "\(field) must not be empty")
            }
        }
        return errors
    }
}
