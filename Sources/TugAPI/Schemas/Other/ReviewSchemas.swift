public import TugAPIMachinery

/// authorization.k8s.io/v1 SubjectAccessReview and LocalSubjectAccessReview, authentication.k8s.io/v1
/// TokenReview: the review kinds one component asks about another user (field numbers of
/// `k8s.io/api/authorization/v1` and `authentication/v1` generated.proto).
public enum ReviewSchemas {
    static func subjectAccessReview(_ kind: String) -> TypeSchema {
        TypeSchema("io.k8s.api.authorization.v1.\(kind)", MetaSchemas.top([
            F("spec", .object(TypeSchema("io.k8s.api.authorization.v1.SubjectAccessReviewSpec", [
                F("resourceAttributes", .object(ClusterSchemas.resourceAttributes), 1, pointer: true),
                F("nonResourceAttributes", .object(ClusterSchemas.nonResourceAttributes), 2, pointer: true),
                F("user", .string, 3), F("groups", .array(.string), 4),
                // `extra` is map<string, ExtraValue{items}> in protobuf, which these tables do not model: JSON only.
                F("extra", .map(.array(.string))), F("uid", .string, 6),
            ])), 2),
            F("status", .object(ClusterSchemas.subjectAccessReviewStatus), 3),
        ]))
    }

    public static let subjectAccessReview = subjectAccessReview("SubjectAccessReview")
    public static let localSubjectAccessReview = subjectAccessReview("LocalSubjectAccessReview")

    public static let tokenReview = TypeSchema("io.k8s.api.authentication.v1.TokenReview", MetaSchemas.top([
        F("spec", .object(TypeSchema("io.k8s.api.authentication.v1.TokenReviewSpec", [F("token", .string, 1), F("audiences", .array(.string), 2)])), 2),
        F("status", .object(TypeSchema("io.k8s.api.authentication.v1.TokenReviewStatus", [
            F("authenticated", .bool, 1), F("user", .object(ClusterSchemas.userInfo), 2), F("error", .string, 3), F("audiences", .array(.string), 4),
        ])), 3),
    ]))
}
