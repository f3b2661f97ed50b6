public import Foundation
public import TugAPIMachinery

/// flowcontrol.apiserver.k8s.io/v1 PriorityLevelConfiguration: upstream's defaults (30 shares, 64 queues, hand of 8,
/// 50 per queue) and validation, including the shuffle-sharding entropy bound.
public struct PriorityLevelStrategy: ResourceStrategy {
    public init() {}

    public func applyDefaults(_ object: inout JSONValue) {
        switch object["spec"]["type"].stringValue {
        case "Limited":
            guard object["spec"]["limited"].objectValue != nil else { return }
            var limited = object["spec"]["limited"]
            if limited["nominalConcurrencyShares"].isNull { limited["nominalConcurrencyShares"] = 30 }
            if limited["lendablePercent"].isNull { limited["lendablePercent"] = 0 }
            if limited["limitResponse"]["type"] == "Queue" {
                var queuing = limited["limitResponse"]["queuing"].objectValue == nil ? JSONValue.emptyObject : limited["limitResponse"]["queuing"]
                for (field, value) in [("queues", 64), ("handSize", 8), ("queueLengthLimit", 50)] where queuing[field].isNull {
                    queuing[field] = .int(Int64(value))
                }
                limited["limitResponse"]["queuing"] = queuing
            }
            object["spec"]["limited"] = limited
        case "Exempt":
            guard object["spec"]["exempt"].objectValue != nil else { return }
            if object["spec"]["exempt"]["nominalConcurrencyShares"].isNull { object["spec"]["exempt"]["nominalConcurrencyShares"] = 0 }
            if object["spec"]["exempt"]["lendablePercent"].isNull { object["spec"]["exempt"]["lendablePercent"] = 0 }
        default:
            break
        }
    }

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        let spec = object["spec"]
        let limited = spec["limited"], exempt = spec["exempt"]
        switch spec["type"].stringValue {
        case "Exempt":
            if object.name != "exempt" { errors.invalid("spec.type", "Exempt", "only 'exempt' priority level can be exempt") }
            if !limited.isNull { errors.append(FieldError(.forbidden, field: "spec.limited", detail: "must be nil if the type is not Limited")) }
            Self.percent(exempt["lendablePercent"], "spec.exempt.lendablePercent", into: &errors)
            Self.nonNegative(exempt["nominalConcurrencyShares"], "spec.exempt.nominalConcurrencyShares", into: &errors)
        case "Limited":
            if object.name == "exempt" { errors.invalid("spec.type", "Limited", "type must be 'Exempt' if and only if name is 'exempt'") }
            if !exempt.isNull { errors.append(FieldError(.forbidden, field: "spec.exempt", detail: "must be nil if the type is Limited")) }
            guard limited.objectValue != nil else {
                errors.required("spec.limited", "must not be empty when type is Limited")
                break
            }
            Self.nonNegative(limited["nominalConcurrencyShares"], "spec.limited.nominalConcurrencyShares", into: &errors)
            Self.percent(limited["lendablePercent"], "spec.limited.lendablePercent", into: &errors)
            Self.nonNegative(limited["borrowingLimitPercent"], "spec.limited.borrowingLimitPercent", into: &errors)
            Self.validate(limitResponse: limited["limitResponse"], path: "spec.limited.limitResponse", into: &errors)
        default:
            errors.append(FieldError(.notSupported(["Exempt", "Limited"]), field: "spec.type", value: spec["type"]))
        }
        return errors
    }

    static func validate(limitResponse: JSONValue, path: String, into errors: inout FieldErrorList) {
        let queuing = limitResponse["queuing"]
        switch limitResponse["type"].stringValue {
        case "Reject":
            if !queuing.isNull { errors.append(FieldError(.forbidden, field: "\(path).queuing", detail: "must be nil if limited.limitResponse.type is not Limited")) }
        case "Queue":
            guard queuing.objectValue != nil else {
                errors.required("\(path).queuing", "must not be empty if limited.limitResponse.type is Limited")
                return
            }
            let queues = queuing["queues"].intValue ?? 0, hand = queuing["handSize"].intValue ?? 0
            if queues <= 0 { errors.invalid("\(path).queuing.queues", .int(queues), "must be positive") }
            if (queuing["queueLengthLimit"].intValue ?? 0) <= 0 {
                errors.invalid("\(path).queuing.queueLengthLimit", queuing["queueLengthLimit"], "must be positive")
            }
            if hand <= 0 { errors.invalid("\(path).queuing.handSize", .int(hand), "must be positive") }
            else if hand > queues { errors.invalid("\(path).queuing.handSize", .int(hand), "should not be greater than queues (\(queues))") }
            else if queues > 0, Double(hand) * log2(Double(queues)) > 60 {
                errors.invalid("\(path).queuing.handSize", .int(hand),
                               "required entropy bits of deckSize \(queues) and handSize \(hand) should not be greater than 60")
            }
        default:
            errors.append(FieldError(.notSupported(["Queue", "Reject"]), field: "\(path).type", value: limitResponse["type"]))
        }
    }

    static func nonNegative(_ value: JSONValue, _ path: String, into errors: inout FieldErrorList) {
        if let v = value.intValue, v < 0 { errors.invalid(path, .int(v), "must be a non-negative integer") }
    }

    static func percent(_ value: JSONValue, _ path: String, into errors: inout FieldErrorList) {
        if let v = value.intValue, !(0...100).contains(v) { errors.invalid(path, .int(v), "must be between 0 and 100, inclusive") }
    }

    public var columns: [TableColumn] {
        [.name, TableColumn("Type", description: "`type` indicates whether this priority level is subject to limitation on request execution."),
         TableColumn("NominalConcurrencyShares", description: "`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level."),
         TableColumn("Queues", description: "`queues` is the number of queues for this priority level."),
         TableColumn("HandSize", description: "`handSize` is a small positive number that configures the shuffle sharding of requests into queues."),
         TableColumn("QueueLengthLimit", description: "`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time."),
         .age]
    }

    public func cells(_ object: JSONValue, now: Date) -> [JSONValue] {
        let limited = object["spec"]["limited"], queuing = limited["limitResponse"]["queuing"]
        func show(_ v: JSONValue) -> JSONValue { v.intValue.map(JSONValue.int) ?? "<none>" }
        return [.string(object.name), .string(object["spec"]["type"].stringValue ?? ""), show(limited["nominalConcurrencyShares"]),
                show(queuing["queues"]), show(queuing["handSize"]), show(queuing["queueLengthLimit"]), TableColumn.age(object, now: now)]
    }
}
